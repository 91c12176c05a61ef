"""Alembic migrations: the only way the schema changes (see dialer/db/migrate.py)."""
