"""The composition root for CLI commands: settings → engine → services, wired in one place."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import Clock, SystemClock
from dialer.config import Settings, load_settings
from dialer.db.migrate import current_revision, head_revision
from dialer.db.session import make_engine, make_sessionmaker


class SchemaNotReady(RuntimeError):
    """The database is missing or behind the code's migrations."""


@dataclass
class App:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock

    def close(self) -> None:
        self.engine.dispose()


def build_app(*, config_path: str | None = None, db_url: str | None = None, clock: Clock | None = None,
              require_schema: bool = True) -> App:
    settings = load_settings(config_path, overrides={"database.url": db_url})
    engine = make_engine(settings.database_url)
    if require_schema:
        current, head = current_revision(engine), head_revision(settings.database_url)
        if current != head:
            engine.dispose()
            state = "is empty" if current is None else f"is at revision {current}, code expects {head}"
            raise SchemaNotReady(f"database {_safe_url(settings.database_url)} {state}: run `dialer db upgrade`")
    return App(settings=settings, engine=engine, sessions=make_sessionmaker(engine), clock=clock or SystemClock())


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url
