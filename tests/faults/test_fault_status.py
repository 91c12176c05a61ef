"""`dialer status` shows the faults a daemon rode out: attempt writes waiting for the database, and
recordings lost on disk (docs/operations.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main


@pytest.mark.parametrize("waiting, lost, healthy", [(3, 2, False), (0, 0, True)])
def test_given_a_daemon_status_file_then_dialer_status_shows_waiting_writes_and_lost_recordings(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, waiting: int, lost: int, healthy: bool) -> None:
    monkeypatch.setenv("DIALER_DATA_DIR", str(tmp_path / "var"))
    status = {"node": "n1", "pid": 1, "at": "2026-11-22T12:00:00+00:00", "stopped": False, "in_flight": 2,
              "telephony": {"component": "ari", "healthy": True, "detail": "up", "reconnects": 1},
              "database": {"unwritten": waiting, "write_failures": 7}, "recordings": {"failures": lost},
              "summary": {}, "agents": [], "campaigns": []}
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "daemon-status.json").write_text(json.dumps(status))
    result = CliRunner().invoke(main, ["--db-url", db_url, "status", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    by_name = {c["component"]: c for c in json.loads(result.output)["components"]}
    assert by_name["attempt writes"]["healthy"] is healthy and f"{waiting} waiting" in by_name["attempt writes"]["detail"]
    assert by_name["recordings"]["healthy"] is healthy and f"{lost} missing" in by_name["recordings"]["detail"]
