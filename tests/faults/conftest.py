"""What the fault tests share besides the daemon (campaign.py): the SQLite file it writes to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dialer.db import migrate
from dialer.db.session import make_engine, make_sessionmaker


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file in the test's directory (a real file: other processes open it too)."""
    url = f"sqlite:///{tmp_path / 'faults.sqlite3'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
def sqlite_sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(sqlite_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()
