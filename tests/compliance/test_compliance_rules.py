"""The gate's pure decision, rule by rule, as the regulations state them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from dialer.compliance.facts import DialRequest, PastAttempt
from dialer.compliance.profiles import builtin_profile
from dialer.compliance.rules import DenyReason, evaluate, rule_denial
from dialer.domain import CampaignMode, ContactOwner, Outcome

UTC = timezone.utc
CN, US, UK = builtin_profile("cn"), builtin_profile("us"), builtin_profile("uk")
MOBILE, HOME, SISTER = "+8613800000001", "+8613800000002", "+8613900000003"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def request(e164: str = MOBILE, *, zones: tuple[str, ...] = ("Asia/Shanghai",), owner: ContactOwner = ContactOwner.DEBTOR,
            history: tuple[PastAttempt, ...] = (), mode: CampaignMode = CampaignMode.PREDICTIVE, **facts: object) -> DialRequest:
    contact_id = {MOBILE: 1, HOME: 2, SISTER: 3}.get(e164, 9)
    return DialRequest(campaign_id=1, campaign_mode=mode, account_id=100, debtor_id=7, contact_id=contact_id,
                       e164=e164, owner=owner, time_zones=zones, history=history, **facts)  # type: ignore[arg-type]


def attempt(n: int, at: datetime, outcome: Outcome | None = Outcome.NO_ANSWER, *, e164: str = MOBILE,
            seconds: int = 30, **kw: object) -> PastAttempt:
    contact_id = {MOBILE: 1, HOME: 2, SISTER: 3}.get(e164, 9)
    ended = None if outcome is None else at + timedelta(seconds=seconds)
    return PastAttempt(attempt_id=n, contact_id=contact_id, e164=e164, account_id=kw.pop("account_id", 100),  # type: ignore[arg-type]
                       campaign_id=kw.pop("campaign_id", 1), placed_at=at, outcome=outcome,  # type: ignore[arg-type]
                       ended_at=ended, **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- cn


def test_given_three_conversations_today_when_dialing_another_number_then_denied_until_tomorrow_0800() -> None:
    morning = utc(2026, 6, 1, 1)    # 09:00 CST
    talks = tuple(attempt(i, morning + timedelta(hours=i), Outcome.HUMAN, conversation=True, e164=MOBILE) for i in range(3))
    decision = evaluate(request(HOME, history=talks), CN, utc(2026, 6, 1, 8))
    assert decision.reason is DenyReason.DAILY_CONVERSATION_CAP
    assert rule_denial(DenyReason.DAILY_CONVERSATION_CAP, request(HOME, history=talks), CN,
                       utc(2026, 6, 1, 8)).next_allowed_at == utc(2026, 6, 1, 16)   # midnight CST
    assert decision.next_allowed_at == utc(2026, 6, 2, 0)                           # 08:00 CST, window


def test_given_two_conversations_today_then_a_third_is_allowed_and_a_bot_conversation_counts_the_same() -> None:
    morning = utc(2026, 6, 1, 1)
    talks = (attempt(1, morning, Outcome.HUMAN, conversation=True),
             attempt(2, morning + timedelta(hours=1), Outcome.HUMAN, conversation=True, campaign_id=2))
    assert evaluate(request(HOME, history=talks), CN, utc(2026, 6, 1, 8)).allowed


def test_given_six_attempts_to_a_number_today_then_the_seventh_is_denied_but_another_number_is_not() -> None:
    start = utc(2026, 6, 1, 1)
    six = tuple(attempt(i, start + timedelta(minutes=30 * i)) for i in range(6))
    now = utc(2026, 6, 1, 9)
    assert evaluate(request(MOBILE, history=six), CN, now).reason is DenyReason.DAILY_NUMBER_ATTEMPT_CAP
    assert evaluate(request(HOME, history=six), CN, now).allowed


def test_given_a_reachable_debtor_when_dialing_a_third_party_under_cn_then_locked_with_no_next_time() -> None:
    history = (attempt(1, utc(2026, 6, 1, 1), Outcome.HUMAN, conversation=True),)
    decision = evaluate(request(SISTER, owner=ContactOwner.THIRD_PARTY, history=history), CN, utc(2026, 6, 1, 3))
    assert decision.reason is DenyReason.THIRD_PARTY_LOCKED
    assert decision.next_allowed_at is None


def test_given_three_consecutive_failed_attempts_today_then_the_third_party_unlocks_tomorrow() -> None:
    fails = (attempt(1, utc(2026, 6, 1, 1), Outcome.NO_ANSWER), attempt(2, utc(2026, 6, 1, 3), Outcome.BUSY),
             attempt(3, utc(2026, 6, 1, 5), Outcome.MACHINE, e164=HOME))
    sister = request(SISTER, owner=ContactOwner.THIRD_PARTY, history=fails)
    decision = evaluate(sister, CN, utc(2026, 6, 1, 8))
    assert decision.reason is DenyReason.THIRD_PARTY_LOCKED
    assert decision.next_allowed_at == utc(2026, 6, 2, 0)          # the day after, 08:00 CST
    assert evaluate(sister, CN, utc(2026, 6, 2, 0)).allowed


def test_given_an_answer_breaks_the_streak_then_the_third_party_stays_locked() -> None:
    history = (attempt(1, utc(2026, 6, 1, 1)), attempt(2, utc(2026, 6, 1, 2)), attempt(3, utc(2026, 6, 1, 3)),
               attempt(4, utc(2026, 6, 1, 4), Outcome.HUMAN))
    assert evaluate(request(SISTER, owner=ContactOwner.THIRD_PARTY, history=history), CN,
                    utc(2026, 6, 3, 2)).reason is DenyReason.THIRD_PARTY_LOCKED


def test_given_all_debtor_numbers_invalid_or_three_days_unreachable_then_third_party_is_callable() -> None:
    now = utc(2026, 6, 4, 2)
    assert evaluate(request(SISTER, owner=ContactOwner.THIRD_PARTY, debtor_numbers_all_invalid=True), CN, now).allowed
    since = utc(2026, 6, 1, 2)     # June 1, 2 and 3 unreachable: unlocked from June 4, 00:00 CST
    sister = request(SISTER, owner=ContactOwner.THIRD_PARTY, debtor_unreachable_since=since)
    assert evaluate(sister, CN, now).allowed
    early = evaluate(sister, CN, utc(2026, 6, 3, 10))
    assert early.reason is DenyReason.THIRD_PARTY_LOCKED and early.next_allowed_at == utc(2026, 6, 4, 0)


def test_given_suppressed_dnc_or_invalid_numbers_then_denied_for_good() -> None:
    now = utc(2026, 6, 1, 3)
    for facts, reason in (({"suppressed": True}, DenyReason.SUPPRESSED), ({"on_dnc": True}, DenyReason.DNC),
                          ({"valid_number": False}, DenyReason.INVALID_NUMBER)):
        decision = evaluate(request(**facts), CN, now)
        assert (decision.allowed, decision.reason, decision.next_allowed_at) == (False, reason, None)


def test_given_a_dnc_number_outside_the_window_then_the_reason_is_the_permanent_one() -> None:
    decision = evaluate(request(on_dnc=True), CN, utc(2026, 6, 1, 15))
    assert decision.reason is DenyReason.DNC
    assert {d.reason for d in decision.denials} == {DenyReason.DNC, DenyReason.OUTSIDE_WINDOW}


def test_given_2230_in_shanghai_then_outside_window_until_0800() -> None:
    decision = evaluate(request(), CN, utc(2026, 6, 1, 14, 30))
    assert (decision.reason, decision.next_allowed_at) == (DenyReason.OUTSIDE_WINDOW, utc(2026, 6, 2, 0))


# ---------------------------------------------------------------- us

NY = ("America/New_York",)


def test_given_seven_calls_about_a_debt_in_seven_days_then_the_eighth_is_denied_until_the_first_ages_out() -> None:
    # calls on June 1..7 (one each, 14:00 EDT), then one more try on June 7 evening
    calls = tuple(attempt(i, utc(2026, 6, 1 + i, 18), e164=MOBILE if i % 2 else HOME) for i in range(7))
    decision = evaluate(request(zones=NY, history=calls), US, utc(2026, 6, 7, 22))
    assert decision.reason is DenyReason.SEVEN_IN_SEVEN
    # June 1's call leaves the window [D-6, D] on June 8: 00:00 EDT, but 08:00 is the window
    assert rule_denial(DenyReason.SEVEN_IN_SEVEN, request(zones=NY, history=calls), US,
                       utc(2026, 6, 7, 22)).next_allowed_at == utc(2026, 6, 8, 4)
    assert decision.next_allowed_at == utc(2026, 6, 8, 12)


def test_given_consented_calls_third_party_calls_and_other_debts_then_seven_in_seven_does_not_count_them() -> None:
    counted = tuple(attempt(i, utc(2026, 6, 1 + i, 18)) for i in range(6))
    ignored = (attempt(10, utc(2026, 6, 2, 19), consented=True),
               attempt(11, utc(2026, 6, 3, 19), e164=SISTER, owner=ContactOwner.THIRD_PARTY),
               attempt(12, utc(2026, 6, 4, 19), account_id=200))
    assert evaluate(request(zones=NY, history=counted + ignored), US, utc(2026, 6, 7, 18)).allowed


def test_given_direct_consent_within_seven_days_then_the_call_is_excluded_and_marked() -> None:
    calls = tuple(attempt(i, utc(2026, 6, 1 + i, 18)) for i in range(7))
    consent = {"direct_consent_given_at": utc(2026, 6, 7, 12), "direct_consent_until": utc(2026, 7, 1)}
    decision = evaluate(request(zones=NY, history=calls, **consent), US, utc(2026, 6, 7, 22))
    assert decision.allowed and decision.consent_excluded
    late = evaluate(request(zones=NY, history=calls, **consent), US, utc(2026, 6, 14, 13))
    assert late.consent_excluded is False       # more than 7 days after the consent was given


def test_given_a_conversation_on_monday_when_dialing_until_sunday_then_quiet_period_and_monday_is_allowed() -> None:
    talk = (attempt(1, utc(2026, 6, 1, 14), Outcome.HUMAN, conversation=True),)   # Mon June 1, 10:00 EDT
    sunday = evaluate(request(HOME, zones=NY, history=talk), US, utc(2026, 6, 7, 20))
    assert sunday.reason is DenyReason.CONVERSATION_QUIET_PERIOD
    assert sunday.next_allowed_at == utc(2026, 6, 8, 12)                            # Monday 08:00 EDT
    assert evaluate(request(HOME, zones=NY, history=talk), US, utc(2026, 6, 8, 12)).allowed


def test_given_an_unanswered_call_four_minutes_ago_then_the_number_waits_five_minutes_from_it() -> None:
    last = utc(2026, 6, 1, 15)
    history = (attempt(1, last, Outcome.NO_ANSWER),)
    decision = evaluate(request(zones=NY, history=history), US, last + timedelta(minutes=4))
    assert (decision.reason, decision.next_allowed_at) == (DenyReason.UNANSWERED_WITHIN_5MIN, last + timedelta(minutes=5))
    assert evaluate(request(HOME, zones=NY, history=history), US, last + timedelta(minutes=4)).allowed


def test_given_six_calls_to_one_number_today_then_a_seventh_is_never_placed_under_us() -> None:
    calls = tuple(attempt(i, utc(2026, 6, 1, 13) + timedelta(minutes=10 * i), Outcome.HUMAN) for i in range(6))
    loose = US.with_overrides({"caps": {"attempts_per_debt_7d": None}})
    assert evaluate(request(zones=NY, history=calls), loose, utc(2026, 6, 1, 20)).reason \
        is DenyReason.DAILY_NUMBER_ATTEMPT_CAP


# ---------------------------------------------------------------- uk

LDN = ("Europe/London",)


def test_given_an_abandoned_call_then_a_predictive_redial_waits_72_hours_and_a_progressive_one_does_not() -> None:
    dropped = (attempt(1, utc(2026, 6, 1, 10), Outcome.ABANDONED, abandoned=True, seconds=20),)
    now = utc(2026, 6, 2, 10)
    decision = evaluate(request(zones=LDN, history=dropped), UK, now)
    assert decision.reason is DenyReason.ABANDONED_LOCKOUT_72H
    assert decision.next_allowed_at == utc(2026, 6, 4, 10, 0, 20)
    assert evaluate(request(zones=LDN, history=dropped, mode=CampaignMode.PROGRESSIVE), UK, now).allowed


def test_given_an_answering_machine_this_morning_then_no_predictive_redial_until_tomorrow() -> None:
    machine = (attempt(1, utc(2026, 6, 1, 8), Outcome.MACHINE),)
    decision = evaluate(request(zones=LDN, history=machine), UK, utc(2026, 6, 1, 15))
    assert decision.reason is DenyReason.MACHINE_SAME_DAY
    assert rule_denial(DenyReason.MACHINE_SAME_DAY, request(zones=LDN, history=machine), UK,
                       utc(2026, 6, 1, 15)).next_allowed_at == utc(2026, 6, 1, 23)     # midnight BST
    assert decision.next_allowed_at == utc(2026, 6, 2, 7)                              # 08:00 BST
    assert evaluate(request(zones=LDN, history=machine, mode=CampaignMode.PREVIEW), UK, utc(2026, 6, 1, 15)).allowed


# ---------------------------------------------------------------- every profile


def test_given_a_call_in_flight_to_the_debtor_then_no_second_call_to_any_of_their_numbers() -> None:
    ringing = (attempt(1, utc(2026, 6, 1, 2), None),)
    decision = evaluate(request(HOME, history=ringing), CN, utc(2026, 6, 1, 2, 0, 10))
    assert decision.reason is DenyReason.CALL_IN_FLIGHT
    assert decision.next_allowed_at == utc(2026, 6, 1, 2, 0, 40)     # a re-check hint
    assert decision.denials[0].exact is False


def test_given_campaign_and_lifetime_limits_then_both_deny_for_good() -> None:
    limited = CN.with_overrides({"caps": {"campaign_attempts": 2, "lifetime_attempts": 5}})
    two = (attempt(1, utc(2026, 5, 1, 2)), attempt(2, utc(2026, 5, 2, 2)))
    decision = evaluate(request(history=two), limited, utc(2026, 6, 1, 2))
    assert (decision.reason, decision.next_allowed_at) == (DenyReason.CAMPAIGN_ATTEMPT_LIMIT, None)
    lifetime = evaluate(request(lifetime_attempts_on_contact=5), limited, utc(2026, 6, 1, 2))
    assert lifetime.reason is DenyReason.LIFETIME_ATTEMPT_LIMIT


def test_given_a_spent_abandonment_budget_then_predictive_waits_and_guaranteed_agent_modes_dial() -> None:
    restored = utc(2026, 6, 2, 0)
    now = utc(2026, 6, 1, 3)
    decision = evaluate(request(abandonment_budget_restored_at=restored), CN, now)
    assert (decision.reason, decision.next_allowed_at) == (DenyReason.ABANDONMENT_BUDGET_SPENT, restored)
    assert evaluate(request(abandonment_budget_restored_at=restored, mode=CampaignMode.PROGRESSIVE), CN, now).allowed


def test_given_no_time_zone_then_the_number_is_never_dialled() -> None:
    decision = evaluate(request(zones=()), CN, utc(2026, 6, 1, 3))
    assert (decision.reason, decision.next_allowed_at) == (DenyReason.NO_TIME_ZONE, None)


def test_given_two_candidate_zones_then_the_daily_number_cap_lasts_until_the_later_local_midnight() -> None:
    zones = ("America/New_York", "America/Los_Angeles")
    calls = tuple(attempt(i, utc(2026, 6, 1, 16) + timedelta(minutes=10 * i), Outcome.HUMAN) for i in range(6))
    now = utc(2026, 6, 2, 4, 30)     # 00:30 EDT on June 2, but 21:30 PDT on June 1
    denial = rule_denial(DenyReason.DAILY_NUMBER_ATTEMPT_CAP, request(zones=zones, history=calls), US, now)
    assert denial is not None and denial.next_allowed_at == utc(2026, 6, 2, 7)    # 00:00 PDT


def test_given_a_naive_clock_then_the_gate_refuses_to_guess() -> None:
    with pytest.raises(ValueError, match="naive"):
        evaluate(request(), CN, datetime(2026, 6, 1, 3))


def test_given_the_same_request_twice_then_decisions_are_equal() -> None:
    r = request(history=(attempt(1, utc(2026, 6, 1, 1)),))
    assert evaluate(r, CN, utc(2026, 6, 1, 3)) == evaluate(replace(r), CN, utc(2026, 6, 1, 3))


def test_given_a_machine_result_and_two_zones_then_same_day_lasts_until_midnight_in_the_later_zone() -> None:
    machine = (attempt(1, utc(2026, 6, 1, 15), Outcome.MACHINE),)           # 16:00 BST, 11:00 EDT
    both = request(zones=("Europe/London", "America/New_York"), history=machine)
    now = utc(2026, 6, 1, 23, 30)                                            # June 2 in London, June 1 in New York
    denial = rule_denial(DenyReason.MACHINE_SAME_DAY, both, UK, now)
    assert denial is not None and denial.next_allowed_at == utc(2026, 6, 2, 4)   # 00:00 EDT
    assert rule_denial(DenyReason.MACHINE_SAME_DAY, request(zones=("Europe/London",), history=machine), UK, now) is None
