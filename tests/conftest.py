"""Shared fixtures: real databases (SQLite and PostgreSQL) and, for integration tests, the real
Asterisk harness. Fixture modules live in tests/fixtures/ and are registered here."""

import os

from hypothesis import settings

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.asterisk", "tests.fixtures.cli"]

# The fuzz tests (tests/fuzz/) replay the same draws on every run of the suite: a new random draw
# once failed CI on a bug that had been there for sessions (a script mark `party: []`). The suite
# must say the same thing about the same code; finding new bad inputs is done on purpose with
#   DIALER_FUZZ=explore .venv/bin/python -m pytest tests/fuzz
# (fresh random draws each run; what it finds becomes a fix plus a plain regression test).
settings.register_profile("suite", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("explore" if os.environ.get("DIALER_FUZZ") == "explore" else "suite")
