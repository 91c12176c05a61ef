"""Every pacer: one interface, the same limits, progressive when it must be."""

from __future__ import annotations

import pytest

from dialer.pacing.pacers import make_pacer, pacer_names
from dialer.pacing.pacers.predictive import PredictivePacer, team_target
from dialer.pacing.snapshot import (
    Counters,
    DialLimits,
    DialResult,
    Observations,
    PacingSnapshot,
    ResolvedDial,
)

ROOMY = DialLimits(channel_limit=1000, max_lines_per_agent=10, calls_per_second=100)


def history() -> Observations:
    """An hour's worth of learning: 20 % live at ~8 s, the rest machines and ring-outs."""
    resolved = ((ResolvedDial(DialResult.LIVE, 8.0),) * 200 + (ResolvedDial(DialResult.MACHINE, 10.0),) * 200
                + (ResolvedDial(DialResult.NO_ANSWER, 25.0),) * 600)
    return Observations(resolved, talk_seconds=(100.0,) * 100, wrap_seconds=(2.0,) * 100)


def warmed(**params: float) -> PredictivePacer:
    pacer = PredictivePacer(**params)
    pacer.calls_to_place(PacingSnapshot(now=0.0, free_agents=0, recent=history(), limits=ROOMY,
                                        counters=Counters(dials=1000, live_answers=200)))
    return pacer


def busy_floor(now: float, **changes: object) -> PacingSnapshot:
    """20 agents: 2 free, 18 talking (100 s calls), a third of them about to finish."""
    fields: dict[str, object] = dict(
        now=now, free_agents=2, talking=(99.0,) * 6 + (30.0,) * 12, ringing=(1.0,) * 4,
        counters=Counters(dials=1000, live_answers=200), limits=ROOMY)
    fields.update(changes)
    return PacingSnapshot(**fields)  # type: ignore[arg-type]


def test_given_free_agents_and_ringing_calls_when_progressive_then_one_call_per_unreserved_agent() -> None:
    pacer = make_pacer("progressive")
    assert pacer.calls_to_place(PacingSnapshot(now=0.0, free_agents=5, ringing=(3.0, 4.0), limits=ROOMY)) == 3
    assert pacer.calls_to_place(PacingSnapshot(now=1.0, free_agents=1, ringing=(3.0, 4.0), limits=ROOMY)) == 0


def test_given_no_history_when_predictive_then_it_dials_progressively() -> None:
    pacer = make_pacer("predictive")
    snap = PacingSnapshot(now=0.0, free_agents=5, talking=(10.0,) * 15, limits=ROOMY)
    assert pacer.calls_to_place(snap) == 5


def test_given_agents_about_to_finish_when_predictive_then_it_dials_ahead_of_them() -> None:
    pacer = warmed()
    # progressive would place nothing (2 free, 4 ringing); six agents will be ready in ~3 s and
    # a new dial answers in ~8 s, one in five of them live
    assert pacer.calls_to_place(busy_floor(1.0)) > 10


def test_given_agents_far_from_finishing_when_predictive_then_it_does_not_dial_ahead() -> None:
    pacer = warmed()
    assert pacer.calls_to_place(busy_floor(1.0, talking=(30.0,) * 18)) == 0


def test_given_the_budget_is_spent_when_predictive_then_it_dials_only_for_free_agents() -> None:
    pacer = warmed()
    assert pacer.calls_to_place(busy_floor(1.0, guaranteed_agent_only=True)) == 0  # 2 free, 4 ringing


def test_given_the_trailing_hour_is_near_the_ceiling_when_predictive_then_it_falls_back_to_progressive() -> None:
    pacer = warmed()
    pacer.calls_to_place(busy_floor(1.0, counters=Counters(dials=1000, live_answers=200)))
    snap = busy_floor(2.0, counters=Counters(dials=2000, live_answers=400, abandons=40))
    assert pacer.calls_to_place(snap) == 0
    assert pacer.last_mode == "guard"


@pytest.mark.parametrize("name", ["predictive", "progressive", "power", "blended"])
def test_given_a_channel_limit_when_any_pacer_dials_then_it_never_exceeds_it(name: str) -> None:
    pacer = make_pacer(name)
    tight = DialLimits(channel_limit=25, lines_in_use=23, max_lines_per_agent=10, calls_per_second=100)
    snap = PacingSnapshot(now=0.0, free_agents=20, limits=tight, recent=history())
    assert pacer.calls_to_place(snap) <= 2


@pytest.mark.parametrize("name", ["predictive", "progressive", "power"])
def test_given_a_calls_per_second_limit_when_dialing_every_tick_then_the_rate_holds(name: str) -> None:
    pacer = make_pacer(name)
    limits = DialLimits(channel_limit=1000, max_lines_per_agent=10, calls_per_second=0.5)
    placed = sum(pacer.calls_to_place(PacingSnapshot(now=float(t), free_agents=50, limits=limits))
                 for t in range(20))
    assert 9 <= placed <= 11


def test_given_a_line_cap_when_power_dialing_then_lines_per_agent_are_capped() -> None:
    pacer = make_pacer("power", ratio=3.0)
    limits = DialLimits(channel_limit=1000, max_lines_per_agent=2, calls_per_second=100)
    snap = PacingSnapshot(now=0.0, free_agents=10, ringing=(1.0,) * 15, limits=limits)
    assert pacer.calls_to_place(snap) == 5        # 2 × 10 agents − 15 in flight


def test_given_agent_requests_when_preview_or_manual_then_exactly_those_calls() -> None:
    for name in ("preview", "manual"):
        snap = PacingSnapshot(now=0.0, free_agents=4, agent_requests=3, guaranteed_agent_only=True, limits=ROOMY)
        assert make_pacer(name).calls_to_place(snap) == 3


def test_given_bot_channels_when_bot_only_then_calls_scale_with_free_channels_and_answer_rate() -> None:
    pacer = make_pacer("bot_only")
    few = pacer.calls_to_place(PacingSnapshot(now=0.0, free_agents=0, bot_free=2, limits=ROOMY, recent=history()))
    many = pacer.calls_to_place(PacingSnapshot(now=1.0, free_agents=0, bot_free=20, limits=ROOMY))
    assert 0 < few < many <= 20 / 0.2


def test_given_an_unknown_name_when_making_a_pacer_then_rejected_and_the_oracle_is_not_selectable() -> None:
    with pytest.raises(ValueError):
        make_pacer("oracle")
    assert "oracle" not in pacer_names()
    assert set(pacer_names()) >= {"predictive", "progressive", "power", "preview", "manual", "bot_only", "blended"}


def test_given_a_small_team_when_choosing_the_target_then_it_is_lower_than_for_a_large_team() -> None:
    small = team_target(250.0, ceiling=0.03, overall=0.02, z=2.0)
    large = team_target(3000.0, ceiling=0.03, overall=0.02, z=2.0)
    assert 0 < small < large <= 0.02


def test_given_the_default_profile_when_blended_then_it_paces_exactly_like_predictive() -> None:
    blended, predictive = make_pacer("blended"), make_pacer("predictive")
    for pacer in (blended, predictive):
        pacer.calls_to_place(PacingSnapshot(now=0.0, free_agents=0, recent=history(), limits=ROOMY,
                                            counters=Counters(dials=1000, live_answers=200)))
    snap = busy_floor(1.0, bot_free=5)
    assert blended.calls_to_place(snap) == predictive.calls_to_place(snap) > 0


def test_given_the_bot_counts_as_live_when_blended_with_an_overflow_target_then_it_dials_more() -> None:
    blended = make_pacer("blended", overflow_target=0.10)
    blended.calls_to_place(PacingSnapshot(now=0.0, free_agents=0, recent=history(), limits=ROOMY,
                                          counters=Counters(dials=1000, live_answers=200)))
    predictive = warmed()
    snap = busy_floor(1.0, bot_free=5)
    assert blended.calls_to_place(snap) > predictive.calls_to_place(snap)


def test_given_a_slow_hour_without_abandons_when_predictive_then_it_overdials_again() -> None:
    # An hour of progressive dialling at a low answer rate brings ~30 answers; the pacer must not
    # lock itself out of overdialling because one abandon would be a large share of so few.
    pacer = warmed()
    for minute in range(1, 61):
        pacer.calls_to_place(PacingSnapshot(now=60.0 * minute, free_agents=0, talking=(30.0,) * 20, limits=ROOMY,
                                            counters=Counters(dials=1000, live_answers=200 + minute // 2)))
    snap = busy_floor(3660.0, counters=Counters(dials=1000, live_answers=230))
    assert pacer.calls_to_place(snap) > 0   # progressive: 0 (2 free agents, 4 ringing)
    assert pacer.last_mode == "model"


def test_given_few_dials_when_planning_then_the_live_share_is_taken_at_its_upper_bound() -> None:
    early, late = PredictivePacer(), warmed()
    few = Observations((ResolvedDial(DialResult.LIVE, 8.0),) * 4 + (ResolvedDial(DialResult.NO_ANSWER, 25.0),) * 36)
    early.calls_to_place(PacingSnapshot(now=0.0, free_agents=0, recent=few, limits=ROOMY))
    assert early.live_caution() > 1.5 > late.live_caution() > 1.0


def test_given_a_run_when_predictive_then_its_modes_are_counted_for_diagnostics() -> None:
    pacer = warmed()
    before = sum(pacer.mode_ticks.values())
    for t in range(1, 6):
        pacer.calls_to_place(busy_floor(float(t)))
    assert sum(pacer.mode_ticks.values()) == before + 5
    assert set(pacer.mode_ticks) <= {"cold", "guard", "model", "gate"}
