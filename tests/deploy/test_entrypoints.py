"""The images' entrypoints and docker/make-secrets, run for real on this machine (no container needed).

The Asterisk entrypoint renders into directories given by its ASTERISK_* variables, so the same
script that runs as the container's PID 1 is exercised here on the shipped asterisk_conf/.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from tests.deploy.tools import DOCKER, REPO, run

ASTERISK_ENTRYPOINT = DOCKER / "asterisk" / "entrypoint.sh"
DIALER_ENTRYPOINT = DOCKER / "dialer" / "entrypoint.sh"
SECRETS = {"ari_password": "AriSecret0123456789abcdef", "ami_password": "AmiSecret0123456789abcdef",
           "agent_password": "AgentSecret0123456789abc"}


def clean_env(**extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    return {**keep, **extra}


class Render:
    """One container start: a secrets directory, an /etc/asterisk, and the entrypoint's outcome."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.etc = root / "etc-asterisk"
        self.secrets = root / "run-secrets"
        self.overrides = root / "overrides"
        self.secrets.mkdir()

    def give(self, **secrets: str) -> Render:
        for name, value in secrets.items():
            (self.secrets / name).write_text(value + "\n", encoding="utf-8")
        return self

    def __call__(self, **env: str):  # type: ignore[no-untyped-def]
        return run(["bash", str(ASTERISK_ENTRYPOINT), "render"], env=clean_env(
            ASTERISK_ETC=str(self.etc), ASTERISK_STOCK=str(self.root / "no-stock"),
            ASTERISK_CONF_SRC=str(REPO / "asterisk_conf"), ASTERISK_CONF_OVERRIDES=str(self.overrides),
            SECRETS_DIR=str(self.secrets), **env))

    def conf(self, name: str) -> str:
        return (self.etc / name).read_text(encoding="utf-8")


def settings_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(";")]


@pytest.fixture
def render(tmp_path: Path) -> Render:
    return Render(tmp_path)


def test_given_every_secret_as_a_compose_secret_when_rendering_then_configs_carry_them_and_no_placeholder(
        render: Render) -> None:
    result = render.give(**SECRETS)()

    assert result.returncode == 0, result.stderr
    assert "password = AriSecret0123456789abcdef" in settings_lines(render.conf("ari.conf"))
    assert "[dialer]" in settings_lines(render.conf("ari.conf"))            # the default ARI user
    assert "secret = AmiSecret0123456789abcdef" in settings_lines(render.conf("manager.conf"))
    shipped_agents = len(re.findall(r"^\[agent\d+\]\(agent-auth\)", (REPO / "asterisk_conf" / "pjsip.conf")
                                    .read_text(encoding="utf-8"), re.M))
    assert shipped_agents >= 1
    # Every shipped agent gets the secret, however many the shipped file declares.
    assert settings_lines(render.conf("pjsip.conf")).count("password = AgentSecret0123456789abc") == shipped_agents
    for conf in render.etc.glob("*.conf"):
        assert not re.search(r"__[A-Z_]+__", "\n".join(settings_lines(conf.read_text(encoding="utf-8")))), conf.name
    # The shipped loopback-only addresses stay unless the deployment says otherwise.
    assert "bindaddr = 127.0.0.1" in settings_lines(render.conf("http.conf"))
    assert "permit = 127.0.0.1/255.255.255.255" in settings_lines(render.conf("manager.conf"))


def test_given_rendered_configs_then_only_their_owner_and_group_can_read_them(render: Render) -> None:
    assert render.give(**SECRETS)().returncode == 0

    assert stat.S_IMODE(render.etc.stat().st_mode) == 0o750
    assert {stat.S_IMODE(f.stat().st_mode) for f in render.etc.iterdir()} == {0o640}


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_given_a_missing_secret_when_starting_then_it_refuses_and_leaves_the_previous_configs(
        render: Render, missing: str) -> None:
    render.etc.mkdir()
    (render.etc / "previous.conf").write_text("; last good render\n", encoding="utf-8")
    render.give(**{k: v for k, v in SECRETS.items() if k != missing})

    result = render()

    assert result.returncode == 64
    assert f"no value for __{missing.upper()}__" in result.stderr
    assert [p.name for p in render.etc.iterdir()] == ["previous.conf"]
    assert [p.name for p in render.root.iterdir() if ".render." in p.name] == []   # no half-written copy


@pytest.mark.parametrize(("value", "why"), [
    ("short1234", "shorter than 16 characters"),
    ("abcdefgh;ijklmnopqrs", "characters Asterisk configs cannot carry"),
    ("abcdefgh ijklmnopqrs", "characters Asterisk configs cannot carry"),
    ("my-password-is-long-enough", "looks like a placeholder"),
    ("__ARI_PASSWORD__", "looks like a placeholder"),
])
def test_given_a_weak_or_unsafe_password_when_starting_then_it_refuses_naming_the_problem(
        render: Render, value: str, why: str) -> None:
    result = render.give(**{**SECRETS, "ari_password": value})()

    assert result.returncode == 64
    assert why in result.stderr and "ARI_PASSWORD" in result.stderr


def test_given_a_secret_in_the_environment_and_as_a_file_then_the_variable_wins_and_file_variables_work(
        render: Render, tmp_path: Path) -> None:
    ami_file = tmp_path / "ami.txt"
    ami_file.write_text("AmiFromFileVariable0123\n", encoding="utf-8")

    result = render.give(**SECRETS)(ARI_PASSWORD="AriFromEnvironment012345", AMI_PASSWORD_FILE=str(ami_file))

    assert result.returncode == 0, result.stderr
    assert "password = AriFromEnvironment012345" in settings_lines(render.conf("ari.conf"))
    assert "secret = AmiFromFileVariable0123" in settings_lines(render.conf("manager.conf"))


def test_given_container_addresses_when_rendering_then_ari_ami_sip_rtp_and_fastagi_follow_them(
        render: Render) -> None:
    result = render.give(**SECRETS)(
        ASTERISK_HTTP_BIND="0.0.0.0", ASTERISK_AMI_BIND="0.0.0.0", ASTERISK_AMI_PERMIT="172.28.10.0/255.255.255.0",
        ASTERISK_SIP_BIND="0.0.0.0:5060", ASTERISK_RTP_PORTS="10000-10099", DIALER_BOT_AGI="agi://bot:4573/bot")

    assert result.returncode == 0, result.stderr
    assert "bindaddr = 0.0.0.0" in settings_lines(render.conf("http.conf"))
    manager = settings_lines(render.conf("manager.conf"))
    assert "bindaddr = 0.0.0.0" in manager and "permit = 172.28.10.0/255.255.255.0" in manager
    assert "deny = 0.0.0.0/0.0.0.0" in manager          # deny-all stays in front of the permit
    assert "bind = 0.0.0.0:5060" in settings_lines(render.conf("pjsip.conf"))
    assert "DIALER_BOT_AGI=agi://bot:4573/bot" in settings_lines(render.conf("extensions.conf"))
    assert settings_lines(render.conf("rtp.conf")) == ["[general]", "rtpstart = 10000", "rtpend = 10099"]


@pytest.mark.parametrize(("variable", "value"), [
    ("ASTERISK_AMI_PERMIT", "0.0.0.0/0.0.0.0"),
    ("ASTERISK_HTTP_BIND", "0.0.0.0\nenabled = no"),
    ("ASTERISK_RTP_PORTS", "20000-10000"),
])
def test_given_an_address_that_opens_ami_to_everyone_or_bends_a_config_line_then_it_refuses(
        render: Render, variable: str, value: str) -> None:
    result = render.give(**SECRETS)(**{variable: value})

    assert result.returncode == 64 and variable in result.stderr


def test_given_an_admins_own_pjsip_conf_when_rendering_then_it_replaces_the_shipped_one_with_secrets_filled(
        render: Render) -> None:
    render.overrides.mkdir()
    (render.overrides / "pjsip.conf").write_text(
        "[transport-udp]\ntype = transport\nprotocol = udp\nbind = 0.0.0.0:5060\n"
        "[mycarrier-auth]\ntype = auth\nauth_type = userpass\nusername = acct\npassword = __TRUNK_PASSWORD__\n",
        encoding="utf-8")

    result = render.give(**SECRETS, trunk_password="TrunkSecret0123456789ab")()

    assert result.returncode == 0, result.stderr
    pjsip = settings_lines(render.conf("pjsip.conf"))
    assert "password = TrunkSecret0123456789ab" in pjsip and "[agent1]" not in pjsip


def test_given_a_second_start_then_rendering_is_idempotent(render: Render) -> None:
    render.give(**SECRETS)
    assert render().returncode == 0
    first = {p.name: p.read_text(encoding="utf-8") for p in render.etc.iterdir()}

    assert render().returncode == 0

    assert {p.name: p.read_text(encoding="utf-8") for p in render.etc.iterdir()} == first


# ---- make-secrets → the Asterisk entrypoint ---------------------------------------------------------

def test_given_make_secrets_when_run_twice_then_strong_private_secrets_are_created_once_and_asterisk_accepts_them(
        render: Render, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    first = run([str(DOCKER / "make-secrets")], env=clean_env(DIALER_SECRETS_DIR=str(secrets)), check=True)
    created = {p.name: p.read_text(encoding="utf-8") for p in secrets.iterdir()}
    second = run([str(DOCKER / "make-secrets")], env=clean_env(DIALER_SECRETS_DIR=str(secrets)), check=True)

    assert set(created) == {"postgres_password", "ari_password", "ami_password", "agent_password"}
    assert all(re.fullmatch(r"[A-Za-z0-9]{32}", value) for value in created.values())
    assert len(set(created.values())) == 4
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in secrets.iterdir()} == {0o444}
    assert "created" in first.stderr and "kept" in second.stderr
    assert {p.name: p.read_text(encoding="utf-8") for p in secrets.iterdir()} == created
    result = run(["bash", str(ASTERISK_ENTRYPOINT), "render"], env=clean_env(
        ASTERISK_ETC=str(render.etc), ASTERISK_STOCK=str(tmp_path / "none"),
        ASTERISK_CONF_SRC=str(REPO / "asterisk_conf"), SECRETS_DIR=str(secrets)))
    assert result.returncode == 0, result.stderr
    assert f"password = {created['ari_password']}" in settings_lines(render.conf("ari.conf"))


# ---- the dialer image's entrypoint -----------------------------------------------------------------

@pytest.fixture
def fake_dialer(tmp_path: Path) -> Path:
    """A `dialer` on PATH that reports how it was started, so `exec "$@"` is observable."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "dialer"
    script.write_text('#!/bin/sh\necho "started: $* PGPASSWORD=${PGPASSWORD:-}"\n', encoding="utf-8")
    script.chmod(0o755)
    return bin_dir


def dialer_entrypoint(bin_dir: Path, *args: str, **env: str):  # type: ignore[no-untyped-def]
    return run(["sh", str(DIALER_ENTRYPOINT), *args],
               env=clean_env(**env, PATH=f"{bin_dir}:{os.environ['PATH']}"))


def test_given_dialer_run_without_the_ari_secret_when_starting_then_it_refuses(fake_dialer: Path) -> None:
    result = dialer_entrypoint(fake_dialer, "dialer", "run")

    assert result.returncode == 64
    assert "DIALER_ARI_PASSWORD_FILE" in result.stderr and "started" not in result.stdout


def test_given_dialer_run_with_ami_and_only_the_ari_secret_then_it_refuses_naming_the_ami_one(
        fake_dialer: Path, tmp_path: Path) -> None:
    ari = tmp_path / "ari"
    ari.write_text("x" * 24, encoding="utf-8")

    result = dialer_entrypoint(fake_dialer, "dialer", "run", "--telephony", "ami", DIALER_ARI_PASSWORD_FILE=str(ari))

    assert result.returncode == 64 and "DIALER_AMI_PASSWORD_FILE" in result.stderr


def test_given_the_secrets_as_files_when_starting_then_the_command_runs_with_the_database_password_for_libpq(
        fake_dialer: Path, tmp_path: Path) -> None:
    (tmp_path / "ari").write_text("x" * 24, encoding="utf-8")
    (tmp_path / "pg").write_text("PgSecret0123456789\n", encoding="utf-8")

    result = dialer_entrypoint(fake_dialer, "dialer", "run", DIALER_ARI_PASSWORD_FILE=str(tmp_path / "ari"),
                               PGPASSWORD_FILE=str(tmp_path / "pg"),
                               DIALER_DATABASE_URL="postgresql+psycopg://dialer@postgres:5432/dialer")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started: run PGPASSWORD=PgSecret0123456789"


@pytest.mark.parametrize(("url", "why"), [
    ("postgresql+psycopg://dialer:hunter2@postgres/dialer", "carries a password"),
    ("postgresql+psycopg://dialer@postgres/dialer", "no PGPASSWORD_FILE"),
])
def test_given_a_database_url_with_a_password_or_without_any_when_starting_then_it_refuses(
        fake_dialer: Path, url: str, why: str) -> None:
    result = dialer_entrypoint(fake_dialer, "dialer", "campaign", "list", DIALER_DATABASE_URL=url)

    assert result.returncode == 64 and why in result.stderr
