"""The independent checker finds each kind of breach in a finished history, and nothing in a
clean one (its agreement with the gate is in test_compliance_properties.py)."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from dialer.compliance.checker import AttemptRecord, check
from dialer.compliance.facts import WindowAgreement
from dialer.compliance.profiles import PolicyProfile, builtin_profile
from dialer.domain import ContactOwner, Outcome

UTC = timezone.utc
CN, US, UK = builtin_profile("cn"), builtin_profile("us"), builtin_profile("uk")
SH, NY, LDN = ("Asia/Shanghai",), ("America/New_York",), ("Europe/London",)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def rec(n: int, at: datetime, outcome: Outcome | None = Outcome.NO_ANSWER, *, zones: tuple[str, ...] = SH,
        e164: str = "+1", debtor: int = 1, account: int = 100, owner: ContactOwner = ContactOwner.DEBTOR,
        seconds: int = 30, **kw: object) -> AttemptRecord:
    return AttemptRecord(attempt_id=n, debtor_id=debtor, account_id=account, campaign_id=kw.pop("campaign", 1),  # type: ignore[arg-type]
                         contact_id=kw.pop("contact", hash(e164) % 1000), e164=e164, owner=owner, zones=zones,  # type: ignore[arg-type]
                         placed_at=at, outcome=outcome,
                         ended_at=None if outcome is None else at + timedelta(seconds=seconds), **kw)  # type: ignore[arg-type]


def rules_of(attempts: list[AttemptRecord], profile: PolicyProfile = CN) -> list[tuple[int, str]]:
    return [(v.attempt_id, v.rule) for v in check(attempts, profile)]


def test_given_a_clean_day_then_no_violation() -> None:
    day = [rec(i, utc(2026, 6, 1, 1) + timedelta(hours=i), e164=f"+{i % 2}") for i in range(10)]
    assert rules_of(day) == []


def test_given_a_call_at_2230_in_shanghai_then_outside_window_unless_the_debtor_agreed() -> None:
    late = utc(2026, 6, 1, 14, 30)
    assert rules_of([rec(1, late)]) == [(1, "outside_window")]
    agreed = (WindowAgreement(time(22), time(23), valid_from=utc(2026, 1, 1)),)
    assert rules_of([rec(1, late, agreements=agreed)]) == []
    assert rules_of([rec(1, utc(2026, 6, 1, 4), inconvenient=((time(12), time(13)),))]) == [(1, "outside_window")]


def test_given_a_number_dialled_seven_times_in_a_local_day_then_the_seventh_is_flagged() -> None:
    calls = [rec(i, utc(2026, 6, 1, 0) + timedelta(hours=i), Outcome.HUMAN) for i in range(1, 8)]
    assert rules_of(calls) == [(7, "daily_number_attempt_cap")]


def test_given_four_conversations_with_a_debtor_on_one_day_across_campaigns_then_the_fourth_is_flagged() -> None:
    talks = [rec(i, utc(2026, 6, 1, 1) + timedelta(hours=i), Outcome.HUMAN, e164=f"+{i}", campaign=i, conversation=True)
             for i in range(1, 5)]
    assert rules_of(talks) == [(4, "daily_conversation_cap")]


def test_given_a_third_party_call_while_the_debtor_was_reachable_then_flagged_and_after_three_failures_not() -> None:
    sister = {"e164": "+9", "owner": ContactOwner.THIRD_PARTY}
    assert rules_of([rec(1, utc(2026, 6, 1, 2), Outcome.HUMAN), rec(2, utc(2026, 6, 1, 3), **sister)]) == \
        [(2, "third_party_locked")]
    fails = [rec(i, utc(2026, 6, 1, i)) for i in range(1, 4)]
    assert rules_of(fails + [rec(4, utc(2026, 6, 1, 6), **sister)]) == [(4, "third_party_locked")]   # same day
    assert rules_of(fails + [rec(4, utc(2026, 6, 2, 1), **sister)]) == []                            # the day after


def test_given_overlapping_calls_to_one_debtor_then_the_second_is_flagged() -> None:
    assert rules_of([rec(1, utc(2026, 6, 1, 2), seconds=600), rec(2, utc(2026, 6, 1, 2, 5), e164="+2")]) == \
        [(2, "call_in_flight")]


def test_given_a_call_with_no_outcome_yet_then_any_later_call_to_that_debtor_overlaps_it() -> None:
    assert rules_of([rec(1, utc(2026, 6, 1, 2), None), rec(2, utc(2026, 6, 1, 5), e164="+2")]) == \
        [(2, "call_in_flight")]


def test_given_eight_calls_about_a_debt_in_seven_days_then_the_eighth_is_flagged_under_us() -> None:
    calls = [rec(i, utc(2026, 6, i, 16), zones=NY, e164=f"+{i % 3}") for i in range(1, 8)]
    calls.append(rec(8, utc(2026, 6, 7, 20), zones=NY, e164="+5"))
    assert rules_of(calls, US) == [(8, "seven_in_seven")]
    calls[2] = rec(3, utc(2026, 6, 3, 16), zones=NY, consented=True)
    assert rules_of(calls, US) == []


def test_given_a_call_six_days_after_a_conversation_then_quiet_period_and_seven_days_after_then_clean() -> None:
    talk = rec(1, utc(2026, 6, 1, 14), Outcome.HUMAN, zones=NY, conversation=True)
    assert rules_of([talk, rec(2, utc(2026, 6, 7, 14), zones=NY)], US) == [(2, "conversation_quiet_period")]
    assert rules_of([talk, rec(2, utc(2026, 6, 8, 12), zones=NY)], US) == []


def test_given_two_unanswered_calls_to_a_number_four_minutes_apart_then_flagged_under_us() -> None:
    calls = [rec(1, utc(2026, 6, 1, 14), zones=NY), rec(2, utc(2026, 6, 1, 14, 4), zones=NY)]
    assert rules_of(calls, US) == [(2, "unanswered_within_5min")]


def test_given_uk_redials_after_an_abandoned_call_or_a_machine_then_flagged_unless_an_agent_was_guaranteed() -> None:
    dropped = rec(1, utc(2026, 6, 1, 10), Outcome.ABANDONED, zones=LDN, abandoned=True)
    assert rules_of([dropped, rec(2, utc(2026, 6, 3, 10), zones=LDN)], UK) == [(2, "abandoned_lockout_72h")]
    assert rules_of([dropped, rec(2, utc(2026, 6, 3, 10), zones=LDN, live_agent_guaranteed=True)], UK) == []
    machine = rec(1, utc(2026, 6, 1, 9), Outcome.MACHINE, zones=LDN)
    assert rules_of([machine, rec(2, utc(2026, 6, 1, 15), zones=LDN)], UK) == [(2, "machine_same_day")]
    assert rules_of([machine, rec(2, utc(2026, 6, 2, 9), zones=LDN)], UK) == []


@pytest.mark.parametrize(("facts", "rule"), [
    ({"on_dnc": True}, "dnc"), ({"suppressed": True}, "suppressed"), ({"valid_number": False}, "invalid_number"),
    ({"abandonment_budget_restored_at": utc(2026, 6, 2)}, "abandonment_budget_spent"),
])
def test_given_facts_that_forbade_the_dial_then_flagged(facts: dict, rule: str) -> None:
    assert rules_of([rec(1, utc(2026, 6, 1, 2), **facts)]) == [(1, rule)]


def test_given_cancelled_calls_then_they_never_count() -> None:
    calls = [rec(i, utc(2026, 6, 1, 0) + timedelta(hours=2 * i), Outcome.CANCELLED) for i in range(1, 10)]
    assert rules_of(calls) == []


def test_given_campaign_and_lifetime_limits_then_the_call_over_each_is_flagged() -> None:
    limited = CN.with_overrides({"caps": {"campaign_attempts": 2, "lifetime_attempts": 3}})
    calls = [rec(i, utc(2026, 6, i, 2), contact=5) for i in range(1, 5)]
    assert rules_of(calls, limited) == [(3, "campaign_attempt_limit"), (4, "lifetime_attempt_limit"),
                                        (4, "campaign_attempt_limit")]
