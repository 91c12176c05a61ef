"""Estimators learn only from observable events and follow drift."""

from __future__ import annotations

import numpy as np
import pytest

from dialer.pacing.estimators import (
    DecayedAbandonment,
    DurationModel,
    OutcomeModel,
    RollingAbandonment,
    agents_free_by,
)
from dialer.pacing.snapshot import Counters, DialResult, ResolvedDial

LIVE, MACHINE, NO_ANSWER = DialResult.LIVE, DialResult.MACHINE, DialResult.NO_ANSWER


def _dials(result: DialResult, ring_s: float, count: int) -> tuple[ResolvedDial, ...]:
    return tuple(ResolvedDial(result, ring_s) for _ in range(count))


def test_given_a_mix_of_results_when_observed_then_probabilities_match_the_shares() -> None:
    model = OutcomeModel()
    model.observe(0.0, _dials(LIVE, 8, 30) + _dials(MACHINE, 12, 20) + _dials(NO_ANSWER, 25, 50))
    assert model.probability(LIVE) == pytest.approx(0.3)
    assert model.probability(NO_ANSWER) == pytest.approx(0.5)
    # a new dial: live and answered within 9 s (bins 0..8) with probability 0.3, not within 5 s
    assert model.live_by(10)[8] == pytest.approx(0.3)
    assert model.live_by(10)[5] == 0.0


def test_given_a_call_ringing_past_every_live_answer_delay_when_forecast_then_it_will_not_turn_live() -> None:
    model = OutcomeModel()
    model.observe(0.0, _dials(LIVE, 8, 30) + _dials(NO_ANSWER, 25, 70))
    fresh, late = model.live_arrivals(np.array([0.0, 15.0]), 20)
    assert fresh[-1] == pytest.approx(0.3)
    assert late[-1] == 0.0


def test_given_the_answer_rate_drops_when_time_passes_then_the_estimate_follows() -> None:
    model = OutcomeModel(memory_s=600.0, min_memory_dials=50)
    model.observe(0.0, _dials(LIVE, 8, 500) + _dials(NO_ANSWER, 25, 500))
    for minute in range(1, 61):
        model.observe(minute * 60.0, _dials(LIVE, 8, 1) + _dials(NO_ANSWER, 25, 9))
    assert model.probability(LIVE) == pytest.approx(0.1, abs=0.02)


def test_given_talks_of_exactly_100s_when_asking_residual_life_then_it_depends_on_elapsed_time() -> None:
    talk = DurationModel()
    talk.observe(0.0, (100.0,) * 50)
    pmf = talk.residual_pmf(np.array([95.0, 10.0]), 30)
    assert pmf[0].sum() == pytest.approx(1.0)          # nearly done: ends within 30 s for sure
    assert pmf[0, :4].sum() < 1e-9 and pmf[0, 5] == pytest.approx(1.0)
    assert pmf[1].sum() == pytest.approx(0.0)          # 90 s to go: not within 30 s


def test_given_talk_and_wrap_when_asking_agents_free_then_wrap_is_added_to_the_residual_talk() -> None:
    talk, wrap = DurationModel(), DurationModel(max_s=600)
    talk.observe(0.0, (100.0,) * 50)
    wrap.observe(0.0, (10.0,) * 50)
    ready = agents_free_by(talk, wrap, np.array([95.0]), np.array([5.0]), 30)
    talker, wrapper = ready
    assert talker[10] < 0.5 and talker[20] == pytest.approx(1.0)   # 5 s talk + 10 s wrap
    assert wrapper[3] < 0.5 and wrapper[6] == pytest.approx(1.0)   # 5 s of wrap left


def test_given_a_call_longer_than_any_seen_when_asking_residual_life_then_a_memoryless_tail_is_used() -> None:
    talk = DurationModel()
    talk.observe(0.0, (60.0,) * 20)
    pmf = talk.residual_pmf(np.array([500.0]), 30)
    assert 0.0 < pmf.sum() < 1.0


def test_given_old_abandons_when_the_hour_rolls_on_then_they_leave_the_window() -> None:
    rolling = RollingAbandonment(keep_s=3600.0)
    rolling.record(0.0, Counters())
    rolling.record(10.0, Counters(live_answers=100, abandons=5))
    assert rolling.trailing(10.0).rate == pytest.approx(0.05)
    rolling.record(3700.0, Counters(live_answers=200, abandons=5))
    window = rolling.trailing(3700.0)
    assert (window.lives, window.abandons, window.span_s) == (100, 0, 3600.0)
    assert rolling.overall.rate == pytest.approx(0.025)


def test_given_a_burst_of_abandons_when_it_ages_then_the_decayed_rate_falls_smoothly() -> None:
    rate = DecayedAbandonment(memory_s=600.0)
    rate.record(0.0, Counters())
    rate.record(1.0, Counters(live_answers=100, abandons=10))
    first = rate.rate
    rate.record(1200.0, Counters(live_answers=200, abandons=10))
    assert first == pytest.approx(0.1)
    assert 0.0 < rate.rate < first
