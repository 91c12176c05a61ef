"""Real-Asterisk tests: fixtures come from the `tests.fixtures.asterisk` plugin (tests/conftest.py)."""
