"""`dialer report` outputs (--json, --csv, --from/--to) and the nightly report files, on the
known history of tests/reports/history.py."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import load_profiles
from dialer.db.models import AuditEntry, Campaign
from dialer.db.session import transaction
from dialer.domain import CampaignState
from dialer.scheduling.nightly import previous_day, write_reports
from tests.fixtures.cli import run_dialer
from tests.reports.history import DAY_END, DAY_START, seed

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _dialer(db_url: str, *args: str, ok: bool = True) -> Result:
    return run_dialer("--db-url", db_url, *args, ok=ok)


@pytest.fixture
def db(sessions: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATA_DIR", str(tmp_path / "var"))
    seed(sessions)
    return str(sessions.kw["bind"].url.render_as_string(hide_password=False))


def test_given_a_day_in_beijing_time_when_reported_as_json_then_the_day_is_read_in_the_profile_zone(db: str) -> None:
    data = json.loads(_dialer(db, "report", "m1", "--from", "2026-11-16", "--to", "2026-11-17", "--json").output)
    assert (data["from"], data["to"]) == (DAY_START.astimezone(SHANGHAI).isoformat(),
                                          DAY_END.astimezone(SHANGHAI).isoformat())
    assert (data["calls_placed"], data["agent_occupancy"], data["promised_minor"]) == (7, 0.125, {"CNY": 13000})


def test_given_csv_when_reported_then_one_row_carries_per_currency_and_per_reason_columns(db: str) -> None:
    text = _dialer(db, "report", "m1", "--from", "2026-11-16", "--to", "2026-11-17", "--csv").output
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    row = rows[0]
    assert (row["calls_placed"], row["connect_rate"], row["promised_minor.CNY"], row["recovered_minor.CNY"],
            row["denials_by_reason.outside_window"], row["outcomes.human"]) == ("7", "0.7143", "13000", "5000", "4", "3")


def test_given_bad_periods_when_reported_then_the_option_and_the_fix_are_named(db: str) -> None:
    bad = _dialer(db, "report", "m1", "--from", "16/11/2026", ok=False).output
    assert "--from" in bad and "e.g. 2026-11-23" in bad
    backwards = _dialer(db, "report", "m1", "--from", "2026-11-17", "--to", "2026-11-16", ok=False).output
    assert "is not before --to" in backwards
    assert "see `dialer campaign list`" in _dialer(db, "report", "nope", ok=False).output
    assert "choose one of --json and --csv" in _dialer(db, "report", "m1", "--json", "--csv", ok=False).output
    unwritable = _dialer(db, "report", "m1", "--html", "/nonexistent/dir/m1.html", ok=False).output
    assert "/nonexistent/dir/m1.html: cannot write" in unwritable and "check the directory exists" in unwritable


def test_given_yesterday_in_beijing_when_the_nightly_job_runs_then_three_private_files_hold_that_day(
        sessions: sessionmaker[Session], tmp_path: Path) -> None:
    history = seed(sessions)
    with transaction(sessions) as session:   # paused at 20:00 by its hours: still reported
        session.get_one(Campaign, history.campaign_id).state = CampaignState.PAUSED
    now = datetime(2026, 11, 16, 16, 30, tzinfo=timezone.utc)   # 00:30 on the 17th in Beijing
    written = write_reports(sessions, now=now, book=ProfileBook(load_profiles()), directory=tmp_path / "reports")
    assert sorted(p.name for p in written) == ["m1-2026-11-16.csv", "m1-2026-11-16.html", "m1-2026-11-16.json"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in written)
    data = json.loads((tmp_path / "reports" / "m1-2026-11-16.json").read_text(encoding="utf-8"))
    assert (data["calls_placed"], data["denials_by_reason"]) == (7, {"outside_window": 4})
    assert "Hourly volume" in (tmp_path / "reports" / "m1-2026-11-16.html").read_text(encoding="utf-8")
    # a rerun the same night rewrites the same files; each run is audited as an export
    assert write_reports(sessions, now=now + timedelta(minutes=5), book=ProfileBook(load_profiles()),
                         directory=tmp_path / "reports") == written
    with sessions() as session:
        exports = list(session.scalars(select(AuditEntry).where(AuditEntry.kind == "export")))
    assert [e.detail["day"] for e in exports] == ["2026-11-16", "2026-11-16"]


def test_given_a_dst_change_when_taking_yesterday_then_the_day_is_23_hours_long() -> None:
    day, start, end = previous_day(datetime(2026, 3, 9, 12, tzinfo=timezone.utc), "America/New_York")
    assert str(day) == "2026-03-08" and end - start == timedelta(hours=23)

