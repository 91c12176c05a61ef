"""Abandonment measured the way each regulator measures it, and when the budget is spent."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.compliance.abandonment import (
    AnsweredCall,
    AnswerKind,
    Tally,
    budget_restored_at,
    budget_spent,
    calendar_day,
    classify,
    profile_window,
    report,
    rolling,
    worst_window,
)
from dialer.compliance.profiles import PolicyProfile, builtin_profile
from dialer.domain import Outcome, Route

UTC = timezone.utc
US, UK = builtin_profile("us"), builtin_profile("uk")
NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)


def calls(kind: AnswerKind, n: int, start: datetime, every: timedelta = timedelta(minutes=1)) -> list[AnsweredCall]:
    return [AnsweredCall(start + i * every, kind) for i in range(n)]


def test_given_3_drops_in_100_live_answers_then_the_us_rate_is_3_percent_and_the_budget_is_spent() -> None:
    history = calls(AnswerKind.AGENT, 97, NOW - timedelta(days=2)) + calls(AnswerKind.DROPPED, 3, NOW - timedelta(days=1))
    window = profile_window(history, US.abandonment, NOW)
    assert window.tally == Tally(live=97, dropped=3) and window.rate == pytest.approx(0.03)
    assert budget_spent(history, US, NOW)
    below = calls(AnswerKind.AGENT, 98, NOW - timedelta(days=2)) + calls(AnswerKind.DROPPED, 2, NOW - timedelta(days=1))
    assert not budget_spent(below, US, NOW)


def test_given_machines_busy_and_no_answer_then_they_are_in_neither_count() -> None:
    history = calls(AnswerKind.AGENT, 50, NOW - timedelta(days=1)) + calls(AnswerKind.NOT_LIVE, 500, NOW - timedelta(days=1)) \
        + calls(AnswerKind.DROPPED, 1, NOW - timedelta(hours=1))
    assert rolling(history, US.abandonment, NOW, timedelta(days=30)).rate == pytest.approx(1 / 51)


def test_given_the_bot_takes_a_live_answer_then_it_is_abandoned_unless_the_profile_counts_the_bot_as_live() -> None:
    history = calls(AnswerKind.AGENT, 9, NOW - timedelta(hours=2)) + calls(AnswerKind.BOT, 1, NOW - timedelta(hours=1))
    assert profile_window(history, US.abandonment, NOW).rate == pytest.approx(0.1)
    bot_is_live = US.with_overrides({"abandonment": {"bot_counts_as_live": True}})
    assert profile_window(history, bot_is_live.abandonment, NOW).rate == 0.0


def test_given_agents_marking_machines_then_the_uk_formula_discounts_drops() -> None:
    # L = 96, Ag = 4, D = 4: D' = 4 - 4*4/100 = 3.84; rate = 3.84 / 99.84
    tally = Tally(live=96, dropped=4, agent_marked_machine=4)
    assert tally.rate("uk") == pytest.approx(3.84 / 99.84)
    assert tally.rate("us") == pytest.approx(4 / 100)
    assert Tally(0, 0, 0).rate("uk") == 0.0 and Tally(0, 2, 0).rate("uk") == 1.0


def test_given_uk_then_the_calendar_day_in_london_is_the_window() -> None:
    yesterday = calls(AnswerKind.DROPPED, 5, datetime(2026, 6, 29, 22, 30, tzinfo=UTC))    # 23:30 BST June 29
    today = calls(AnswerKind.AGENT, 50, datetime(2026, 6, 29, 23, 0, tzinfo=UTC))          # 00:00 BST June 30
    window = calendar_day(yesterday + today, UK.abandonment, NOW)
    assert window.start == datetime(2026, 6, 29, 23, tzinfo=UTC)
    assert window.tally.dropped == 0 and window.tally.live == 50


def test_given_drops_31_days_ago_then_the_30_day_window_no_longer_holds_them() -> None:
    old = calls(AnswerKind.DROPPED, 10, NOW - timedelta(days=31))
    recent = calls(AnswerKind.AGENT, 10, NOW - timedelta(days=1))
    assert rolling(old + recent, US.abandonment, NOW, timedelta(days=30)).rate == 0.0


def test_given_a_burst_of_drops_then_the_worst_hour_finds_it() -> None:
    steady = calls(AnswerKind.AGENT, 200, NOW - timedelta(days=3), every=timedelta(minutes=20))
    burst = calls(AnswerKind.DROPPED, 4, NOW - timedelta(days=2), every=timedelta(minutes=5))
    worst = worst_window(steady + burst, US.abandonment, NOW - timedelta(days=30), NOW)
    assert worst is not None
    assert worst.tally.dropped == 4 and worst.end - worst.start == timedelta(hours=1)
    assert worst.rate == pytest.approx(4 / (4 + worst.tally.live))
    assert report(steady + burst, US, NOW).worst_hour == worst


def test_given_a_spent_30_day_budget_then_it_is_restored_exactly_when_enough_drops_age_out() -> None:
    drops = calls(AnswerKind.DROPPED, 3, NOW - timedelta(days=29), every=timedelta(hours=1))
    lives = calls(AnswerKind.AGENT, 97, NOW - timedelta(days=5), every=timedelta(minutes=1))
    history = drops + lives
    restored = budget_restored_at(history, US, NOW)
    assert restored == drops[0].at + timedelta(days=30)          # 2 of 99 < 3% once the first drop leaves
    assert rolling(history, US.abandonment, restored, timedelta(days=30)).rate < 0.03
    assert rolling(history, US.abandonment, restored - timedelta(seconds=1), timedelta(days=30)).rate >= 0.03
    assert budget_restored_at(lives, US, NOW) is None


def test_given_a_spent_calendar_day_budget_then_it_is_restored_at_local_midnight() -> None:
    history = calls(AnswerKind.DROPPED, 1, NOW - timedelta(hours=1))
    assert budget_restored_at(history, UK, NOW) == datetime(2026, 6, 30, 23, tzinfo=UTC)   # 00:00 BST


@pytest.mark.parametrize(("outcome", "route", "marked", "kind"), [
    (Outcome.HUMAN, Route.QUEUE, False, AnswerKind.AGENT),
    (Outcome.HUMAN, Route.BOT, False, AnswerKind.BOT),
    (Outcome.HUMAN, Route.SAFE_HARBOUR, False, AnswerKind.DROPPED),
    (Outcome.ABANDONED, Route.NONE, False, AnswerKind.DROPPED),
    (Outcome.HUMAN, Route.NONE, False, AnswerKind.DROPPED),
    (Outcome.MACHINE, Route.NONE, False, AnswerKind.NOT_LIVE),
    (Outcome.NO_ANSWER, Route.NONE, False, AnswerKind.NOT_LIVE),
    (Outcome.HUMAN, Route.QUEUE, True, AnswerKind.AGENT_MARKED_MACHINE),
])
def test_given_an_attempt_result_then_it_is_classified_for_the_measurement(
        outcome: Outcome, route: Route, marked: bool, kind: AnswerKind) -> None:
    assert classify(outcome, route, agent_marked_machine=marked) is kind


answered = st.builds(AnsweredCall, at=st.integers(0, 40 * 86_400).map(lambda s: NOW - timedelta(seconds=s)),
                     kind=st.sampled_from(list(AnswerKind)))


@settings(max_examples=200, deadline=None)
@given(history=st.lists(answered, max_size=40), profile=st.sampled_from([US, UK]))
def test_given_any_history_then_the_worst_hour_is_no_better_than_any_hour_ending_at_a_call(
        history: list[AnsweredCall], profile: PolicyProfile) -> None:
    policy = profile.abandonment
    worst = worst_window(history, policy, NOW - timedelta(days=30), NOW)
    ends = [c.at for c in history if c.at >= NOW - timedelta(days=30)]
    if not ends:
        return
    assert worst is not None
    for end in ends:   # brute force: every window that ends on a call
        assert rolling(history, policy, end, timedelta(hours=1)).rate <= worst.rate + 1e-12


@settings(max_examples=200, deadline=None)
@given(history=st.lists(answered, max_size=40), profile=st.sampled_from([US, UK]))
def test_given_a_spent_budget_then_it_is_restored_at_the_first_instant_the_rate_falls_under_the_ceiling(
        history: list[AnsweredCall], profile: PolicyProfile) -> None:
    restored = budget_restored_at(history, profile, NOW)
    if restored is None:
        assert not budget_spent(history, profile, NOW)
        return
    assert restored > NOW and not budget_spent(history, profile, restored)
    assert budget_spent(history, profile, restored - timedelta(seconds=1))
