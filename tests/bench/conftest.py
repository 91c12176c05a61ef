"""Fixtures of the benchmark tests."""

import pytest

from benchmarks.bot_calls import BotHarness


@pytest.fixture(scope="module")
def harness():
    """The bot calls' Asterisk instance (benchmarks/bot_calls.py), with its dialplan installed."""
    instance = BotHarness.start()
    try:
        instance.install()
        yield instance
    finally:
        instance.stop()
