"""Policy profiles: every number of docs/compliance.md as validated data, never a scattered constant.

A profile is loaded from YAML (`profiles/cn.yaml`, `us.yaml`, `uk.yaml`) or from a plain mapping
(custom profiles in the settings file), optionally `extends` another profile, and a campaign may
deep-merge overrides on top. All three paths go through the same validator, whose errors name the
key (`profiles.us.caps.attempts_per_debt_7d: must be a positive integer`) so an admin can fix it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

BUILTIN_PROFILES = ("cn", "us", "uk")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ABANDONMENT_WINDOWS = ("rolling_30d", "rolling_24h", "calendar_day")
ABANDONMENT_FORMULAS = ("us", "uk")
DAY_SECONDS = 86_400


class ProfileError(ValueError):
    """A profile that cannot be used; the message starts with the dotted key at fault."""


@dataclass(frozen=True)
class DayWindow:
    """Local wall-clock calling window [start_s, end_s) in seconds after local midnight."""

    start_s: int
    end_s: int

    def contains(self, second_of_day: int) -> bool:
        return self.start_s <= second_of_day < self.end_s


@dataclass(frozen=True)
class CallingWindows:
    weekdays: tuple[DayWindow | None, ...]           # Monday first; None: no calls that day
    holidays: Mapping[date, DayWindow | None] = field(default_factory=dict)

    def for_date(self, day: date) -> DayWindow | None:
        if day in self.holidays:
            return self.holidays[day]
        return self.weekdays[day.weekday()]


@dataclass(frozen=True)
class Caps:
    """Frequency caps; None disables a rule for the profile."""

    conversations_per_debtor_day: int | None = None   # cn GB/T 45251: 3
    attempts_per_number_day: int | None = None        # cn CBA 2026: 6; us CFPB FAQ: never 7
    attempts_per_debt_7d: int | None = None           # us 1006.14(b)(2)(i)(A): 7
    debt_window_days: int | None = 7                  # ... within 7 consecutive days
    conversation_quiet_days: int | None = None        # us 1006.14(b)(2)(i)(B): 7
    unanswered_min_gap_s: int | None = None           # us CFPB FAQ: 300
    consent_exclusion_days: int | None = None         # us 1006.14(b)(3): 7
    campaign_attempts: int | None = None              # per account per campaign
    lifetime_attempts: int | None = None              # per contact, all campaigns


@dataclass(frozen=True)
class Lockouts:
    abandoned_redial_h: int | None = None    # uk Ofcom: 72 unless a live agent is guaranteed
    machine_same_day: bool = False           # uk Ofcom: no same-day redial after AMD


@dataclass(frozen=True)
class RingPolicy:
    floor_s: int = 15                        # 47 CFR 64.1200(a)(6); Ofcom
    default_s: int = 30


@dataclass(frozen=True)
class AbandonmentPolicy:
    ceiling: float = 0.03
    window: str = "rolling_30d"
    day_zone: str = "UTC"                    # calendar-day window is counted in this zone
    formula: str = "us"
    bot_counts_as_live: bool = False         # open legal question: explicit, default no


@dataclass(frozen=True)
class ThirdPartyPolicy:
    locked_until_unreachable: bool = False
    unlock_after_failed_attempts: int = 3
    unlock_after_unreachable_days: int = 3
    refusal_suppresses: bool = True


@dataclass(frozen=True)
class Retention:
    recordings_days: int = 1095
    records_days: int = 1095


@dataclass(frozen=True)
class PolicyProfile:
    name: str
    windows: CallingWindows
    caps: Caps
    lockouts: Lockouts
    ring: RingPolicy
    abandonment: AbandonmentPolicy
    third_party: ThirdPartyPolicy
    retention: Retention
    in_flight_recheck_s: int = 30
    description: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def history_lookback(self) -> timedelta:
        """How much attempt history the gate must load for this profile's day-based rules
        (plus two days for zone offsets); calls still in flight are needed at any age."""
        spans = [7, self.caps.debt_window_days or 0, self.caps.conversation_quiet_days or 0,
                 -(-(self.lockouts.abandoned_redial_h or 0) // 24)]
        return timedelta(days=max(spans) + 2)

    def with_overrides(self, overrides: Mapping[str, Any], *, label: str | None = None) -> PolicyProfile:
        """A campaign's variant: `overrides` deep-merged over this profile, validated again."""
        merged = deep_merge(self.raw, overrides)
        return profile_from_mapping(label or self.name, merged, path=f"campaign.{label or self.name}")


# ---------------------------------------------------------------- loading


def builtin_profile(name: str) -> PolicyProfile:
    if name not in BUILTIN_PROFILES:
        raise ProfileError(f"profiles.{name}: unknown profile (built in: {', '.join(BUILTIN_PROFILES)})")
    text = resources.files("dialer.compliance").joinpath("profiles", f"{name}.yaml").read_text("utf-8")
    return profile_from_mapping(name, yaml.safe_load(text))


def load_profiles(config: Mapping[str, Any] | str | Path | None = None) -> dict[str, PolicyProfile]:
    """The built-in profiles plus the custom ones of a settings mapping or YAML file.

    Custom profiles live under the `profiles:` key; each may name a profile it `extends`
    (built-in or custom), whose values it deep-merges over.
    """
    if isinstance(config, (str, Path)):
        config = yaml.safe_load(Path(config).read_text("utf-8")) or {}
    raws: dict[str, Mapping[str, Any]] = {n: builtin_profile(n).raw for n in BUILTIN_PROFILES}
    custom = (config or {}).get("profiles", {}) or {}
    if not isinstance(custom, Mapping):
        raise ProfileError("profiles: must be a mapping of profile name to settings")
    resolving: list[str] = []

    def resolve(name: str) -> Mapping[str, Any]:
        if name in raws and name not in custom:
            return raws[name]
        if name in resolving:
            raise ProfileError(f"profiles.{name}.extends: circular ({' -> '.join(resolving + [name])})")
        if name not in custom:
            raise ProfileError(f"profiles.{resolving[-1]}.extends: unknown profile {name!r}")
        body = custom[name]
        if not isinstance(body, Mapping):
            raise ProfileError(f"profiles.{name}: must be a mapping")
        resolving.append(name)
        base_name = body.get("extends")
        body = {k: v for k, v in body.items() if k != "extends"}
        if base_name is None:
            merged: Mapping[str, Any] = body
        else:
            if base_name == name and name in BUILTIN_PROFILES:
                base = raws[name]
            else:
                base = resolve(str(base_name))
            merged = deep_merge(base, body)
        resolving.pop()
        return merged

    profiles = {n: builtin_profile(n) for n in BUILTIN_PROFILES}
    for name in custom:
        profiles[str(name)] = profile_from_mapping(str(name), resolve(str(name)))
    return profiles


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; any other value (lists, scalars, null) replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def profile_from_mapping(name: str, data: Any, *, path: str | None = None) -> PolicyProfile:
    at = path or f"profiles.{name}"
    root = _Node(at, data)
    root.only_keys({"description", "window", "caps", "lockouts", "ring", "abandonment",
                    "third_party", "retention", "in_flight_recheck_s"})
    window = root.child("window")
    window.only_keys({"weekdays", "holidays"})
    weekdays_node = window.child("weekdays")
    weekdays_node.only_keys(set(WEEKDAYS))
    weekdays = tuple(_day_window(weekdays_node.child(day, required=True)) for day in WEEKDAYS)
    holidays_node = window.child("holidays", default={})
    holidays: dict[date, DayWindow | None] = {}
    for key in holidays_node.mapping():
        day = _parse_date(f"{holidays_node.path}.{key}", key)
        holidays[day] = _day_window(holidays_node.child(key, key_name=str(key)))

    caps_node = root.child("caps")
    caps_node.only_keys(set(Caps.__dataclass_fields__))
    caps = Caps(**{k: caps_node.child(k, default=Caps.__dataclass_fields__[k].default).optional_positive_int()
                   for k in Caps.__dataclass_fields__})
    if caps.attempts_per_debt_7d is not None and caps.debt_window_days is None:
        raise ProfileError(f"{caps_node.path}.debt_window_days: required when attempts_per_debt_7d is set")

    lock_node = root.child("lockouts", default={})
    lock_node.only_keys(set(Lockouts.__dataclass_fields__))
    lockouts = Lockouts(
        abandoned_redial_h=lock_node.child("abandoned_redial_h", default=None).optional_positive_int(),
        machine_same_day=lock_node.child("machine_same_day", default=False).boolean(),
    )

    ring_node = root.child("ring", default={})
    ring_node.only_keys({"floor_s", "default_s"})
    ring = RingPolicy(floor_s=ring_node.child("floor_s", default=15).positive_int(),
                      default_s=ring_node.child("default_s", default=30).positive_int())
    if ring.default_s < ring.floor_s:
        raise ProfileError(f"{ring_node.path}.default_s: must be at least floor_s ({ring.floor_s})")

    ab_node = root.child("abandonment")
    ab_node.only_keys(set(AbandonmentPolicy.__dataclass_fields__))
    abandonment = AbandonmentPolicy(
        ceiling=ab_node.child("ceiling").fraction(),
        window=ab_node.child("window").choice(ABANDONMENT_WINDOWS),
        day_zone=ab_node.child("day_zone", default="UTC").zone(),
        formula=ab_node.child("formula", default="us").choice(ABANDONMENT_FORMULAS),
        bot_counts_as_live=ab_node.child("bot_counts_as_live", default=False).boolean(),
    )

    tp_node = root.child("third_party", default={})
    tp_node.only_keys(set(ThirdPartyPolicy.__dataclass_fields__))
    third_party = ThirdPartyPolicy(
        locked_until_unreachable=tp_node.child("locked_until_unreachable", default=False).boolean(),
        unlock_after_failed_attempts=tp_node.child("unlock_after_failed_attempts", default=3).positive_int(),
        unlock_after_unreachable_days=tp_node.child("unlock_after_unreachable_days", default=3).positive_int(),
        refusal_suppresses=tp_node.child("refusal_suppresses", default=True).boolean(),
    )

    ret_node = root.child("retention", default={})
    ret_node.only_keys({"recordings_days", "records_days"})
    retention = Retention(recordings_days=ret_node.child("recordings_days", default=1095).positive_int(),
                          records_days=ret_node.child("records_days", default=1095).positive_int())

    return PolicyProfile(
        name=name, windows=CallingWindows(weekdays, holidays), caps=caps, lockouts=lockouts,
        ring=ring, abandonment=abandonment, third_party=third_party, retention=retention,
        in_flight_recheck_s=root.child("in_flight_recheck_s", default=30).positive_int(),
        description=str(root.child("description", default="").value or ""),
        raw=copy.deepcopy(dict(data)),
    )


# ---------------------------------------------------------------- validation helpers


class _Node:
    """One value of the profile with its dotted path, for errors an admin can act on."""

    _MISSING = object()

    def __init__(self, path: str, value: Any) -> None:
        self.path = path
        self.value = value

    def fail(self, message: str) -> ProfileError:
        return ProfileError(f"{self.path}: {message}")

    def mapping(self) -> Mapping[Any, Any]:
        if not isinstance(self.value, Mapping):
            raise self.fail("must be a mapping")
        return self.value

    def only_keys(self, allowed: set[str]) -> None:
        for key in self.mapping():
            if key not in allowed:
                raise ProfileError(f"{self.path}.{key}: unknown key (expected one of {', '.join(sorted(allowed))})")

    def child(self, key: Any, *, default: Any = _MISSING, required: bool = False,
              key_name: str | None = None) -> _Node:
        values = self.mapping()
        path = f"{self.path}.{key_name or key}"
        if key in values:
            return _Node(path, values[key])
        if default is self._MISSING or required:
            raise ProfileError(f"{path}: required")
        return _Node(path, default)

    def positive_int(self) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value <= 0:
            raise self.fail("must be a positive integer")
        return self.value

    def optional_positive_int(self) -> int | None:
        return None if self.value is None else self.positive_int()

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail("must be true or false")
        return self.value

    def fraction(self) -> float:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)) \
                or not 0 < self.value <= 1:
            raise self.fail("must be a number in (0, 1], e.g. 0.03 for 3%")
        return float(self.value)

    def choice(self, options: tuple[str, ...]) -> str:
        if self.value not in options:
            raise self.fail(f"must be one of {', '.join(options)}")
        return str(self.value)

    def zone(self) -> str:
        try:
            ZoneInfo(str(self.value))
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(f"unknown IANA time zone {self.value!r}") from None
        return str(self.value)


def _day_window(node: _Node) -> DayWindow | None:
    """`null` (no calls) or `[HH:MM, HH:MM]`, end exclusive, `24:00` allowed as end."""
    if node.value is None:
        return None
    if not isinstance(node.value, (list, tuple)) or len(node.value) != 2:
        raise node.fail('must be null (no calls) or a pair ["HH:MM", "HH:MM"]')
    start = _parse_clock(node.path, node.value[0])
    end = _parse_clock(node.path, node.value[1])
    if not start < end:
        raise node.fail("window start must be before its end (same local day)")
    return DayWindow(start, end)


def _parse_clock(path: str, text: Any) -> int:
    if isinstance(text, int) and not isinstance(text, bool):
        # YAML 1.1 reads an unquoted 08:00 as the sexagesimal integer 480 (minutes)
        minutes = text
    else:
        try:
            hours, mins = str(text).split(":")
            minutes = int(hours) * 60 + int(mins)
            if not 0 <= int(mins) < 60:
                raise ValueError
        except ValueError:
            raise ProfileError(f"{path}: {text!r} is not a clock time HH:MM") from None
    if not 0 <= minutes <= 24 * 60:
        raise ProfileError(f"{path}: {text!r} is outside 00:00-24:00")
    return minutes * 60


def _parse_date(path: str, key: Any) -> date:
    if isinstance(key, date):
        return key
    try:
        return date.fromisoformat(str(key))
    except ValueError:
        raise ProfileError(f"{path}: holiday key must be a date YYYY-MM-DD") from None
