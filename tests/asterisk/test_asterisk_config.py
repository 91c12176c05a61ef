"""The shipped asterisk_conf/ loads into the real Asterisk 22 with no error or warning."""

import os
import re
import subprocess

import pytest

from tests.fixtures.asterisk import HARNESS, free_test_ports

pytestmark = pytest.mark.asterisk


def test_given_the_shipped_configs_when_check_config_runs_on_a_fresh_instance_then_it_passes():
    env = {**os.environ, "DIALER_ASTERISK_INSTANCE": f"pytest-config-{os.getpid()}",
           **free_test_ports()}
    try:
        result = subprocess.run([str(HARNESS), "check-config"], env=env, text=True,
                                capture_output=True, timeout=120)
        log = subprocess.run([str(HARNESS), "env"], env=env, text=True, capture_output=True)
        log_path = re.search(r"DIALER_ASTERISK_LOG=(\S+)", log.stdout).group(1)
        with open(log_path) as f:
            startup = f.read()
    finally:
        subprocess.run([str(HARNESS), "stop", "--purge"], env=env, timeout=60, capture_output=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Asterisk" in startup and "modules will be loaded" in startup
    assert not re.search(r"(WARNING|ERROR)\[", startup)


def test_given_the_running_instance_then_the_dialers_objects_are_loaded(asterisk):
    endpoints = asterisk.cli("pjsip show endpoints")
    for name in ("carrier-trunk", "agent1", "agent2", "agent3"):
        assert name in endpoints
    queues = asterisk.cli("queue show")
    assert "collections" in queues and "overflow" in queues
    for context in ("dialer-outbound", "dialer-answered", "callee-sim", "dialer-agents"):
        assert "-= " in asterisk.cli(f"dialplan show {context}")


def test_given_the_harness_when_asked_for_status_then_healthy_json(asterisk):
    result = asterisk.harness("status", "--json")
    assert '"healthy": true' in result.stdout
    assert '"ari": true' in result.stdout and '"ami": true' in result.stdout


def test_given_shipped_configs_then_no_password_is_shipped():
    from tests.fixtures.asterisk import REPO
    for path in (REPO / "asterisk_conf").glob("*.conf"):
        for line in path.read_text().splitlines():
            stripped = line.split(";", 1)[0]
            if re.match(r"\s*(password|secret)\s*=", stripped):
                assert "__" in stripped, f"{path.name}: {line!r} ships a secret"


def test_given_a_built_root_when_build_runs_again_then_it_only_checks_and_returns_fast(asterisk):
    import time
    started = time.monotonic()
    result = asterisk.harness("build")
    assert time.monotonic() - started < 10
    assert "root ready" in result.stderr and "debootstrap" not in result.stderr
