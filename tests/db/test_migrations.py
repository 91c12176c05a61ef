"""The schema comes only from migrations, and the models never drift from them."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from dialer.db import migrate
from dialer.db.models import AuditEntry, Base
from dialer.db.session import make_engine, transaction
from migrations.env_filters import include_name


def test_given_a_migrated_database_when_compared_with_the_models_then_there_is_no_drift(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_given_head_when_downgraded_to_base_and_upgraded_again_then_it_is_at_head(db_url: str) -> None:
    migrate.downgrade(db_url, "base")
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    assert migrate.current_revision(engine) == migrate.head_revision(db_url)
    engine.dispose()


def test_given_an_audit_entry_when_updated_or_deleted_then_the_database_refuses(sessions) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        session.add(AuditEntry(actor="test", kind="gate_decision", decision="allow",
                               at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    with pytest.raises(DBAPIError, match="append-only"), transaction(sessions) as session:
        session.execute(update(AuditEntry).values(decision="deny"))
    with pytest.raises(DBAPIError, match="append-only"), transaction(sessions) as session:
        session.execute(delete(AuditEntry))
