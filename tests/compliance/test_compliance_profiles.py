"""Policy profiles are data: the built-in numbers, custom profiles, campaign overrides, and
validation errors that name the key at fault."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dialer.compliance.profiles import (
    DayWindow,
    ProfileError,
    builtin_profile,
    deep_merge,
    load_profiles,
)


def test_given_the_cn_profile_then_it_carries_the_published_chinese_numbers() -> None:
    cn = builtin_profile("cn")
    assert cn.windows.weekdays == (DayWindow(8 * 3600, 22 * 3600),) * 7
    assert cn.caps.conversations_per_debtor_day == 3
    assert cn.caps.attempts_per_number_day == 6
    assert cn.third_party.locked_until_unreachable
    assert cn.third_party.unlock_after_failed_attempts == 3
    assert cn.third_party.unlock_after_unreachable_days == 3
    assert cn.third_party.refusal_suppresses
    assert cn.abandonment.window == "calendar_day" and cn.abandonment.day_zone == "Asia/Shanghai"
    assert cn.retention.recordings_days >= 730


def test_given_the_us_profile_then_it_carries_regulation_f_and_tcpa_numbers() -> None:
    us = builtin_profile("us")
    assert us.windows.weekdays == (DayWindow(8 * 3600, 21 * 3600),) * 7
    assert (us.caps.attempts_per_debt_7d, us.caps.conversation_quiet_days) == (7, 7)
    assert us.caps.unanswered_min_gap_s == 300
    assert us.caps.attempts_per_number_day == 6          # "never 7 calls to one number a day"
    assert us.caps.consent_exclusion_days == 7
    assert (us.abandonment.ceiling, us.abandonment.window, us.abandonment.formula) == (0.03, "rolling_30d", "us")
    assert us.ring.floor_s == 15
    assert not us.abandonment.bot_counts_as_live


def test_given_the_uk_profile_then_it_carries_ofcom_numbers() -> None:
    uk = builtin_profile("uk")
    assert uk.lockouts.abandoned_redial_h == 72 and uk.lockouts.machine_same_day
    assert (uk.abandonment.window, uk.abandonment.formula, uk.abandonment.day_zone) == \
        ("calendar_day", "uk", "Europe/London")


def test_given_a_campaign_override_when_applied_then_only_the_named_keys_change() -> None:
    us = builtin_profile("us")
    massachusetts = us.with_overrides({"caps": {"attempts_per_debt_7d": 2}}, label="us-ma")
    assert massachusetts.caps.attempts_per_debt_7d == 2
    assert massachusetts.caps.conversation_quiet_days == 7
    assert massachusetts.windows == us.windows
    assert us.caps.attempts_per_debt_7d == 7                  # the base is untouched


def test_given_massachusetts_two_calls_in_seven_days_then_the_override_is_a_cap_and_a_window() -> None:
    ma = builtin_profile("us").with_overrides({"caps": {"attempts_per_debt_7d": 2, "debt_window_days": 7}})
    assert (ma.caps.attempts_per_debt_7d, ma.caps.debt_window_days) == (2, 7)
    with pytest.raises(ProfileError, match=r"caps\.debt_window_days: required"):
        builtin_profile("us").with_overrides({"caps": {"debt_window_days": None}})


def test_given_a_long_quiet_period_then_the_gate_is_told_to_load_more_history() -> None:
    us = builtin_profile("us")
    assert us.history_lookback().days == 9
    assert us.with_overrides({"caps": {"conversation_quiet_days": 30}}).history_lookback().days == 32
    assert builtin_profile("uk").history_lookback().days == 9       # 72 h fits in 7 days


def test_given_an_override_with_a_bad_value_then_the_error_names_the_key() -> None:
    with pytest.raises(ProfileError, match=r"^profiles\.us\.caps\.attempts_per_debt_7d: must be a positive integer"):
        load_profiles({"profiles": {"us": {"extends": "us", "caps": {"attempts_per_debt_7d": 0}}}})
    with pytest.raises(ProfileError, match=r"caps\.attempts_per_debt_7d: must be a positive integer"):
        builtin_profile("us").with_overrides({"caps": {"attempts_per_debt_7d": "seven"}})


@pytest.mark.parametrize(("overrides", "key", "message"), [
    ({"caps": {"attempts_per_number_day": True}}, "caps.attempts_per_number_day", "positive integer"),
    ({"caps": {"calls_per_hour": 3}}, "caps.calls_per_hour", "unknown key"),
    ({"window": {"weekdays": {"mon": ["22:00", "08:00"]}}}, "window.weekdays.mon", "before its end"),
    ({"window": {"weekdays": {"tue": ["8 am", "21:00"]}}}, "window.weekdays.tue", "not a clock time"),
    ({"window": {"holidays": {"christmas": None}}}, "window.holidays.christmas", "YYYY-MM-DD"),
    ({"abandonment": {"ceiling": 3}}, "abandonment.ceiling", "(0, 1]"),
    ({"abandonment": {"window": "weekly"}}, "abandonment.window", "must be one of"),
    ({"abandonment": {"day_zone": "Mars/Olympus"}}, "abandonment.day_zone", "unknown IANA time zone"),
    ({"abandonment": {"bot_counts_as_live": "yes"}}, "abandonment.bot_counts_as_live", "true or false"),
    ({"ring": {"floor_s": 20, "default_s": 10}}, "ring.default_s", "at least floor_s"),
])
def test_given_invalid_profile_values_then_each_error_names_its_key(overrides: dict, key: str, message: str) -> None:
    with pytest.raises(ProfileError) as error:
        load_profiles({"profiles": {"strict": {"extends": "us", **overrides}}})
    assert str(error.value).startswith(f"profiles.strict.{key}: ")
    assert message in str(error.value)


def test_given_a_custom_profile_file_extending_another_custom_one_then_both_load(tmp_path: Path) -> None:
    config = tmp_path / "dialer.yaml"
    config.write_text(
        "profiles:\n"
        "  cn-strict:\n"
        "    extends: cn\n"
        "    caps: {attempts_per_number_day: 3}\n"
        "    window:\n"
        "      holidays: {'2026-10-01': null, '2026-10-02': ['10:00', '16:00']}\n"
        "  cn-stricter:\n"
        "    extends: cn-strict\n"
        "    caps: {lifetime_attempts: 20}\n", encoding="utf-8")
    profiles = load_profiles(config)
    stricter = profiles["cn-stricter"]
    assert stricter.caps.attempts_per_number_day == 3 and stricter.caps.lifetime_attempts == 20
    assert stricter.windows.for_date(date(2026, 10, 1)) is None
    assert stricter.windows.for_date(date(2026, 10, 2)) == DayWindow(10 * 3600, 16 * 3600)
    assert stricter.windows.for_date(date(2026, 10, 8)) == DayWindow(8 * 3600, 22 * 3600)
    assert set(profiles) >= {"cn", "us", "uk", "cn-strict"}


def test_given_circular_or_unknown_extends_then_loading_fails_with_the_key() -> None:
    with pytest.raises(ProfileError, match=r"profiles\.a\.extends: circular"):
        load_profiles({"profiles": {"a": {"extends": "b"}, "b": {"extends": "a"}}})
    with pytest.raises(ProfileError, match=r"profiles\.a\.extends: unknown profile 'nope'"):
        load_profiles({"profiles": {"a": {"extends": "nope"}}})


def test_given_unquoted_yaml_clock_times_then_they_read_as_clock_times() -> None:
    # YAML 1.1 reads 08:00 unquoted as the base-60 integer 480
    profiles = load_profiles({"profiles": {"x": {"extends": "us", "window": {"weekdays": {"mon": [480, 1260]}}}}})
    assert profiles["x"].windows.weekdays[0] == DayWindow(8 * 3600, 21 * 3600)


def test_given_nested_mappings_when_deep_merging_then_lists_and_scalars_replace() -> None:
    merged = deep_merge({"a": {"b": 1, "c": [1, 2]}, "d": 1}, {"a": {"c": [3]}, "e": 2})
    assert merged == {"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}


def test_given_an_unknown_builtin_name_then_the_error_lists_the_builtins() -> None:
    with pytest.raises(ProfileError, match="built in: cn, us, uk"):
        builtin_profile("fr")
