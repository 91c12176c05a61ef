"""Local wall-clock arithmetic on UTC instants, exact across DST gaps and overlaps.

Rules speak of "the debtor's local time" and "a day"; the dialer stores UTC instants. We work in
integer epoch seconds: within a stretch where a zone's UTC offset is constant, wall time is just
`utc + offset`, so any wall-clock interval maps to UTC exactly by splitting at offset changes.
Zone transitions in the tz database fall on whole seconds, so second resolution is exact.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

EPOCH_DAY = date(1970, 1, 1)
# Probe spacing when looking for offset changes. Real zones never change offset twice within
# three hours (Lord Howe's 30-minute DST and double summer time included).
_PROBE_S = 3 * 3600

Interval = tuple[int, int]   # [start, end) in epoch seconds


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def epoch(instant: datetime) -> int:
    """Whole epoch seconds (floor) of an aware instant."""
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant!r}: compliance needs aware UTC instants")
    # timestamp() is exact for whole seconds and floors correctly at microsecond precision
    return math.floor(instant.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)


def offset_at(zone_name: str, utc_s: int) -> int:
    """UTC offset in seconds at an instant, read from the cached offset segments of its UTC day."""
    for _lo, hi, off in _utc_day_segments(zone_name, utc_s // 86_400):
        if utc_s < hi:
            return off
    raise AssertionError("day segments cover the whole day")   # pragma: no cover


def _raw_offset(zone_name: str, utc_s: int) -> int:
    off = from_epoch(utc_s).astimezone(zone(zone_name)).utcoffset()
    assert off is not None
    return int(off.total_seconds())


def wall_seconds(zone_name: str, utc_s: int) -> int:
    """Local wall-clock time as seconds since the local epoch (1970-01-01 00:00 on that clock)."""
    return utc_s + offset_at(zone_name, utc_s)


def local_date(zone_name: str, utc_s: int) -> date:
    return EPOCH_DAY + timedelta(days=wall_seconds(zone_name, utc_s) // 86_400)


def local_second_of_day(zone_name: str, utc_s: int) -> int:
    return wall_seconds(zone_name, utc_s) % 86_400


def day_wall_start(day: date) -> int:
    """Wall seconds of local midnight that starts `day`."""
    return (day - EPOCH_DAY).days * 86_400


def offset_segments(zone_name: str, start_s: int, end_s: int) -> list[tuple[int, int, int]]:
    """[(seg_start, seg_end, offset)] covering [start_s, end_s) with a constant offset in each."""
    segments: list[tuple[int, int, int]] = []
    for day in range(start_s // 86_400, (end_s - 1) // 86_400 + 1):
        for lo, hi, off in _utc_day_segments(zone_name, day):
            lo, hi = max(lo, start_s), min(hi, end_s)
            if lo >= hi:
                continue
            if segments and segments[-1][2] == off and segments[-1][1] == lo:
                segments[-1] = (segments[-1][0], hi, off)
            else:
                segments.append((lo, hi, off))
    return segments


@lru_cache(maxsize=65_536)
def _utc_day_segments(zone_name: str, day: int) -> tuple[tuple[int, int, int], ...]:
    """Offset segments of one UTC day, cached: zones and days repeat across decisions."""
    start_s, end_s = day * 86_400, (day + 1) * 86_400
    segments: list[tuple[int, int, int]] = []
    seg_start = start_s
    current = _raw_offset(zone_name, start_s)
    probe = start_s
    while True:
        nxt = min(probe + _PROBE_S, end_s - 1)
        if nxt <= probe:
            break
        if _raw_offset(zone_name, nxt) == current:
            probe = nxt
            continue
        lo, hi = probe, nxt          # offset at lo is `current`, at hi it is not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _raw_offset(zone_name, mid) == current:
                lo = mid
            else:
                hi = mid
        segments.append((seg_start, hi, current))
        seg_start, current, probe = hi, _raw_offset(zone_name, hi), hi
    segments.append((seg_start, end_s, current))
    return tuple(segments)


def wall_to_utc(zone_name: str, wall_intervals: Iterable[Interval], start_s: int, end_s: int) -> list[Interval]:
    """All UTC instants in [start_s, end_s) whose wall clock falls in one of `wall_intervals`.

    A wall interval that falls in a spring-forward gap maps to nothing (that local time never
    happens); one in a fall-back overlap maps to both passes, as a wall clock would show them.
    """
    walls = sorted(wall_intervals)
    result: list[Interval] = []
    for seg_start, seg_end, off in offset_segments(zone_name, start_s, end_s):
        for w_start, w_end in walls:
            lo = max(w_start - off, seg_start)
            hi = min(w_end - off, seg_end)
            if lo < hi:
                result.append((lo, hi))
    return normalise(result)


def next_local_midnight(zone_name: str, utc_s: int) -> int:
    """First instant after `utc_s` whose local date is later than the local date at `utc_s`."""
    return local_day_start(zone_name, local_date(zone_name, utc_s) + timedelta(days=1))


def local_day_start(zone_name: str, day: date) -> int:
    """Earliest instant whose local date is `day` or later (local midnight, or the end of a gap).

    Local dates only move forward in the modern tz database, so bisection is exact. UTC offsets
    lie within [-12 h, +14 h], so the answer is within 16 h of midnight read as UTC.
    """
    midnight = day_wall_start(day)
    lo, hi = midnight - 16 * 3600, midnight + 16 * 3600   # lo: still before `day`; hi: on or after
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if wall_seconds(zone_name, mid) >= midnight:
            hi = mid
        else:
            lo = mid
    return hi


# ---------------------------------------------------------------- interval sets


def normalise(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for lo, hi in sorted(i for i in intervals if i[0] < i[1]):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """a minus b, both sorted and disjoint (as `normalise` returns them), in one linear pass."""
    out: list[Interval] = []
    j = 0
    for lo, hi in a:
        while j < len(b) and b[j][1] <= lo:
            j += 1
        cursor, k = lo, j
        while k < len(b) and b[k][0] < hi:
            if b[k][0] > cursor:
                out.append((cursor, b[k][0]))
            cursor = max(cursor, b[k][1])
            k += 1
        if cursor < hi:
            out.append((cursor, hi))
    return out
