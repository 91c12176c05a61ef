"""What the scheduled jobs need from the settings, as plain values that can be pickled into the
job store: no secrets (passwords stay in the environment and are read when a job runs)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

from dialer.compliance.profiles import load_profiles
from dialer.config import SETTINGS, ConfigError, Settings
from dialer.scheduling.texts import Sender

_DECLARED = {s.key for s in SETTINGS}


@dataclass(frozen=True)
class SchedulingOptions:
    zone: str                       # cron zone; also the dpd calendar of debtors with no known zone
    data_dir: str
    profile_file: str               # custom profiles file, "" for the built-in ones
    default_profile: str            # its window bounds texts whose campaign is not known at send time
    sms_gateway: str                # file | webhook | smpp
    sms_webhook_url: str
    sms_creditor: str = ""          # empty: no texts are planned (sending still drains the outbox)
    sms_pay_how: str = ""
    sms_contact_phone: str = ""
    sms_disclosure: str = ""
    sms_hours: str = "08:00-21:00"
    recordings_dir: str = "/var/spool/asterisk/monitor"   # retention deletes recordings there

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.zone)
        except (KeyError, ValueError) as error:
            raise ConfigError(f"scheduler.zone: unknown IANA zone {self.zone!r}") from error
        _hours(self.sms_hours)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> SchedulingOptions:
        """Read the declared settings; keys not declared yet in `dialer.config` keep the defaults
        above (see dialer/scheduling/README.md for the settings to declare)."""
        default_profile = settings["profile.default"]
        values: dict[str, Any] = {
            "zone": _default_zone(settings, default_profile),
            "data_dir": str(settings.data_dir),
            "profile_file": settings["profile.custom_file"],
            "default_profile": default_profile,
            "sms_gateway": settings["sms.gateway"],
            "sms_webhook_url": settings["sms.webhook_url"],
        }
        for key, name in (("scheduler.zone", "zone"), ("sms.creditor", "sms_creditor"),
                          ("sms.pay_how", "sms_pay_how"), ("sms.contact_phone", "sms_contact_phone"),
                          ("sms.disclosure", "sms_disclosure"), ("sms.hours", "sms_hours"),
                          ("recordings.dir", "recordings_dir")):
            if key in _DECLARED and settings[key] not in (None, ""):
                values[name] = settings[key]
        return cls(**{**values, **overrides})

    def sender(self) -> dict[str, str] | None:
        """The sender as job arguments, or None when the creditor's details are not configured."""
        if not (self.sms_creditor and self.sms_pay_how and self.sms_contact_phone):
            return None
        return {"creditor": self.sms_creditor, "pay_how": self.sms_pay_how,
                "contact_phone": self.sms_contact_phone, "disclosure": self.sms_disclosure,
                "hours": self.sms_hours}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sender_from(values: dict[str, str]) -> Sender:
    return Sender(creditor=values["creditor"], pay_how=values["pay_how"],
                  contact_phone=values["contact_phone"], disclosure=values.get("disclosure", ""),
                  hours=_hours(values.get("hours", "08:00-21:00")))


def _hours(text: str) -> tuple[time, time]:
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError as error:
        raise ConfigError(f"sms.hours: expected HH:MM-HH:MM, got {text!r}") from error
    return start, end


def _default_zone(settings: Settings, profile_name: str) -> str:
    # The default profile's abandonment day zone is where its debtors' days turn (cn: Shanghai).
    profiles = load_profiles(settings["profile.custom_file"] or None)
    profile = profiles.get(profile_name)
    return profile.abandonment.day_zone if profile is not None else "UTC"
