"""Calling windows in the contact's local time, for every candidate zone at once.

A number whose zone is uncertain (area code and address disagree) may be called only when the
window is open in **all** candidate zones (12 CFR 1006.6(b)(1)(i) and its conflicting-location
comment; the same rule is applied to `cn` and `uk`). Local time means the wall clock the person
sees: in a spring-forward gap the skipped wall times never happen, in a fall-back overlap both
passes count.

Per zone, the open set on local date d is

    (profile window of d  ∪  recorded debtor agreements starting on an open day)  −  inconvenient times

Agreements (`WindowAgreement`) widen the window for that debtor only, only while valid, and only on
days the profile allows calls at all (a closed holiday stays closed). Consumer-named inconvenient
times (Reg F 1006.6(b)) are hard blocks, even inside an agreement. Both may wrap past midnight
(start > end), and then belong to the day they start on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dialer.compliance import localtime as lt
from dialer.compliance.facts import WindowAgreement
from dialer.compliance.profiles import CallingWindows

HORIZON_DAYS = 400          # give up looking for an opening after this long (None: never opens)
_CHUNK_DAYS = 2           # first look-ahead; grows 4x per empty chunk


@dataclass(frozen=True)
class ContactHours:
    """Everything that shapes one contact's calling hours, besides the profile."""

    zones: tuple[str, ...]
    agreements: tuple[WindowAgreement, ...] = ()
    inconvenient: tuple[tuple[time, time], ...] = ()


def is_open(windows: CallingWindows, hours: ContactHours, at: datetime) -> bool:
    return closed_reason(windows, hours, at) is None


def closed_reason(windows: CallingWindows, hours: ContactHours, at: datetime) -> str | None:
    """None when open in every zone; else 'holiday', 'inconvenient_time' or 'outside_window'."""
    if not hours.zones:
        raise ValueError("a contact needs at least one candidate time zone")
    utc_s = lt.epoch(at)
    for zone_name in hours.zones:
        reason = _closed_in_zone(windows, hours, zone_name, utc_s, at)
        if reason is not None:
            return reason
    return None


def _closed_in_zone(windows: CallingWindows, hours: ContactHours, zone_name: str,
                    utc_s: int, at: datetime) -> str | None:
    day = lt.local_date(zone_name, utc_s)
    second = lt.local_second_of_day(zone_name, utc_s)
    yesterday = day - timedelta(days=1)
    for start, end in hours.inconvenient:
        if _wall_hit(_secs(start), _secs(end), day, yesterday, second, lambda _d: True):
            return "inconvenient_time"
    base = windows.for_date(day)
    if base is not None and base.contains(second):
        return None
    for agreement in hours.agreements:
        if not _agreement_valid(agreement, at):
            continue
        if _wall_hit(_secs(agreement.start), _secs(agreement.end), day, yesterday, second,
                     lambda d: windows.for_date(d) is not None):
            return None
    return "holiday" if day in windows.holidays else "outside_window"


def _wall_hit(start: int, end: int, day: date, yesterday: date, second: int,
              day_ok: Callable[[date], bool]) -> bool:
    """Does a daily wall-clock span [start, end) (wrapping if start > end) cover `second` of `day`?"""
    if start < end:
        return start <= second < end and day_ok(day)
    if start > end:
        return (second >= start and day_ok(day)) or (second < end and day_ok(yesterday))
    return False


def next_open(windows: CallingWindows, hours: ContactHours, after: datetime,
              *, horizon_days: int = HORIZON_DAYS) -> datetime | None:
    """The first instant at or after `after` when every zone is open; None within the horizon.

    Exact to the second: open sets are built per zone as UTC intervals split at offset changes,
    then intersected, so DST gaps, overlaps and 30/45-minute offsets need no special cases.
    """
    if closed_reason(windows, hours, after) is None:
        return after
    if _never_open(windows, hours):
        return None
    # Every boundary is a whole second, so a closed `after` is closed from its floor second on.
    start = lt.epoch(after)
    cursor, chunk_days = start, _CHUNK_DAYS
    while cursor < start + horizon_days * 86_400:
        end = min(cursor + chunk_days * 86_400, start + horizon_days * 86_400)
        opening = open_intervals_s(windows, hours, cursor, end)
        if opening:
            return lt.from_epoch(opening[0][0])
        cursor, chunk_days = end, chunk_days * 4
    return None


def _never_open(windows: CallingWindows, hours: ContactHours) -> bool:
    """True when no time of day can ever be open (e.g. inconvenient times covering the window),
    judged on seconds of the day alone, generously: agreements as if always valid."""
    spans: list[lt.Interval] = []
    for window in (*windows.weekdays, *windows.holidays.values()):
        if window is not None:
            spans.append((window.start_s, window.end_s))
    if not spans:
        return True
    for agreement in hours.agreements:
        spans += _day_parts(_secs(agreement.start), _secs(agreement.end))
    blocked = [part for start, end in hours.inconvenient for part in _day_parts(_secs(start), _secs(end))]
    return not lt.subtract(lt.normalise(spans), lt.normalise(blocked))


def _day_parts(start: int, end: int) -> list[lt.Interval]:
    if start < end:
        return [(start, end)]
    if start > end:
        return [(start, 86_400), (0, end)]
    return []


def open_intervals(windows: CallingWindows, hours: ContactHours, start: datetime,
                   end: datetime) -> list[tuple[datetime, datetime]]:
    """The open stretches within [start, end), as UTC datetimes (reports, the simulator)."""
    return [(lt.from_epoch(a), lt.from_epoch(b))
            for a, b in open_intervals_s(windows, hours, lt.epoch(start), lt.epoch(end))]


def open_intervals_s(windows: CallingWindows, hours: ContactHours, start_s: int,
                     end_s: int) -> list[lt.Interval]:
    result: list[lt.Interval] = [(start_s, end_s)]
    for zone_name in hours.zones:
        result = lt.intersect(result, _zone_open(windows, hours, zone_name, start_s, end_s))
        if not result:
            break
    return result


def _zone_open(windows: CallingWindows, hours: ContactHours, zone_name: str, start_s: int,
               end_s: int) -> list[lt.Interval]:
    first = lt.local_date(zone_name, start_s) - timedelta(days=1)
    last = lt.local_date(zone_name, end_s) + timedelta(days=1)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]

    base_walls = []
    for day in days:
        window = windows.for_date(day)
        if window is not None:
            base_walls.append((lt.day_wall_start(day) + window.start_s, lt.day_wall_start(day) + window.end_s))
    open_set = lt.wall_to_utc(zone_name, base_walls, start_s, end_s)

    for agreement in hours.agreements:
        walls = _daily_walls(_secs(agreement.start), _secs(agreement.end),
                             [d for d in days if windows.for_date(d) is not None])
        valid_from = lt.epoch(agreement.valid_from)
        valid_until = lt.epoch(agreement.valid_until) if agreement.valid_until else end_s
        widened = lt.intersect(lt.wall_to_utc(zone_name, walls, start_s, end_s),
                               [(max(valid_from, start_s), min(valid_until, end_s))])
        open_set = lt.normalise(open_set + widened)

    blocked_walls = []
    for start, end in hours.inconvenient:
        blocked_walls += _daily_walls(_secs(start), _secs(end), days)
    if blocked_walls:
        open_set = lt.subtract(open_set, lt.wall_to_utc(zone_name, blocked_walls, start_s, end_s))
    return open_set


def _daily_walls(start: int, end: int, days: Sequence[date]) -> list[lt.Interval]:
    walls = []
    for day in days:
        base = lt.day_wall_start(day)
        if start < end:
            walls.append((base + start, base + end))
        elif start > end:
            walls.append((base + start, base + 86_400 + end))
    return walls


def _agreement_valid(agreement: WindowAgreement, at: datetime) -> bool:
    return agreement.valid_from <= at and (agreement.valid_until is None or at < agreement.valid_until)


def _secs(clock: time) -> int:
    return clock.hour * 3600 + clock.minute * 60 + clock.second
