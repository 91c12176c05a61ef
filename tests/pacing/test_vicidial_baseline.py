"""The VICIdial ADAPT_* baseline behaves as its documentation says (reference/PACING.md)."""

from __future__ import annotations

from benchmarks.vicidial import VicidialAdaptPacer
from dialer.pacing.snapshot import Counters, DialLimits, PacingSnapshot

ROOMY = DialLimits(channel_limit=1000, max_lines_per_agent=10, calls_per_second=100)


def idle_floor(now: float, counters: Counters = Counters()) -> PacingSnapshot:
    return PacingSnapshot(now=now, free_agents=5, talking=(30.0,) * 5, counters=counters, limits=ROOMY)


def test_given_idle_agents_for_a_minute_when_adapting_then_the_dial_level_rises() -> None:
    pacer = VicidialAdaptPacer()
    for t in range(60):
        pacer.calls_to_place(idle_floor(float(t)))
    assert pacer.level > 1.5


def test_given_drops_over_the_limit_since_midnight_when_hard_limit_then_level_is_held_at_one() -> None:
    pacer = VicidialAdaptPacer(method="ADAPT_HARD_LIMIT")
    for t in range(200):
        counters = Counters(dials=10 * t, live_answers=2 * t, abandons=t // 5)   # 10 % dropped
        pacer.calls_to_place(idle_floor(float(t), counters))
    assert pacer.level == 1.0


def test_given_level_one_when_placing_then_it_dials_like_progressive_every_two_and_a_half_seconds() -> None:
    pacer = VicidialAdaptPacer()
    placed = [pacer.calls_to_place(idle_floor(float(t))) for t in range(3)]
    assert placed == [5, 0, 0]   # goal = level × (ready + in call) − live calls, every 2.5 s
