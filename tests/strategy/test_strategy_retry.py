from datetime import date, datetime, time, timedelta, timezone

import pytest

from dialer.clock import FixedClock
from dialer.domain import Outcome, PromiseStatus
from dialer.strategy.config import load_strategy
from dialer.strategy.retry import (
    Disposition,
    PromiseToPay,
    callback_instant,
    decide,
    review_promise,
)
from dialer.strategy.stages import default_stage_plan

PLAN = default_stage_plan()
REMINDER = PLAN.named("reminder")
START = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai


def test_given_no_answer_when_deciding_then_retry_after_the_rule_delay_in_the_same_stage():
    clock = FixedClock(START)
    step = decide(Disposition.NO_ANSWER, now=clock.now(), stage=REMINDER, plan=PLAN,
                  attempts_in_stage={Disposition.NO_ANSWER: 1})
    assert step.next_eligible_at == START + timedelta(minutes=120)
    assert (step.stage, step.script, step.close, step.handoff) == ("reminder", "reminder",
                                                                   False, False)


def test_given_busy_calls_on_a_simulated_clock_when_max_attempts_is_reached_then_closed():
    clock = FixedClock(START)
    attempts: dict[Disposition, int] = {}
    eligible_times = []
    for _ in range(4):
        attempts[Disposition.BUSY] = attempts.get(Disposition.BUSY, 0) + 1
        step = decide(Disposition.BUSY, now=clock.now(), stage=REMINDER, plan=PLAN,
                      attempts_in_stage=attempts)
        if step.close:
            break
        eligible_times.append(step.next_eligible_at)
        clock.set(step.next_eligible_at)
    assert eligible_times == [START + timedelta(minutes=15 * n) for n in (1, 2, 3)]
    assert step.close and step.next_eligible_at is None
    assert "4 of 4" in step.reason


def test_given_the_stage_wide_limit_when_mixed_outcomes_use_it_up_then_closed():
    plan = load_strategy({"stages": [{"name": "only", "dpd": [1, None], "script": "reminder",
                                      "retry": {"max_attempts_in_stage": 3}}]})
    stage = plan.named("only")
    step = decide(Disposition.NO_ANSWER, now=START, stage=stage, plan=plan,
                  attempts_in_stage={Disposition.BUSY: 2, Disposition.NO_ANSWER: 1})
    assert step.close and "3 of 3" in step.reason


def test_given_refusals_exhausted_when_deciding_then_moved_to_the_next_stage_at_once():
    step = decide(Disposition.REFUSED, now=START, stage=REMINDER, plan=PLAN,
                  attempts_in_stage={Disposition.REFUSED: 2})
    assert (step.stage, step.script, step.next_eligible_at) == ("willingness", "willingness",
                                                                START)
    assert not step.close


def test_given_a_hardship_claim_when_deciding_then_handed_to_agents_without_bot_redial():
    step = decide(Disposition.HARDSHIP, now=START, stage=REMINDER, plan=PLAN,
                  attempts_in_stage={Disposition.HARDSHIP: 1})
    assert step.handoff and not step.close and step.next_eligible_at is None


@pytest.mark.parametrize("disposition", [Disposition.WRONG_NUMBER, Disposition.OPT_OUT,
                                         Disposition.PAID, Disposition.DISPUTE])
def test_given_a_terminal_disposition_when_deciding_then_closed(disposition):
    step = decide(disposition, now=START, stage=REMINDER, plan=PLAN,
                  attempts_in_stage={disposition: 1})
    assert step.close and step.next_eligible_at is None


def test_given_a_rule_that_moves_campaign_and_texts_when_deciding_then_both_are_proposed():
    plan = load_strategy({"stages": [{"name": "only", "dpd": [1, None], "script": "reminder",
                                      "retry": {"machine": {"move_to_campaign": "sms_only",
                                                            "sms": "first_call_unpaid"}}}]})
    step = decide(Disposition.MACHINE, now=START, stage=plan.named("only"), plan=plan,
                  attempts_in_stage={Disposition.MACHINE: 1})
    assert (step.move_to_campaign, step.sms_template) == ("sms_only", "first_call_unpaid")
    assert step.next_eligible_at is None


def test_given_call_me_at_6_pm_when_said_at_10_am_shanghai_then_callback_is_1000_utc_today():
    clock = FixedClock(START)
    at = callback_instant(time(18, 0), "Asia/Shanghai", clock.now())
    assert at == datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
    step = decide(Disposition.CALLBACK_REQUESTED, now=clock.now(), stage=REMINDER, plan=PLAN,
                  attempts_in_stage={Disposition.CALLBACK_REQUESTED: 1}, callback_at=at)
    assert step.next_eligible_at == at and step.reason == "callback requested"


def test_given_call_me_at_9_am_when_said_at_10_am_then_callback_is_tomorrow_morning():
    at = callback_instant(time(9, 0), "Asia/Shanghai", START)
    assert at == datetime(2026, 3, 3, 1, 0, tzinfo=timezone.utc)


def test_given_a_callback_across_the_us_dst_change_then_the_wall_time_is_kept():
    # Saturday 2026-03-07 20:00 EST; DST starts Sunday 02:00; "call me tomorrow at 6 pm" = EDT
    now = datetime(2026, 3, 8, 1, 0, tzinfo=timezone.utc)
    at = callback_instant(datetime(2026, 3, 8, 18, 0), "America/New_York", now)
    assert at == datetime(2026, 3, 8, 22, 0, tzinfo=timezone.utc)


def test_given_a_callback_without_a_time_when_deciding_then_the_rule_delay_applies():
    step = decide(Disposition.CALLBACK_REQUESTED, now=START, stage=REMINDER, plan=PLAN,
                  attempts_in_stage={Disposition.CALLBACK_REQUESTED: 1})
    assert step.next_eligible_at == START + timedelta(minutes=60)


def test_given_callbacks_requested_repeatedly_when_exhausted_then_handed_to_agents():
    step = decide(Disposition.CALLBACK_REQUESTED, now=START, stage=REMINDER, plan=PLAN,
                  attempts_in_stage={Disposition.CALLBACK_REQUESTED: 3},
                  callback_at=START + timedelta(hours=2))
    assert step.handoff and step.next_eligible_at is None


def test_given_a_promise_when_deciding_then_the_account_is_parked_not_closed():
    step = decide(Disposition.PROMISE, now=START, stage=REMINDER, plan=PLAN,
                  attempts_in_stage={Disposition.PROMISE: 1})
    assert step.next_eligible_at is None and not step.close and not step.handoff


def test_given_a_promise_on_a_simulated_clock_when_the_date_passes_unpaid_then_it_reenters():
    clock = FixedClock(START)
    promise = PromiseToPay(account_id=1, amount_minor=30_000, due_date=date(2026, 3, 5))
    verdicts = []
    for _ in range(5):
        today = clock.now().date()
        verdict, step = review_promise(promise, today=today, now=clock.now(), stage=REMINDER,
                                       plan=PLAN)
        verdicts.append((today.day, verdict))
        clock.advance(24 * 3600)
    assert verdicts == [(2, PromiseStatus.OPEN), (3, PromiseStatus.OPEN), (4, PromiseStatus.OPEN),
                        (5, PromiseStatus.OPEN), (6, PromiseStatus.OPEN)]
    verdict, step = review_promise(promise, today=date(2026, 3, 7), now=clock.now(),
                                   stage=REMINDER, plan=PLAN)
    assert verdict is PromiseStatus.BROKEN
    assert step.script == "broken_promise" and step.next_eligible_at == clock.now()


def test_given_a_promise_paid_in_full_when_reviewing_then_kept_and_nothing_to_do():
    promise = PromiseToPay(1, 30_000, date(2026, 3, 5), paid_minor=30_000)
    assert review_promise(promise, today=date(2026, 3, 9), now=START, stage=REMINDER,
                          plan=PLAN) == (PromiseStatus.KEPT, None)


def test_given_a_partial_payment_after_the_date_when_reviewing_then_broken():
    promise = PromiseToPay(1, 30_000, date(2026, 3, 5), paid_minor=10_000)
    verdict, _ = review_promise(promise, today=date(2026, 3, 7), now=START, stage=REMINDER,
                                plan=PLAN)
    assert verdict is PromiseStatus.BROKEN


def test_given_telephony_outcomes_then_they_map_to_dispositions_except_a_live_human():
    assert Disposition.from_outcome(Outcome.NO_ANSWER) is Disposition.NO_ANSWER
    assert Disposition.from_outcome(Outcome.ABANDONED) is Disposition.ABANDONED
    with pytest.raises(ValueError, match="conversation result"):
        Disposition.from_outcome(Outcome.HUMAN)
