"""A second real Asterisk for the scale-out tests: its own harness instance on its own free ports,
so the tests run two servers side by side (the session's `asterisk` is the first)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.fixtures.asterisk import HARNESS, AsteriskInstance, _read_exports, free_test_ports


@pytest.fixture(scope="session")
def asterisk_b(asterisk: AsteriskInstance) -> Iterator[AsteriskInstance]:
    # Asked for after the first instance is up, so the free-port search cannot pick its ports.
    env = {**os.environ, "DIALER_ASTERISK_INSTANCE": f"pytest-{os.getpid()}-b", **free_test_ports()}
    subprocess.run([str(HARNESS), "start"], env=env, check=True, timeout=300)
    instance = AsteriskInstance(env=env, exports=_read_exports(env))
    try:
        yield instance
    finally:
        subprocess.run([str(HARNESS), "stop", "--purge"], env=env, check=False, timeout=60)
