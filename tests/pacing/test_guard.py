"""The rolling-hour guard: room for abandons in every hour that ends in the coming minutes."""

from __future__ import annotations

import pytest
from scipy.stats import poisson

from dialer.pacing.guard import HourGuard, HourLedger, poisson_room
from dialer.pacing.snapshot import Counters


def test_given_k_abandons_of_room_then_the_allowed_mean_exceeds_k_with_probability_epsilon() -> None:
    room = poisson_room(20, 0.05)
    for k in (0, 1, 5, 20):
        assert poisson.sf(k, room[k]) == pytest.approx(0.05, rel=1e-6)
    assert list(room) == sorted(room)


def test_given_ticks_recorded_when_counting_between_two_instants_then_only_those_events_count() -> None:
    ledger = HourLedger()
    for t, lives, abandons in ((0.0, 0, 0), (10.0, 5, 0), (20.0, 9, 1), (4000.0, 12, 1)):
        ledger.record(t, Counters(live_answers=lives, abandons=abandons))
    assert ledger.between(400.0, 4000.0) == (3, 0)       # 10 s and 20 s have left the hour
    assert ledger.between(3000.0, 3999.0) == (0, 0)


def test_given_a_slow_hour_without_abandons_when_asked_then_the_guard_still_leaves_room() -> None:
    # The old guard's trap: 30 answers in an hour (progressive dialling at 10 % live) made one
    # reserved abandon 3.3 % and kept the pacer progressive for good.
    guard = HourGuard(ceiling=0.03)
    for minute in range(61):
        guard.record(60.0 * minute, Counters(live_answers=minute // 2))
    assert guard.allowed_rate(3660.0, lives_per_s=140 / 3600, in_flight_abandons=0.0) > 0.0


def test_given_an_hour_over_the_ceiling_when_asked_then_there_is_no_room() -> None:
    guard = HourGuard(ceiling=0.03)
    guard.record(0.0, Counters())
    guard.record(3500.0, Counters(live_answers=100, abandons=4))
    assert guard.allowed_rate(3500.0, lives_per_s=100 / 3600, in_flight_abandons=0.0) == 0.0


def test_given_an_hour_at_the_ceiling_when_asked_then_the_room_is_a_sliver() -> None:
    guard = HourGuard(ceiling=0.03)
    guard.record(0.0, Counters())
    guard.record(3500.0, Counters(live_answers=100, abandons=3))
    assert 0.0 < guard.allowed_rate(3500.0, lives_per_s=100 / 3600, in_flight_abandons=0.0) < 0.01


def test_given_abandons_in_flight_when_asked_then_they_use_up_the_room() -> None:
    guard = HourGuard(ceiling=0.03)
    guard.record(0.0, Counters())
    guard.record(3000.0, Counters(live_answers=300, abandons=2))
    free = guard.allowed_rate(3600.0, lives_per_s=0.1, in_flight_abandons=0.0)
    busy = guard.allowed_rate(3600.0, lives_per_s=0.1, in_flight_abandons=2.0)
    assert 0.0 <= busy < free
