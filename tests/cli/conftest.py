"""`dialer` run through click as a user runs it, on a SQLite file in the test's own directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main

DialerRun = Callable[..., Result]


@pytest.fixture
def dialer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DialerRun:
    """`dialer(*args, ok=True)` runs one command and asserts its exit status."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert (result.exit_code == 0) is ok, result.output
        return result

    return run
