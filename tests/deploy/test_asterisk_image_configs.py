"""The configs the Asterisk image renders at start load cleanly in the real Asterisk 22.

No Docker engine here, so the container is played by a harness instance (same Debian-unstable
Asterisk packages as the image): the image's entrypoint renders asterisk_conf/ with container-style
addresses over Debian's stock files, Asterisk restarts on them, and must log no warning or error
and answer ARI and AMI where the compose file says, with the secrets it was given.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.deploy.tools import DOCKER, REPO, run
from tests.fixtures.asterisk import HARNESS, free_test_ports

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]

ROOT = Path(os.environ.get("DIALER_ASTERISK_ROOT", "/var/cache/dialer/asterisk-root"))
SECRETS = {"ARI_PASSWORD": "AriImage0123456789abcdef", "AMI_PASSWORD": "AmiImage0123456789abcdef",
           "AGENT_PASSWORD": "AgentImage0123456789abc"}


@dataclass
class ImageAsterisk:
    address: str            # where the rendered configs make ARI, AMI and SIP listen
    log: Path
    reload_started: float


def _harness(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(HARNESS), *args], env=env, check=True, text=True, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def image_asterisk() -> Iterator[ImageAsterisk]:
    instance = f"pytest-image-{os.getpid()}"
    env = {**os.environ, "DIALER_ASTERISK_INSTANCE": instance, **free_test_ports()}
    _harness(env, "start")
    try:
        etc = ROOT / "srv" / "dialer" / instance / "etc"
        asterisk_conf = (etc / "asterisk.conf").read_text(encoding="utf-8")   # the harness's directories
        # A loopback address of its own (127.0.0.0/8 is all local): the image's fixed ports
        # (8088, 5038, 5060) cannot clash with another instance bound to 127.0.0.1.
        address = f"127.{random.randrange(1, 255)}.{random.randrange(1, 255)}.{random.randrange(2, 255)}"
        rendered = run(["bash", str(DOCKER / "asterisk" / "entrypoint.sh"), "render"], check=True, env={
            "PATH": os.environ["PATH"], **SECRETS,
            "ASTERISK_ETC": str(etc), "ASTERISK_STOCK": str(ROOT / "etc" / "asterisk"),
            "ASTERISK_CONF_SRC": str(REPO / "asterisk_conf"), "ASTERISK_CONF_OVERRIDES": "/nonexistent",
            "ASTERISK_HTTP_BIND": address, "ASTERISK_AMI_BIND": address,
            "ASTERISK_AMI_PERMIT": "127.0.0.0/255.0.0.0", "ASTERISK_SIP_BIND": f"{address}:5060",
            "ASTERISK_RTP_PORTS": "31000-31099", "DIALER_BOT_AGI": "agi://bot.invalid:4573/bot"})
        assert rendered.returncode == 0
        (etc / "asterisk.conf").write_text(asterisk_conf, encoding="utf-8")
        # Chrooted as root, the files' group means nothing: readable as the harness makes them.
        for path in [etc, *etc.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        log = ROOT / "srv" / "dialer" / instance / "log" / "messages.log"
        started = time.time()
        log.write_text("", encoding="utf-8")
        _harness(env, "cli", "core restart now")
        yield ImageAsterisk(address=address, log=log, reload_started=started)
    finally:
        subprocess.run([str(HARNESS), "stop", "--purge"], env=env, check=False, timeout=120, capture_output=True)


def _wait_for_ari(address: str, deadline_s: float = 60) -> httpx.Response:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            response = httpx.get(f"http://{address}:8088/ari/asterisk/info",
                                 auth=("dialer", SECRETS["ARI_PASSWORD"]), timeout=2)
            # 404/503: the HTTP server is up but res_ari has not registered its routes yet.
            if response.status_code not in (404, 503) or time.monotonic() > deadline:
                return response
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.3)   # Asterisk is restarting: nothing to subscribe to until ARI answers


def _ami_login(address: str, secret: str) -> bytes:
    with socket.create_connection((address, 5038), timeout=5) as sock:
        sock.sendall(f"Action: Login\r\nUsername: dialer\r\nSecret: {secret}\r\nEvents: off\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data.split(b"\r\n", 1)[-1]:   # the banner line, then the login response
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data


def test_given_container_addresses_when_asterisk_22_loads_the_image_configs_then_ari_and_ami_answer_there(
        image_asterisk: ImageAsterisk) -> None:
    info = _wait_for_ari(image_asterisk.address)

    assert info.status_code == 200 and info.json()["system"]["version"].startswith("22.")
    assert b"Response: Success" in _ami_login(image_asterisk.address, SECRETS["AMI_PASSWORD"])
    assert b"Response: Error" in _ami_login(image_asterisk.address, "WrongSecret0123456789")


def test_given_the_image_configs_when_asterisk_22_loaded_them_then_it_logged_no_warning_or_error(
        image_asterisk: ImageAsterisk) -> None:
    _wait_for_ari(image_asterisk.address)
    time.sleep(1)   # modules that load late report within a second (as scripts/asterisk-harness check-config)

    lines = image_asterisk.log.read_text(encoding="utf-8", errors="replace").splitlines()
    complaints = [line for line in lines if "WARNING[" in line or "ERROR[" in line]

    assert lines, "Asterisk wrote nothing after the restart"
    assert complaints == []
