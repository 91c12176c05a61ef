"""Shared fixtures: real databases (SQLite and PostgreSQL) and, for integration tests, the real
Asterisk harness. Fixture modules live in tests/fixtures/ and are registered here."""

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.asterisk", "tests.fixtures.cli"]
