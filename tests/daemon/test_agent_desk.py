"""`dialer agent …` against the real Asterisk: queue membership and pauses change in app_queue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from tests.fixtures.asterisk import AsteriskInstance

pytestmark = pytest.mark.asterisk


def test_given_an_agent_when_logged_in_paused_and_logged_out_then_asterisk_reflects_each_step(
        asterisk: AsteriskInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in asterisk.exports.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'desk.sqlite3'}")
    runner = CliRunner()

    def dialer(*args: str) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    def carol() -> dict | None:  # type: ignore[type-arg]
        members = json.loads(dialer("agent", "list", "--queue", "collections", "--json"))
        return next((m for m in members if m["name"] == "carol"), None)

    dialer("db", "upgrade")
    dialer("agent", "add", "carol", "--endpoint", "PJSIP/agent3", "--queue", "collections")
    assert carol() is None
    dialer("agent", "login", "carol")
    assert carol() == {"queue": "collections", "interface": "PJSIP/agent3", "name": "carol", "paused": False,
                       "status": carol()["status"], "calls_taken": 0}
    dialer("agent", "pause", "carol", "--reason", "lunch")
    assert carol()["paused"] is True
    dialer("agent", "resume", "carol")
    assert carol()["paused"] is False
    dialer("agent", "logout", "carol")
    assert carol() is None
