"""`dialer status` names the node pacing each campaign when daemons are scaled out, and shows no
owner column for a single daemon (docs/scale-out.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main


def _status(campaigns: list[dict[str, object]]) -> dict[str, object]:
    return {"node": "a1", "pid": 1, "at": "2026-11-22T12:00:00+00:00", "stopped": False, "in_flight": 0,
            "telephony": {"component": "ari", "healthy": True, "detail": "up", "reconnects": 0},
            "summary": {}, "agents": [], "campaigns": campaigns}


def _campaign(name: str, owner: str | None) -> dict[str, object]:
    return {"campaign": name, "state": "running", "in_flight": 1, "wanted": 2, "placed": 3, "denied": 0,
            "owner": owner}


@pytest.mark.parametrize("owners, expected", [(["a2", "b"], ["a2", "b"]), ([None], [])])
def test_given_campaign_owners_in_the_status_file_then_the_table_names_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, owners: list[str | None], expected: list[str]) -> None:
    monkeypatch.setenv("DIALER_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "200")
    (tmp_path / "var").mkdir()
    campaigns = [_campaign(f"c{i}", owner) for i, owner in enumerate(owners)]
    (tmp_path / "var" / "daemon-status.json").write_text(json.dumps(_status(campaigns)))

    result = CliRunner().invoke(main, ["--db-url", f"sqlite:///{tmp_path / 'd.sqlite3'}", "status"],
                                catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert ("pacing owner" in result.output) is bool(expected)
    for i, owner in enumerate(expected):
        line = next(line for line in result.output.splitlines() if f"c{i} " in line)
        assert owner in line
