"""Export audit (issue 8, security): every export of personal data or figures derived from it
writes an audit row saying who (OS user or --actor), what, how many rows and where, and files are
created 0600 (even over an existing world-readable file, even with a permissive umask)."""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.db.models import AuditEntry
from tests.fixtures.cli import run_dialer
from tests.reports.history import seed


@pytest.fixture
def db(sessions: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATA_DIR", str(tmp_path / "var"))
    seed(sessions)
    return str(sessions.kw["bind"].url.render_as_string(hide_password=False))


@pytest.fixture
def permissive_umask():  # type: ignore[no-untyped-def]
    old = os.umask(0)
    yield
    os.umask(old)


def _dialer(db_url: str, *args: str) -> Result:
    return run_dialer("--db-url", db_url, *args)


def _exports(sessions: sessionmaker[Session]) -> list[AuditEntry]:
    with sessions() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.kind == "export").order_by(AuditEntry.id)))


def test_given_an_html_report_over_a_world_readable_file_when_exported_by_an_actor_then_the_file_is_0600_and_audited(
        db: str, sessions: sessionmaker[Session], tmp_path: Path, permissive_umask: None) -> None:
    target = tmp_path / "m1.html"
    target.write_text("old")
    target.chmod(0o644)
    _dialer(db, "report", "m1", "--html", str(target), "--actor", "alice")
    assert target.stat().st_mode & 0o777 == 0o600
    (entry,) = _exports(sessions)
    assert (entry.actor, entry.reason, entry.detail["where"], entry.detail["rows"]) == \
        ("cli:alice", "kpis.html", str(target), 8)   # every call of the seeded history
    assert entry.campaign_id is not None


def test_given_json_and_compliance_exports_to_stdout_then_each_is_audited_under_the_os_user(
        db: str, sessions: sessionmaker[Session]) -> None:
    data = json.loads(_dialer(db, "report", "m1", "--json").output)
    _dialer(db, "compliance", "report", "m1", "--json")
    kpis, compliance = _exports(sessions)
    user = f"cli:{getpass.getuser()}"
    assert (kpis.actor, kpis.reason, kpis.detail["where"], kpis.detail["rows"]) == \
        (user, "kpis.json", "stdout", data["calls_placed"])
    assert (compliance.actor, compliance.reason, compliance.detail["where"]) == (user, "compliance.json", "stdout")
    assert compliance.detail["rows"] >= data["calls_placed"]


def test_given_an_import_with_bad_rows_when_skipped_then_the_rejects_file_is_0600_and_its_export_audited(
        db: str, sessions: sessionmaker[Session], tmp_path: Path, permissive_umask: None) -> None:
    source = tmp_path / "accounts.csv"
    source.write_text("account_id,name,phone,amount_due,due_date,currency,timezone,days_past_due\n"
                      "R1,Li Wei,13800138001,100.00,2026-11-01,CNY,Asia/Shanghai,21\n"
                      "R2,Zhang San,not-a-number,100.00,2026-11-01,CNY,Asia/Shanghai,21\n"
                      "R3,Wang Fang,13800138003,-5,2026-11-01,CNY,Asia/Shanghai,21\n", encoding="utf-8")
    rejects = tmp_path / "accounts.rejects.csv"
    rejects.write_text("stale")
    rejects.chmod(0o666)
    _dialer(db, "campaign", "import", "m1", str(source), "--skip-invalid")
    assert rejects.stat().st_mode & 0o777 == 0o600
    assert "Zhang San" in rejects.read_text(encoding="utf-8")
    (entry,) = [e for e in _exports(sessions) if e.reason == "import.rejects"]
    assert (entry.actor, entry.detail["rows"], entry.detail["where"]) == (f"cli:{getpass.getuser()}", 2, str(rejects))
