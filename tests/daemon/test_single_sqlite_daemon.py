"""On SQLite one `dialer run` only: a second daemon on the same file refuses to start and says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from dialer.clock import SystemClock
from dialer.daemon.cluster import Cluster
from dialer.db import migrate
from dialer.db.session import make_engine, make_sessionmaker


def test_given_a_daemon_running_on_a_sqlite_file_when_another_node_starts_then_it_refuses_naming_postgresql(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    first = Cluster(sessions=make_sessionmaker(engine), clock=SystemClock(), node="first", asterisk_server="asterisk-1",
                    channel_limit=60, lease_seconds=5.0, tick_seconds=1.0)
    first.heartbeat(live_calls=0, free_agents=0)        # the first daemon's tick, a moment ago
    engine.dispose()
    for key, value in {"DIALER_DATABASE_URL": url, "DIALER_DATA_DIR": str(tmp_path), "DIALER_DAEMON_NODE": "second",
                       "DIALER_ARI_PASSWORD": "unused", "DIALER_AMI_PASSWORD": "unused",
                       "DIALER_METRICS_PORT": "0", "DIALER_SCHEDULER_ENABLED": "false"}.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 1
    assert "daemon 'first' is already running on this SQLite database" in result.output
    assert "use PostgreSQL" in result.output
