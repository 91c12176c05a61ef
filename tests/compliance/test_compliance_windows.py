"""Calling windows in local time: named zones, DST gaps and overlaps, several candidate zones,
debtor agreements, consumer-named inconvenient times, and an exact `next_open`."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.compliance.facts import WindowAgreement
from dialer.compliance.profiles import CallingWindows, builtin_profile, load_profiles
from dialer.compliance.windows import ContactHours, closed_reason, is_open, next_open, open_intervals

CN = builtin_profile("cn").windows
US = builtin_profile("us").windows
UTC = timezone.utc


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def custom_windows(start: str, end: str) -> CallingWindows:
    days = {d: [start, end] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    return load_profiles({"profiles": {"x": {"extends": "us", "window": {"weekdays": days}}}})["x"].windows


def test_given_shanghai_when_2159_local_then_open_and_at_2200_closed_until_0800() -> None:
    hours = ContactHours(("Asia/Shanghai",))
    assert is_open(CN, hours, utc(2026, 6, 1, 13, 59, 59))          # 21:59:59 CST
    assert closed_reason(CN, hours, utc(2026, 6, 1, 14)) == "outside_window"
    assert next_open(CN, hours, utc(2026, 6, 1, 14)) == utc(2026, 6, 2, 0)   # 08:00 CST


def test_given_indianapolis_on_the_spring_switch_then_the_window_opens_at_0800_eastern_daylight() -> None:
    hours = ContactHours(("America/Indiana/Indianapolis",))
    assert next_open(US, hours, utc(2026, 3, 8, 3)) == utc(2026, 3, 8, 12)   # 08:00 EDT, not EST
    assert not is_open(US, hours, utc(2026, 3, 8, 11, 59, 59))


def test_given_phoenix_without_dst_and_los_angeles_in_winter_then_only_the_common_hours_are_open() -> None:
    hours = ContactHours(("America/Phoenix", "America/Los_Angeles"))
    # January: Phoenix UTC-7, Los Angeles UTC-8. 08:00 in LA = 16:00 UTC; 21:00 in Phoenix = 04:00 UTC.
    assert open_intervals(US, hours, utc(2026, 1, 14, 12), utc(2026, 1, 15, 12)) == \
        [(utc(2026, 1, 14, 16), utc(2026, 1, 15, 4))]
    # July: both UTC-7, so the windows coincide.
    assert open_intervals(US, hours, utc(2026, 7, 14, 12), utc(2026, 7, 15, 12)) == \
        [(utc(2026, 7, 14, 15), utc(2026, 7, 15, 4))]


@pytest.mark.parametrize(("zone", "opens_utc"), [
    ("Asia/Kolkata", utc(2026, 2, 2, 2, 30)),       # UTC+5:30
    ("Asia/Kathmandu", utc(2026, 2, 2, 2, 15)),     # UTC+5:45
    ("Australia/Lord_Howe", utc(2026, 2, 1, 21)),   # UTC+11 in the southern summer
    ("Pacific/Chatham", utc(2026, 2, 1, 18, 15)),   # UTC+13:45
])
def test_given_half_hour_and_45_minute_zones_then_0800_local_is_exact(zone: str, opens_utc: datetime) -> None:
    hours = ContactHours((zone,))
    assert next_open(US, hours, opens_utc - timedelta(hours=5)) == opens_utc
    assert not is_open(US, hours, opens_utc - timedelta(seconds=1))


def test_given_lord_howe_half_hour_spring_gap_when_the_window_starts_inside_it_then_it_opens_at_the_gap_end() -> None:
    # 2026-10-04 02:00 LHST (UTC+10:30) jumps to 02:30 LHDT (UTC+11): 02:15 never happens.
    early = custom_windows("02:15", "05:00")
    hours = ContactHours(("Australia/Lord_Howe",))
    switch = utc(2026, 10, 3, 15, 30)
    assert next_open(early, hours, utc(2026, 10, 3, 12)) == switch
    assert not is_open(early, hours, switch - timedelta(seconds=1))


def test_given_lord_howe_half_hour_fall_overlap_then_the_repeated_half_hour_is_open_twice() -> None:
    # 2026-04-05 02:00 LHDT (UTC+11) falls back to 01:30 LHST (UTC+10:30): 01:30-02:00 repeats.
    night = custom_windows("01:30", "02:00")
    hours = ContactHours(("Australia/Lord_Howe",))
    # both passes, back to back: 01:30-02:00 at UTC+11, then 01:30-02:00 again at UTC+10:30
    assert open_intervals(night, hours, utc(2026, 4, 4, 12), utc(2026, 4, 4, 18)) == [
        (utc(2026, 4, 4, 14, 30), utc(2026, 4, 4, 15, 30))]


def test_given_london_across_both_switches_then_0800_local_follows_bst_and_gmt() -> None:
    hours = ContactHours(("Europe/London",))
    assert next_open(US, hours, utc(2026, 3, 29, 0, 30)) == utc(2026, 3, 29, 7)    # 08:00 BST
    assert next_open(US, hours, utc(2026, 3, 28, 21)) == utc(2026, 3, 29, 7)       # 21:00 GMT close
    assert next_open(US, hours, utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 25, 8)  # 08:00 GMT
    assert is_open(US, hours, utc(2026, 10, 24, 19, 59, 59)) and not is_open(US, hours, utc(2026, 10, 24, 20))


def test_given_london_wall_times_inside_the_gap_and_the_overlap_then_gap_is_empty_and_overlap_is_double() -> None:
    night = custom_windows("01:00", "01:30")
    hours = ContactHours(("Europe/London",))
    assert open_intervals(night, hours, utc(2026, 3, 28, 23), utc(2026, 3, 29, 3)) == []   # skipped hour
    assert open_intervals(night, hours, utc(2026, 10, 24, 23), utc(2026, 10, 25, 3)) == [
        (utc(2026, 10, 25, 0), utc(2026, 10, 25, 0, 30)),     # 01:00-01:30 BST
        (utc(2026, 10, 25, 1), utc(2026, 10, 25, 1, 30)),     # 01:00-01:30 GMT
    ]


def test_given_a_debtor_agreement_to_2300_then_that_debtor_is_callable_at_2230_and_others_are_not() -> None:
    agreed = ContactHours(("Asia/Shanghai",), agreements=(
        WindowAgreement(time(22), time(23), valid_from=utc(2026, 5, 1)),))
    plain = ContactHours(("Asia/Shanghai",))
    at = utc(2026, 6, 1, 14, 30)              # 22:30 CST
    assert is_open(CN, agreed, at)
    assert not is_open(CN, plain, at)
    assert not is_open(CN, agreed, utc(2026, 6, 1, 15))        # 23:00 CST
    assert next_open(CN, agreed, utc(2026, 6, 1, 15)) == utc(2026, 6, 2, 0)


def test_given_an_expired_agreement_or_a_closed_holiday_then_the_agreement_does_not_open_the_window() -> None:
    expired = ContactHours(("Asia/Shanghai",), agreements=(
        WindowAgreement(time(22), time(23), valid_from=utc(2026, 5, 1), valid_until=utc(2026, 6, 1)),))
    assert not is_open(CN, expired, utc(2026, 6, 1, 14, 30))
    holiday = load_profiles({"profiles": {"h": {"extends": "cn", "window": {"holidays": {"2026-10-01": None}}}}})["h"]
    agreed = ContactHours(("Asia/Shanghai",), agreements=(WindowAgreement(time(7), time(23), valid_from=utc(2026, 1, 1)),))
    assert closed_reason(holiday.windows, agreed, utc(2026, 10, 1, 4)) == "holiday"
    assert next_open(holiday.windows, agreed, utc(2026, 10, 1, 4)) == utc(2026, 10, 1, 23)  # 07:00 on the 2nd


def test_given_an_agreement_that_wraps_midnight_then_the_early_morning_belongs_to_the_previous_day() -> None:
    holiday = load_profiles({"profiles": {"h": {"extends": "cn", "window": {"holidays": {"2026-10-01": None}}}}})["h"]
    agreed = ContactHours(("Asia/Shanghai",), agreements=(WindowAgreement(time(21), time(7), valid_from=utc(2026, 1, 1)),))
    assert is_open(holiday.windows, agreed, utc(2026, 9, 30, 18))      # 02:00 on Oct 1: started Sep 30
    assert not is_open(holiday.windows, agreed, utc(2026, 10, 1, 18))  # 02:00 on Oct 2: started on the holiday
    assert not is_open(holiday.windows, agreed, utc(2026, 9, 30, 23))  # 07:00 on Oct 1: holiday, closed
    assert next_open(holiday.windows, agreed, utc(2026, 10, 1, 18)) == utc(2026, 10, 2, 0)   # 08:00 Oct 2


def test_given_a_consumer_named_inconvenient_time_then_it_blocks_even_inside_the_window() -> None:
    hours = ContactHours(("America/New_York",), inconvenient=((time(12), time(13)),))
    at = utc(2026, 6, 1, 16, 30)                 # 12:30 EDT
    assert closed_reason(US, hours, at) == "inconvenient_time"
    assert next_open(US, hours, at) == utc(2026, 6, 1, 17)


def test_given_inconvenient_times_covering_the_whole_window_then_next_open_is_none() -> None:
    hours = ContactHours(("America/New_York",), inconvenient=((time(7), time(22)),))
    assert next_open(US, hours, utc(2026, 6, 1, 16)) is None


ZONES = ("Asia/Shanghai", "America/Indiana/Indianapolis", "America/Phoenix", "Asia/Kolkata",
         "Asia/Kathmandu", "Australia/Lord_Howe", "Europe/London", "America/St_Johns",
         "Pacific/Chatham", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago")
quarter_hours = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@settings(max_examples=150, deadline=None)
@given(zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
       offset_s=st.integers(0, 366 * 86_400),
       inconvenient=st.lists(st.tuples(quarter_hours, quarter_hours), max_size=1),
       agreements=st.lists(st.tuples(quarter_hours, quarter_hours), max_size=1),
       profile=st.sampled_from(["cn", "us"]))
def test_given_any_zones_and_instant_then_next_open_is_open_and_nothing_earlier_is(
        zones: list[str], offset_s: int, inconvenient: list, agreements: list, profile: str) -> None:
    windows = builtin_profile(profile).windows
    hours = ContactHours(tuple(zones), tuple(WindowAgreement(a, b, valid_from=utc(2025, 1, 1)) for a, b in agreements),
                         tuple(inconvenient))
    after = utc(2025, 12, 31) + timedelta(seconds=offset_s)
    found = next_open(windows, hours, after)
    horizon = after + timedelta(days=3)
    if found is not None:
        assert is_open(windows, hours, found)
        if found > after:
            assert not is_open(windows, hours, found - timedelta(seconds=1))
        horizon = min(horizon, found)
    # Every boundary lies on a quarter hour of UTC here, so 5-minute steps see every opening.
    probe = after
    while probe < horizon:
        assert not is_open(windows, hours, probe), probe
        probe += timedelta(minutes=5)
