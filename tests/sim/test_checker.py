"""The independent checker recomputes abandonment from the call log alone."""

from __future__ import annotations

import pytest

from dialer.pacing.snapshot import DialResult
from dialer.sim.checker import check
from dialer.sim.engine import CallRecord
from dialer.sim.rules import SimRules

US = SimRules()


def live(i: int, at: float, *, wait: float | None = 0.5, bot: float | None = None) -> CallRecord:
    return CallRecord(i, i, at - 5.0, DialResult.LIVE, at, 60.0, 5.0,
                      connected_at=None if wait is None else at + wait,
                      bot_at=None if bot is None else at + bot, ended_at=at + 100.0)


def test_given_a_bad_hour_inside_a_good_day_when_checked_then_the_worst_hour_shows_it() -> None:
    calls = [live(i, 60.0 * i) for i in range(300)]               # 5 hours, one answer a minute
    for i in range(120, 126):                                     # 6 abandons in hour three
        calls[i] = live(i, 60.0 * i, wait=None)
    report = check(calls, US, duration_s=5 * 3600.0, channel_limit=100)
    assert report.abandon_rate == pytest.approx(6 / 300)
    assert report.worst_hour_rate == pytest.approx(6 / 60)
    assert report.hours_over_limit >= 1


def test_given_an_agent_after_the_grace_period_when_checked_then_the_call_is_abandoned() -> None:
    report = check([live(0, 10.0, wait=2.5), live(1, 20.0, wait=1.9)], US, duration_s=600.0, channel_limit=10)
    assert report.abandons == 1


def test_given_the_bot_took_the_call_when_the_profile_does_not_count_it_then_it_is_abandoned() -> None:
    calls = [live(0, 10.0, wait=None, bot=2.0)]
    assert check(calls, US, duration_s=600.0, channel_limit=10).abandons == 1
    counting = SimRules(bot_counts_as_live=True)
    assert check(calls, counting, duration_s=600.0, channel_limit=10).abandons == 0
    assert check(calls, US, duration_s=600.0, channel_limit=10).silent_abandons == 0


def test_given_more_concurrent_calls_than_channels_when_checked_then_the_excess_is_counted() -> None:
    calls = [CallRecord(i, i, 1.0, DialResult.NO_ANSWER, 26.0, ended_at=26.0) for i in range(5)]
    report = check(calls, US, duration_s=600.0, channel_limit=3)
    assert report.max_concurrent_lines == 5
    assert report.channel_limit_violations == 2
    assert report.max_dials_in_a_second == 5
