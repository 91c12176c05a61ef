"""A second real Asterisk for the scale-out tests: its own harness instance on its own free ports,
so the tests run two servers side by side (the session's `asterisk` is the first)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.fixtures.asterisk import AsteriskInstance, harness_instance


@pytest.fixture(scope="session")
def asterisk_b(asterisk: AsteriskInstance) -> Iterator[AsteriskInstance]:
    # Asked for after the first instance is up, so the free-port search cannot pick its ports.
    with harness_instance(f"pytest-{os.getpid()}-b") as instance:
        yield instance
