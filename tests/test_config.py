"""Settings: declared once, validated at start-up, errors name the key, secrets never in files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialer.config import ConfigError, load_settings


def test_given_nothing_then_defaults_and_a_sqlite_file_in_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.database_url == "sqlite:///var/dialer.sqlite3"
    assert settings["ami.port"] == 5038 and settings["telephony.backend"] == "ari"


def test_given_a_file_and_the_environment_then_the_environment_wins(tmp_path: Path) -> None:
    path = tmp_path / "dialer.yaml"
    path.write_text("ami:\n  port: 6000\ntelephony:\n  backend: ami\n", encoding="utf-8")
    settings = load_settings(path, environ={"DIALER_AMI_PORT": "7000"})
    assert settings["ami.port"] == 7000 and settings["telephony.backend"] == "ami"


@pytest.mark.parametrize(("text", "message"), [
    ("ami:\n  port: abc\n", "ami.port: expected int, got 'abc'"),
    ("ami:\n  port: 70000\n", "ami.port: must be a TCP port"),
    ("telephony:\n  backend: sip\n", "telephony.backend: must be one of ari, ami"),
    ("telephony:\n  bakend: ari\n", "telephony.bakend: unknown setting"),
    ("ari:\n  password: hunter2\n", "ari.password: secrets may not be written in the settings file"),
])
def test_given_a_bad_settings_file_then_the_error_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "dialer.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(path, environ={})


def test_given_a_secret_file_then_it_is_read_and_masked_in_public_output(tmp_path: Path) -> None:
    secret = tmp_path / "ari"
    secret.write_text("s3cret\n", encoding="utf-8")
    settings = load_settings(environ={"DIALER_ARI_PASSWORD_FILE": str(secret)})
    assert settings.require("ari.password") == "s3cret"
    assert settings.public()["ari.password"] == "***"


def test_given_no_secret_when_required_then_the_error_says_which_variable_to_set() -> None:
    with pytest.raises(ConfigError, match="ami.password: not set; export DIALER_AMI_PASSWORD"):
        load_settings(environ={}).require("ami.password")
