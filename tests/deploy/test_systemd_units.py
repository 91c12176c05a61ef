"""systemd/: the bare-metal units load, are hardened, and take secrets only as credentials.

`systemd-analyze verify` loads a unit as systemd would (unknown keys, bad values, missing
executables); `systemd-analyze security --offline` scores its sandboxing without running it.
Both come with Debian 12's systemd package, which the CI machine has.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from dialer.config import SETTINGS, load_settings
from tests.deploy.tools import SYSTEMD, run

UNITS = ["dialer.service", "dialer@.service", "dialer-agi.service"]
DECLARED_ENV = {"DIALER_" + s.key.upper().replace(".", "_") for s in SETTINGS}
INSTALLED_DIALER = "/opt/dialer/.venv/bin/dialer"


def installed_copy(unit: str, tmp_path: Path) -> Path:
    """The unit as it would be installed, with ExecStart pointing at this checkout's `dialer`."""
    here = Path(sys.executable).parent / "dialer"
    copy = tmp_path / unit.replace("@.", "@m1.")   # a template is verified as one of its instances
    copy.write_text((SYSTEMD / unit).read_text(encoding="utf-8").replace(INSTALLED_DIALER, str(here)),
                    encoding="utf-8")
    return copy


def directives(unit: str) -> list[tuple[str, str]]:
    text = (SYSTEMD / unit).read_text(encoding="utf-8").replace("\\\n", " ")
    return [(k.strip(), v.strip()) for line in text.splitlines()
            if "=" in line and not line.lstrip().startswith(("#", ";", "["))
            for k, v in [line.split("=", 1)]]


@pytest.mark.parametrize("unit", UNITS)
def test_given_a_unit_when_verified_by_systemd_then_it_loads_without_a_complaint(unit: str, tmp_path: Path) -> None:
    result = run(["systemd-analyze", "verify", str(installed_copy(unit, tmp_path))])

    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


@pytest.mark.parametrize("unit", UNITS)
def test_given_a_unit_when_its_sandbox_is_scored_then_the_exposure_is_at_most_2_of_10(unit: str, tmp_path: Path) -> None:
    copy = installed_copy(unit, tmp_path)
    scored = run(["systemd-analyze", "security", "--offline=yes", "--json=short", str(copy)], check=True)
    # Every costly setting is on, except Internet sockets: both services talk to Asterisk.
    network = {"PrivateNetwork=", "RestrictAddressFamilies=~AF_(INET|INET6)"}
    failing = [c["name"] for c in json.loads(scored.stdout) if c.get("set") is False
               and float(c.get("exposure") or 0) > 0.2 and c["name"] not in network]

    # --threshold is in tenths: fail above an overall exposure of 2.0 ("OK" in systemd's words).
    result = run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(copy)])

    assert result.returncode == 0, result.stdout[-400:]
    assert not failing, f"{unit}: costly settings missing: {failing}"


@pytest.mark.parametrize("unit", UNITS)
def test_given_a_unit_then_secrets_come_only_as_credentials_and_never_as_values(unit: str) -> None:
    pairs = directives(unit)
    credentials = {v.split(":", 1)[0]: v.split(":", 1)[1] for k, v in pairs if k == "LoadCredential"}
    environment = dict(v.split("=", 1) for k, v in pairs if k == "Environment")

    assert credentials and all(path.startswith("/etc/dialer/credentials/") for path in credentials.values())
    for name, value in environment.items():
        if re.search("PASSWORD|PGPASS", name):
            assert name.endswith(("_FILE", "PGPASSFILE")) and value.startswith("%d/"), f"{name}={value}"
            assert value.removeprefix("%d/") in credentials, f"{name} names no loaded credential"
    assert ("EnvironmentFile", "/etc/dialer/dialer.env") in pairs
    assert ("User", "root") not in pairs and any(k == "User" for k, _ in pairs)


def test_given_the_daemon_unit_then_stopping_waits_longer_than_the_daemons_grace_period() -> None:
    timeout = dict(directives("dialer.service"))["TimeoutStopSec"]
    assert float(timeout) > load_settings(environ={})["daemon.grace_seconds"]


def test_given_the_bot_unit_then_fastagi_listens_on_loopback_and_only_loopback_may_connect() -> None:
    pairs = directives("dialer-agi.service")
    exec_start = dict(pairs)["ExecStart"].split()
    assert exec_start[exec_start.index("--host") + 1] == "127.0.0.1"
    assert ("IPAddressDeny", "any") in pairs and ("IPAddressAllow", "localhost") in pairs


def test_given_the_example_environment_file_then_it_has_only_known_settings_and_no_secret() -> None:
    example = SYSTEMD / "dialer.env.example"
    values = dict(line.split("=", 1) for line in example.read_text(encoding="utf-8").splitlines()
                  if line.strip() and not line.startswith("#"))

    assert not {k for k in values if re.search("PASSWORD|SECRET", k)}
    assert set(values) <= DECLARED_ENV, set(values) - DECLARED_ENV
    settings = load_settings(environ=values)   # validates every value as `dialer run` would
    assert settings["database.url"].startswith("postgresql+psycopg://dialer@")
