"""Settings, declared once: defaults, then a YAML file, then `DIALER_*` environment variables.

Every key is declared in `SETTINGS` with its type and default; unknown keys and bad values fail at
start-up with the key named (`ami.port: expected int, got 'abc'`). Secrets (the
`*_password` keys) never have working defaults and are read only from the environment or from a
file named by `<key>_file` (Docker/systemd secrets), never from the settings file itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the key."""


@dataclass(frozen=True)
class Setting:
    key: str
    kind: type
    default: Any
    help: str
    secret: bool = False
    choices: tuple[str, ...] = ()
    check: Callable[[Any], str | None] | None = None


def _positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _not_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _port(value: Any) -> str | None:
    return None if 0 < value < 65536 else "must be a TCP port (1-65535)"


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", str, "var", "Directory for the SQLite file, TTS cache, recordings index, state."),
    Setting("recordings.dir", str, "/var/spool/asterisk/monitor",
            "Where Asterisk's MixMonitor writes call recordings (retention deletes them there)."),
    Setting("database.url", str, "", "SQLAlchemy URL; empty: sqlite file <data_dir>/dialer.sqlite3."),
    Setting("profile.default", str, "cn", "Policy profile for new campaigns (cn, us, uk or custom)."),
    Setting("profile.custom_file", str, "", "YAML file with custom policy profiles."),
    Setting("telephony.backend", str, "ari", "How to originate: ari or ami.", choices=("ari", "ami")),
    Setting("telephony.server_name", str, "asterisk-1", "Name of this Asterisk server in attempts."),
    Setting("ari.url", str, "http://127.0.0.1:8088/ari", "ARI base URL."),
    Setting("ari.app", str, "dialer", "Stasis application name."),
    Setting("ari.user", str, "dialer", "ARI user."),
    Setting("ari.password", str, None, "ARI password (env/file only).", secret=True),
    Setting("ami.host", str, "127.0.0.1", "AMI host."),
    Setting("ami.port", int, 5038, "AMI port.", check=_port),
    Setting("ami.user", str, "dialer", "AMI user."),
    Setting("ami.password", str, None, "AMI password (env/file only).", secret=True),
    Setting("telephony.channel_limit", int, 60, "Concurrent channels this Asterisk may carry.", check=_positive),
    Setting("telephony.dial", str, "",
            "Dial string template, e.g. PJSIP/{number}@carrier; empty: the dialplan's default trunk."),
    Setting("fastagi.host", str, "127.0.0.1", "FastAGI bind address (loopback by default)."),
    Setting("fastagi.port", int, 4573, "FastAGI port.", check=_port),
    Setting("fastagi.allowed_hosts", str, "127.0.0.1", "Comma-separated Asterisk hosts allowed to connect."),
    Setting("bot.listen", str, "stream", "How the bot hears speech: stream (live audio tap, its own end of speech) "
            "or record (RECORD FILE, 1 s end of speech).", choices=("stream", "record")),
    Setting("bot.tap_host", str, "127.0.0.1", "Address the audio tap (AudioSocket) listens on."),
    Setting("bot.tap_port", int, 4574, "Audio tap (AudioSocket) port.", check=_port),
    Setting("bot.tap_advertise", str, "", "Address Asterisk connects to for the tap (default: bot.tap_host)."),
    Setting("bot.quick_end_seconds", float, 0.2, "Silence that ends a complete spoken answer.", check=_positive),
    Setting("bot.end_seconds", float, 0.6, "Silence that ends any spoken answer.", check=_positive),
    Setting("bot.barge_in_seconds", float, 0.4, "Speech over a prompt that stops it, so the caller can "
            "answer before the question ends (live listening only); 0: prompts always play to the end.",
            check=_not_negative),
    Setting("bot.stream_decoders", int, 8, "Live decoders each recogniser worker keeps loaded (~95 MB each; "
            "one per answer being heard at once).", check=_positive),
    Setting("bot.business_name", str, "", "The business the bot says it calls for (required by every profile)."),
    Setting("bot.callback_number", str, "", "Number the bot gives for call-backs when the campaign has no caller ID."),
    Setting("pacer.tick_seconds", float, 1.0, "Pacer decision interval.", check=_positive),
    Setting("daemon.node", str, "", "This daemon's name in attempts and audit; default: host name."),
    Setting("daemon.grace_seconds", float, 60.0, "On SIGTERM, how long calls in progress may finish.",
            check=_positive),
    Setting("daemon.lease_seconds", float, 5.0,
            "Scale-out: a node silent this long is gone; its campaigns' pacing passes to another node.",
            check=_positive),
    Setting("metrics.port", int, 9464, "Prometheus metrics port; 0 disables the endpoint.",
            check=lambda v: None if 0 <= v < 65536 else "must be 0 (off) or a TCP port"),
    Setting("metrics.host", str, "127.0.0.1", "Address the metrics endpoint binds (loopback by default)."),
    Setting("agents.api_port", int, 0, "Agents' HTTP API port in `dialer run` (preview/manual calls, screen-pop); "
            "0: off.", check=lambda v: None if 0 <= v < 65536 else "must be 0 (off) or a TCP port"),
    Setting("agents.api_host", str, "127.0.0.1", "Address the agents' API binds (loopback by default)."),
    Setting("agents.api_token", str, None, "Bearer token of the agents' API (env/file only).", secret=True),
    Setting("agents.preview_hold_seconds", int, 120, "How long a previewed account stays held for the agent.",
            check=_positive),
    Setting("agents.skip_defer_minutes", int, 30, "A skipped preview is not proposed again for this long.",
            check=_positive),
    Setting("log.mask_pii", bool, True, "Mask phone numbers and amounts in logs."),
    Setting("log.format", str, "json", "Log lines as JSON objects (json) or plain text (text).",
            choices=("json", "text")),
    Setting("sms.gateway", str, "file", "SMS gateway: file, webhook or smpp.", choices=("file", "webhook", "smpp")),
    Setting("sms.webhook_url", str, "", "URL for the webhook SMS gateway."),
    Setting("sms.creditor", str, "", "Creditor name in texts; empty: no texts are planned."),
    Setting("sms.pay_how", str, "", "How to pay, as the texts say it."),
    Setting("sms.contact_phone", str, "", "Number the texts give for questions."),
    Setting("sms.disclosure", str, "", "en-US collector disclosure in texts (15 U.S.C. 1692e(11))."),
    Setting("sms.hours", str, "08:00-21:00", "Local hours texts may go out, inside the profile's window."),
    Setting("scheduler.zone", str, "", "Zone of the daily jobs; empty: the default profile's day zone."),
    Setting("scheduler.enabled", bool, True, "Run the strategy jobs (stage advance, promises, SMS) in `dialer run`."),
)

_BY_KEY = {s.key: s for s in SETTINGS}


class Settings:
    """Validated settings; read with `settings["ami.port"]` or the typed properties."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: str) -> Any:
        if key not in _BY_KEY:
            raise KeyError(f"unknown setting {key!r}")
        return self._values[key]

    @property
    def data_dir(self) -> Path:
        return Path(self._values["data_dir"])

    @property
    def database_url(self) -> str:
        url = self._values["database.url"]
        return url or f"sqlite:///{self.data_dir / 'dialer.sqlite3'}"

    def require(self, key: str) -> Any:
        """A value that must be set for the current command (e.g. a password before connecting)."""
        value = self[key]
        if value in (None, ""):
            env = _env_name(key)
            raise ConfigError(f"{key}: not set; export {env} or {env}_FILE (secrets are never read "
                              "from the settings file)")
        return value

    def public(self) -> dict[str, Any]:
        """Settings with secrets masked, for `dialer config show`."""
        return {k: ("***" if _BY_KEY[k].secret and v else v) for k, v in self._values.items()}


def load_settings(path: str | os.PathLike[str] | None = None, *, overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {s.key: s.default for s in SETTINGS}
    file_values = _read_file(Path(path)) if path else _read_default_file()
    for key, raw in file_values.items():
        setting = _lookup(key)
        if setting.secret:
            raise ConfigError(f"{key}: secrets may not be written in the settings file; "
                              f"use {_env_name(key)} or {_env_name(key)}_FILE")
        values[key] = _coerce(setting, raw)
    for setting in SETTINGS:
        env = _env_name(setting.key)
        if env in environ:
            values[setting.key] = _coerce(setting, environ[env])
        elif setting.secret and f"{env}_FILE" in environ:
            values[setting.key] = _read_secret_file(setting.key, environ[f"{env}_FILE"])
    for key, raw in (overrides or {}).items():
        if raw is not None:
            values[key] = _coerce(_lookup(key), raw)
    return Settings(values)


def _env_name(key: str) -> str:
    return "DIALER_" + key.upper().replace(".", "_")


def _lookup(key: str) -> Setting:
    if key not in _BY_KEY:
        raise ConfigError(f"{key}: unknown setting (known: {', '.join(sorted(_BY_KEY))})")
    return _BY_KEY[key]


def _coerce(setting: Setting, raw: Any) -> Any:
    key = setting.key
    try:
        if setting.kind is bool:
            value = _to_bool(raw)
        elif setting.kind is int:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            value = int(raw)
        elif setting.kind is float:
            if isinstance(raw, bool):
                raise ValueError
            value = float(raw)
        else:
            if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
                raise ValueError
            value = str(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: expected {setting.kind.__name__}, got {raw!r}") from None
    if setting.choices and value not in setting.choices:
        raise ConfigError(f"{key}: must be one of {', '.join(setting.choices)}, got {value!r}")
    if setting.check and (problem := setting.check(value)):
        raise ConfigError(f"{key}: {problem}, got {value!r}")
    return value


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _read_default_file() -> dict[str, Any]:
    default = Path("dialer.yaml")
    return _read_file(default) if default.is_file() else {}


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"settings file {path} not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return _flatten(data)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping) and key not in _BY_KEY:
            flat.update(_flatten(value, key + "."))
        else:
            flat[key] = value
    return flat


def _read_secret_file(key: str, file_name: str) -> str:
    try:
        return Path(file_name).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{key}: cannot read secret file {file_name}: {exc.strerror}") from None
