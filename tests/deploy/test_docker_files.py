"""docker/: the compose stack and the images, validated without a Docker engine.

Compose v2 itself (`docker compose config`) checks the files against the Compose Specification and
resolves variables, anchors, secrets and overrides; the assertions then read what Compose made of
them. hadolint and shellcheck lint the Dockerfiles and the scripts; dockerfile-parse reads the
Dockerfiles' structure. Missing tools are installed by docker/ci-tools (tests/deploy/tools.py).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from dockerfile_parse import DockerfileParser

from dialer.config import SETTINGS
from tests.deploy.tools import DOCKER, REPO, compose_command, compose_config, run, tool

DECLARED_ENV = {"DIALER_" + s.key.upper().replace(".", "_") for s in SETTINGS}
SECRET_ENV = {"DIALER_" + s.key.upper().replace(".", "_") for s in SETTINGS if s.secret}
# Ports that must never face the carrier's network: ARI, AMI, FastAGI, the bot's audio tap, PostgreSQL, metrics.
PRIVATE_PORTS = {8088, 5038, 4573, 4574, 5432, 9464, 9465}


@pytest.fixture(scope="module")
def stack() -> dict:
    return compose_config(env={"COMPOSE_PROFILES": "cli"})   # the `cli` service is behind a profile


def environment(service: dict) -> dict[str, str]:
    return {k: ("" if v is None else str(v)) for k, v in (service.get("environment") or {}).items()}


def test_given_the_compose_file_when_validated_by_compose_then_it_defines_the_whole_stack(stack: dict) -> None:
    assert set(stack["services"]) == {"postgres", "migrate", "asterisk", "dialer", "bot", "cli"}
    assert stack["services"]["postgres"]["image"].startswith("postgres:15")
    assert stack["services"]["dialer"]["command"] == ["dialer", "run"]
    assert stack["services"]["bot"]["command"][:2] == ["dialer", "agi-server"]
    assert Path(stack["services"]["dialer"]["build"]["context"]) == REPO
    for name in ("dialer", "asterisk"):
        assert (REPO / stack["services"][name]["build"]["dockerfile"]).is_file()


def test_given_the_stack_then_only_sip_and_rtp_are_published_and_private_networks_have_no_route_out(
        stack: dict) -> None:
    published = {(name, p["target"], p.get("protocol", "tcp"))
                 for name, service in stack["services"].items() for p in service.get("ports", [])}
    assert {(name, proto) for name, _target, proto in published} == {("asterisk", "udp")}
    assert not {target for _name, target, _proto in published} & PRIVATE_PORTS
    assert ("asterisk", 5060, "udp") in published
    assert stack["networks"]["backend"]["internal"] is True
    assert stack["networks"]["agi"]["internal"] is True
    assert set(stack["services"]["postgres"]["networks"]) == {"backend"}
    assert set(stack["services"]["dialer"]["networks"]) == {"backend"}


def test_given_the_stack_then_every_secret_comes_from_a_file_and_no_password_is_written_in_it(stack: dict) -> None:
    declared = stack["secrets"]
    used = {s["source"] if isinstance(s, dict) else s
            for service in stack["services"].values() for s in service.get("secrets", [])}
    assert used == set(declared) == {"postgres_password", "ari_password", "ami_password", "agent_password"}
    for name, secret in declared.items():
        assert Path(secret["file"]) == DOCKER / "secrets" / name
    for name, service in stack["services"].items():
        for key, value in environment(service).items():
            if re.search("PASSWORD|SECRET", key):
                assert key.endswith("_FILE") and value.startswith("/run/secrets/"), f"{name}: {key}={value}"
        assert urlsplit(environment(service).get("DIALER_DATABASE_URL", "")).password is None, name


def test_given_the_stack_then_every_dialer_variable_is_a_declared_setting(stack: dict) -> None:
    for name, service in stack["services"].items():
        unknown = {k for k in environment(service) if k.startswith("DIALER_")} - DECLARED_ENV - {
            f"{s}_FILE" for s in SECRET_ENV} - {"DIALER_BOT_AGI"}   # DIALER_BOT_AGI: the Asterisk image's
        assert not unknown, f"{name}: {sorted(unknown)} are not settings (docs/settings.md)"


def test_given_the_stack_then_ami_ari_and_fastagi_reach_exactly_the_services_that_need_them(stack: dict) -> None:
    services = stack["services"]
    asterisk, bot, dialer = services["asterisk"], services["bot"], services["dialer"]
    backend = ipaddress.ip_network(stack["networks"]["backend"]["ipam"]["config"][0]["subnet"])
    permit = environment(asterisk)["ASTERISK_AMI_PERMIT"]
    assert ipaddress.ip_network(permit.replace("/255.255.255.0", "/24")) == backend
    assert urlsplit(environment(dialer)["DIALER_ARI_URL"]).hostname == "asterisk"
    assert environment(dialer)["DIALER_AMI_HOST"] == "asterisk"
    # FastAGI: the bot listens on its address in the `agi` network only, and only Asterisk is allowed.
    bot_agi_address = bot["networks"]["agi"]["ipv4_address"]
    host = bot["command"][bot["command"].index("--host") + 1]
    assert host == bot_agi_address
    assert urlsplit(environment(asterisk)["DIALER_BOT_AGI"]).hostname == "bot"
    assert environment(bot)["DIALER_FASTAGI_ALLOWED_HOSTS"] == asterisk["networks"]["agi"]["ipv4_address"]
    assert {n for n, s in services.items() if "agi" in (s.get("networks") or {})} == {"asterisk", "bot"}


def test_given_the_stack_then_daemons_start_after_migrations_and_a_healthy_asterisk(stack: dict) -> None:
    depends = stack["services"]["dialer"]["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["asterisk"]["condition"] == "service_healthy"
    assert stack["services"]["migrate"]["command"] == ["dialer", "db", "upgrade"]
    # Longer than the daemon's default grace (daemon.grace_seconds = 60) so calls can finish.
    assert stack["services"]["dialer"]["stop_grace_period"] == "1m30s"


def test_given_the_env_secrets_override_when_validated_then_every_secret_comes_from_a_variable() -> None:
    stack = compose_config("compose.yaml", "compose.env-secrets.yaml")
    assert {name: secret.get("environment") for name, secret in stack["secrets"].items()} == {
        "postgres_password": "DIALER_POSTGRES_PASSWORD", "ari_password": "DIALER_ARI_PASSWORD",
        "ami_password": "DIALER_AMI_PASSWORD", "agent_password": "DIALER_AGENT_PASSWORD"}
    assert not any("file" in secret for secret in stack["secrets"].values())


def test_given_the_example_env_file_when_used_then_compose_accepts_it_and_the_rtp_range_follows(
        tmp_path: Path) -> None:
    env_file = tmp_path / "stack.env"
    env_file.write_text((DOCKER / ".env.example").read_text(encoding="utf-8")
                        .replace("ASTERISK_RTP_PORTS=10000-10099", "ASTERISK_RTP_PORTS=12000-12049"), encoding="utf-8")
    result = run([*compose_command(), "--env-file", str(env_file), "-f", "compose.yaml", "config", "--format", "json"],
                 cwd=DOCKER, check=True)
    asterisk = json.loads(result.stdout)["services"]["asterisk"]
    assert asterisk["environment"]["ASTERISK_RTP_PORTS"] == "12000-12049"
    rtp = {(p["target"], int(p["published"])) for p in asterisk["ports"] if p["target"] != 5060}
    assert rtp == {(port, port) for port in range(12000, 12050)}


def test_given_the_example_env_file_then_it_carries_no_secret_and_only_known_settings() -> None:
    lines = [line for line in (DOCKER / ".env.example").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    for line in lines:
        key, _, value = line.partition("=")
        assert not re.search("PASSWORD|SECRET|TOKEN", key), line
        if key.startswith("DIALER_") and key not in {"DIALER_SECRETS_DIR", "DIALER_IMAGE", "DIALER_SIP_PUBLISH",
                                                      "DIALER_BOT_CONTEXTS", "DIALER_CLI_FILES"}:
            assert key in DECLARED_ENV, f"{key} is not a setting"


def test_given_a_service_naming_an_undeclared_secret_when_validated_then_compose_refuses_it(tmp_path: Path) -> None:
    for item in DOCKER.iterdir():
        if item.name != "compose.yaml":
            (tmp_path / item.name).symlink_to(item)
    text = (DOCKER / "compose.yaml").read_text(encoding="utf-8")
    (tmp_path / "compose.yaml").write_text(
        text.replace("secrets: [postgres_password, ari_password, ami_password]",
                     "secrets: [postgres_password, ari_password, ami_password, sip_trunk_password]"),
        encoding="utf-8")

    result = run([*compose_command(), "-f", "compose.yaml", "config", "--quiet"], cwd=tmp_path)

    assert result.returncode != 0
    assert "sip_trunk_password" in result.stderr


# ---- Dockerfiles ------------------------------------------------------------------------------------

DOCKERFILES = sorted(DOCKER.glob("*/Dockerfile"))


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_given_a_dockerfile_when_linted_by_hadolint_then_there_is_no_finding(dockerfile: Path) -> None:
    result = run([tool("hadolint"), "--no-color", "--config", str(DOCKER / ".hadolint.yaml"), str(dockerfile)])
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_given_a_dockerfile_then_everything_it_copies_exists_and_passes_its_dockerignore(dockerfile: Path) -> None:
    parser = DockerfileParser(str(dockerfile))
    ignore = (dockerfile.parent / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    sources = [arg for item in parser.structure if item["instruction"] == "COPY" and "--from=" not in item["value"]
               for arg in item["value"].split()[:-1] if not arg.startswith("--")]
    assert sources
    for source in sources:
        assert (REPO / source).exists(), f"{dockerfile.parent.name}: COPY {source} does not exist"
        assert _included(source.rstrip("/"), ignore), f"{dockerfile.parent.name}: {source} excluded by its dockerignore"


def _included(path: str, ignore: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; '!' re-includes (a directory covers its files)."""
    included = True
    for raw in ignore:
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
            included = negate
    return included


def test_given_the_dialer_dockerfile_then_it_runs_unprivileged_under_tini_with_no_secret_baked_in() -> None:
    parser = DockerfileParser(str(DOCKER / "dialer" / "Dockerfile"))
    assert parser.baseimage.startswith("python:3.11-slim")
    users = [item["value"] for item in parser.structure if item["instruction"] == "USER"]
    assert users and users[-1].split(":")[0].isdigit() and int(users[-1].split(":")[0]) > 0
    assert parser.structure[-2]["instruction"] == "ENTRYPOINT" and "/usr/bin/tini" in parser.structure[-2]["value"]
    _assert_no_secret_in(parser)


def test_given_the_asterisk_dockerfile_then_it_installs_asterisk_22_from_unstable_with_a_healthcheck() -> None:
    parser = DockerfileParser(str(DOCKER / "asterisk" / "Dockerfile"))
    assert "debian:sid" in parser.content
    assert parser.baseimage == "debian:sid-slim"
    runs = " ".join(item["value"] for item in parser.structure if item["instruction"] == "RUN")
    assert "apt-get install" in runs and " asterisk " in runs and "^Asterisk 22\\." in runs
    assert any(item["instruction"] == "HEALTHCHECK" for item in parser.structure)
    assert any(item["instruction"] == "COPY" and item["value"].startswith("asterisk_conf/")
               for item in parser.structure)
    _assert_no_secret_in(parser)


def _assert_no_secret_in(parser: DockerfileParser) -> None:
    for item in parser.structure:
        if item["instruction"] in ("ENV", "ARG", "LABEL"):
            assert not re.search(r"(?i)password|secret", item["value"]), item["content"]


SCRIPTS = [DOCKER / "dialer" / "entrypoint.sh", DOCKER / "asterisk" / "entrypoint.sh",
           DOCKER / "asterisk" / "make-prompts.sh", DOCKER / "make-secrets", DOCKER / "ci-tools"]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(DOCKER)))
def test_given_a_shell_script_of_the_images_when_checked_by_shellcheck_then_there_is_no_finding(script: Path) -> None:
    result = run([tool("shellcheck"), "--color=never", str(script)])
    assert result.returncode == 0, result.stdout
