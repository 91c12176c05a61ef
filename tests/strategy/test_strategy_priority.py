import random
import time as wallclock
from datetime import datetime, time, timedelta, timezone

import pytest

from dialer.compliance.facts import PastAttempt
from dialer.domain import Outcome
from dialer.strategy.priority import (
    AnswerTally,
    Candidate,
    HourBasis,
    PaymentHistory,
    PaymentModel,
    PopulationPrior,
    answer_probability,
    best_times_to_call,
    hour_of_week,
    oldest_first,
    order_hopper,
    tally_from_attempts,
)

ZONE = "Asia/Shanghai"
# Monday 2026-03-02 10:00 Shanghai
MONDAY_10 = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)
EMPTY_PRIOR = PopulationPrior.pooled([], default_rate=0.3)


def _tally(**slots: tuple[int, int]) -> AnswerTally:
    """slots like h10=(attempts, answers) on every day of the week."""
    tally = AnswerTally()
    for name, (tried, answered) in slots.items():
        hour = int(name[1:])
        for day in range(7):
            for n in range(tried):
                tally = tally.recorded(day * 24 + hour, answered=n < answered)
    return tally


def test_given_monday_10_in_shanghai_then_hour_of_week_is_10():
    assert hour_of_week(MONDAY_10, ZONE) == 10
    assert hour_of_week(MONDAY_10 + timedelta(days=1, hours=9), ZONE) == 24 + 19


def test_given_a_new_contact_when_estimating_then_the_population_rate_for_the_hour_is_used():
    population = [_tally(h10=(10, 1), h19=(10, 6))] * 20
    prior = PopulationPrior.pooled(population)
    new = AnswerTally()
    at_10 = answer_probability(new, prior, 10)
    at_19 = answer_probability(new, prior, 19)
    assert at_10 == pytest.approx(prior.by_week_hour[10])
    assert at_19 > 0.5 > 0.15 > at_10


def test_given_no_population_data_when_estimating_then_the_default_rate_is_the_prior():
    assert answer_probability(AnswerTally(), EMPTY_PRIOR, 42) == pytest.approx(0.3)


def test_given_a_contact_who_answers_evenings_when_learning_then_evening_beats_morning():
    tally = _tally(h10=(2, 0), h20=(2, 2))
    morning = answer_probability(tally, EMPTY_PRIOR, 10)
    evening = answer_probability(tally, EMPTY_PRIOR, 20)
    assert evening > 0.6 and morning < 0.1


def test_given_a_contact_who_never_answers_when_estimating_an_untried_hour_then_it_is_below_prior():
    tally = _tally(h10=(1, 0), h11=(1, 0))  # 14 unanswered dials at 10 and 11
    assert answer_probability(tally, EMPTY_PRIOR, 15) < 0.3 / 2


def test_given_sparse_history_when_pooling_by_hour_of_day_then_other_days_inform_the_slot():
    tally = AnswerTally()
    for _ in range(3):
        tally = tally.recorded(0 * 24 + 20, answered=True)  # Monday 20:00 only
    monday_20, tuesday_20 = 20, 24 + 20
    tuesday_by_week = answer_probability(tally, EMPTY_PRIOR, tuesday_20, HourBasis.HOUR_OF_WEEK)
    monday_by_week = answer_probability(tally, EMPTY_PRIOR, monday_20, HourBasis.HOUR_OF_WEEK)
    tuesday_by_day = answer_probability(tally, EMPTY_PRIOR, tuesday_20, HourBasis.HOUR_OF_DAY)
    assert monday_by_week > tuesday_by_week > 0.5 > 0.3  # Monday's answers inform Tuesday
    # no Tuesday history and a flat population: the hour-of-day estimate is all we know
    assert tuesday_by_week == pytest.approx(tuesday_by_day)


def test_given_attempt_history_when_tallying_then_live_answers_count_and_machines_do_not():
    def attempt(n, hours_later, outcome):
        return PastAttempt(n, 1, "+8613800000000", 1, 1,
                           MONDAY_10 + timedelta(hours=hours_later), outcome)
    tally = tally_from_attempts([attempt(1, 0, Outcome.HUMAN), attempt(2, 0, Outcome.MACHINE),
                                 attempt(3, 9, Outcome.NO_ANSWER), attempt(4, 9, None),
                                 attempt(5, 9, Outcome.ABANDONED)], ZONE)
    assert tally.slot(10, HourBasis.HOUR_OF_WEEK) == (2, 1)
    assert tally.slot(19, HourBasis.HOUR_OF_WEEK) == (2, 1)
    assert tally.total_attempts == 4


def test_given_promise_history_when_estimating_payment_then_kept_raises_and_broken_lowers():
    model = PaymentModel()
    fresh = model.probability("reminder", PaymentHistory())
    assert fresh == pytest.approx(0.6)
    assert model.probability("reminder", PaymentHistory(promises_kept=2)) > fresh
    assert model.probability("reminder", PaymentHistory(promises_broken=2)) < fresh
    assert model.probability("final", PaymentHistory()) < model.probability("escalation",
                                                                             PaymentHistory())


def _candidate(contact_id, *, amount=100_000, stage="reminder", waited=0, history=None,
               tally=None):
    return Candidate(contact_id=contact_id, account_id=contact_id, zone=ZONE,
                     outstanding_minor=amount, stage=stage,
                     waiting_since=MONDAY_10 - timedelta(hours=waited),
                     history=history or PaymentHistory(), tally=tally or AnswerTally())


def test_given_candidates_when_ordering_the_hopper_then_expected_recovery_and_hour_rank_them():
    big_late = _candidate(1, amount=1_000_000, stage="final", waited=1)       # 1e6 × 0.1
    small_early = _candidate(2, amount=100_000, stage="reminder", waited=9)  # 1e5 × 0.6
    mid_broken = _candidate(3, amount=300_000, waited=5,
                            history=PaymentHistory(promises_broken=4))       # 3e5 × 0.3
    answers_now = _candidate(4, amount=100_000, waited=2, tally=_tally(h10=(1, 1)))
    ordered = order_hopper([big_late, small_early, mid_broken, answers_now], MONDAY_10,
                           payment=PaymentModel(), prior=EMPTY_PRIOR)
    # 4: 1e5 × 0.6 × ~0.9 (answers at 10:00)  1: 1e6 × 0.1 × 0.3  3: 3e5 × 0.3 × 0.3
    assert [s.candidate.contact_id for s in ordered] == [4, 1, 3, 2]
    assert ordered[0].answer_probability > 0.85
    assert ordered[1].expected_recovery_minor == pytest.approx(100_000)
    assert ordered[2].expected_recovery_minor == pytest.approx(90_000)
    by_recovery_only = order_hopper([big_late, small_early, mid_broken, answers_now], MONDAY_10,
                                    payment=PaymentModel(), prior=EMPTY_PRIOR,
                                    by_answer_time=False)
    assert [s.candidate.contact_id for s in by_recovery_only] == [1, 3, 2, 4]  # tie: oldest


def test_given_both_factors_off_when_ordering_then_it_is_oldest_first():
    candidates = [_candidate(i, amount=1000 * i, waited=i % 4) for i in range(1, 9)]
    ordered = order_hopper(candidates, MONDAY_10, payment=PaymentModel(), prior=EMPTY_PRIOR,
                           by_recovery=False, by_answer_time=False)
    assert [s.candidate for s in ordered] == oldest_first(candidates)


def test_given_a_contact_who_answers_at_19_when_asking_best_times_then_19_local_comes_first():
    tally = _tally(h10=(1, 0), h19=(1, 1))
    options = best_times_to_call(tally, EMPTY_PRIOR, ZONE, MONDAY_10, horizon_hours=24)
    first_at, first_p = options[0]
    assert first_at == datetime(2026, 3, 2, 11, 0, tzinfo=timezone.utc)  # 19:00 Shanghai
    assert first_p > 0.6
    local_hours = {at.astimezone(timezone(timedelta(hours=8))).hour for at, _ in options}
    assert local_hours == set(range(8, 21))  # the campaign window 08:00–21:00 only


def test_given_the_current_hour_when_asking_best_times_then_it_starts_now_not_in_the_past():
    now = MONDAY_10 + timedelta(minutes=25)
    options = best_times_to_call(AnswerTally(), EMPTY_PRIOR, ZONE, now, horizon_hours=3,
                                 window_start=time(0), window_end=time(23, 59))
    assert sorted(at for at, _ in options)[0] == now


def test_given_a_simulator_sized_hopper_when_ordering_then_it_is_fast():
    rng = random.Random(7)
    tallies = []
    for _ in range(200):
        tally = AnswerTally()
        for _ in range(10):
            tally = tally.recorded(rng.randrange(168), answered=rng.random() < 0.3)
        tallies.append(tally)
    prior = PopulationPrior.pooled(tallies)
    candidates = [_candidate(i, amount=rng.randrange(1, 10**6), waited=rng.randrange(48),
                             tally=tallies[i % 200]) for i in range(2000)]
    started = wallclock.perf_counter()
    ordered = order_hopper(candidates, MONDAY_10, payment=PaymentModel(), prior=prior)
    elapsed = wallclock.perf_counter() - started
    assert len(ordered) == 2000
    assert all(a.score >= b.score for a, b in zip(ordered, ordered[1:], strict=False))
    assert elapsed < 0.5, f"ordering 2000 candidates took {elapsed:.3f} s"
