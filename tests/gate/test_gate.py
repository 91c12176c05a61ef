"""The gate against a real database: decision, attempt row, audit entry and permit, atomically."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialer import attempts
from dialer.clock import FixedClock
from dialer.compliance.permit import PermitAuthority, PermitRejected
from dialer.compliance.rules import DenyReason
from dialer.db.models import Account, Attempt, AuditEntry, Campaign, ConsentRecord, DncEntry
from dialer.db.session import transaction
from dialer.domain import AttemptState, CampaignState, ConsentKind, Outcome
from tests.gate.helpers import make_campaign, make_debtor, make_gate, target, utc

SHANGHAI = ["Asia/Shanghai"]


def end_call(sessions: sessionmaker[Session], attempt_id: int, outcome: Outcome, at, *, conversation: bool = False) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        attempts.close(session, attempt_id, attempts.CallResult(
            outcome=outcome, ended_at=at, answered_at=at if outcome is Outcome.HUMAN else None,
            conversation=conversation), actor="test")


def test_given_an_open_window_when_dialing_then_attempt_audit_and_a_redeemable_permit_are_written(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(utc(2026, 11, 23, 2, 0))  # 10:00 in Shanghai
    authority = PermitAuthority()
    campaign = make_campaign(sessions)
    account, (contact,), _ = make_debtor(sessions, campaign, ref="1", zones=SHANGHAI, numbers=["+8613800138001"])
    result = make_gate(sessions, clock, authority=authority).decide(target(campaign, account, contact))
    assert result.allowed and result.permit is not None
    assert result.permit.ring_timeout_s >= 15
    with sessions() as session:
        attempt = session.get(Attempt, result.permit.attempt_id)
        assert attempt.state is AttemptState.DECIDED and attempt.outcome is None
        assert attempt.placed_at == clock.now() and attempt.e164 == "+8613800138001"
        audit = session.scalars(select(AuditEntry).where(AuditEntry.kind == "gate_decision")).one()
        assert (audit.decision, audit.attempt_id) == ("allow", attempt.id)
    assert authority.redeem(result.permit, now=clock.now()).attempt_id == attempt.id
    with pytest.raises(PermitRejected, match="already used"):
        authority.redeem(result.permit, now=clock.now())


def test_given_23h_in_shanghai_when_dialing_then_denied_until_8h_local_and_the_account_is_parked(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(utc(2026, 11, 23, 15, 0))  # 23:00 in Shanghai
    campaign = make_campaign(sessions)
    account, (contact,), _ = make_debtor(sessions, campaign, ref="1", zones=SHANGHAI, numbers=["+8613800138001"])
    result = make_gate(sessions, clock).decide(target(campaign, account, contact))
    assert not result.allowed and result.decision.reason is DenyReason.OUTSIDE_WINDOW
    assert result.decision.next_allowed_at == utc(2026, 11, 24, 0, 0)  # 08:00 Shanghai
    with sessions() as session:
        assert session.scalar(select(func.count(Attempt.id))) == 0
        audit = session.scalars(select(AuditEntry)).one()
        assert (audit.decision, audit.reason) == ("deny", "outside_window")


def test_given_a_number_put_on_dnc_after_import_when_dialing_then_denied_at_dial_time(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(utc(2026, 11, 23, 2, 0))
    campaign = make_campaign(sessions)
    account, (contact,), _ = make_debtor(sessions, campaign, ref="1", zones=SHANGHAI, numbers=["+8613800138001"])
    with transaction(sessions) as session:
        session.add(DncEntry(e164="+8613800138001", reason="asked to stop"))
    result = make_gate(sessions, clock).decide(target(campaign, account, contact))
    assert result.decision.reason is DenyReason.DNC and result.decision.next_allowed_at is None


def test_given_an_opt_out_captured_by_the_bot_when_dialing_next_then_denied(sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(utc(2026, 11, 23, 2, 0))
    campaign = make_campaign(sessions)
    account, (contact,), _ = make_debtor(sessions, campaign, ref="1", zones=SHANGHAI, numbers=["+8613800138001"])
    gate = make_gate(sessions, clock)
    first = gate.decide(target(campaign, account, contact))
    assert first.permit is not None
    with transaction(sessions) as session:
        attempts.opt_out(session, contact_id=contact, campaign_id=campaign, source="bot", at=clock.now())
    end_call(sessions, first.permit.attempt_id, Outcome.HUMAN, clock.advance(60), conversation=True)
    clock.advance(3600)
    assert gate.decide(target(campaign, account, contact)).decision.reason is DenyReason.DNC


def test_given_a_call_in_flight_when_dialing_another_number_of_the_same_debtor_then_denied(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(utc(2026, 11, 23, 2, 0))
    campaign = make_campaign(sessions)
    account, (home, mobile), _ = make_debtor(sessions, campaign, ref="1", zones=SHANGHAI,
                                             numbers=["+8613800138001", "+8613800138002"])
    gate = make_gate(sessions, clock)
    assert gate.decide(target(campaign, account, home)).allowed
    assert gate.decide(target(campaign, account, mobile)).decision.reason is DenyReason.CALL_IN_FLIGHT


def test_given_six_attempts_today_under_cn_when_dialing_the_seventh_then_denied_until_local_midnight(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(utc(2026, 11, 23, 1, 0))  # 09:00 Shanghai
    campaign = make_campaign(sessions)
    account, (contact,), _ = make_debtor(sessions, campaign, ref="1", zones=SHANGHAI, numbers=["+8613800138001"])
    gate = make_gate(sessions, clock)
    for _ in range(6):
        result = gate.decide(target(campaign, account, contact))
        assert result.permit is not None, result.decision
        end_call(sessions, result.permit.attempt_id, Outcome.NO_ANSWER, clock.advance(30))
        clock.advance(3600)
    seventh = gate.decide(target(campaign, account, contact))
    assert seventh.decision.reason is DenyReason.DAILY_NUMBER_ATTEMPT_CAP
    assert seventh.decision.next_allowed_at == utc(2026, 11, 24, 0, 0)


def test_given_a_paused_campaign_when_dialing_then_denied(sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(utc(2026, 11, 23, 2, 0))
    campaign = make_campaign(sessions)
    account, (contact,), _ = make_debtor(sessions, campaign, ref="1", zones=SHANGHAI, numbers=["+8613800138001"])
    with transaction(sessions) as session:
        session.get(Campaign, campaign).state = CampaignState.PAUSED
    result = make_gate(sessions, clock).decide(target(campaign, account, contact))
    assert not result.allowed and "paused" in result.decision.detail


def test_given_a_recorded_agreement_when_dialing_at_22h30_then_only_that_debtor_is_allowed(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(utc(2026, 11, 23, 14, 30))  # 22:30 Shanghai: closed under cn
    campaign = make_campaign(sessions)
    agreed, (agreed_contact,), _ = make_debtor(sessions, campaign, ref="1", zones=SHANGHAI, numbers=["+8613800138001"])
    other, (other_contact,), _ = make_debtor(sessions, campaign, ref="2", zones=SHANGHAI, numbers=["+8613800138002"])
    with transaction(sessions) as session:
        session.add(ConsentRecord(debtor_id=session.get(Account, agreed).debtor_id, kind=ConsentKind.WIDEN_WINDOW,
                                  window_start="08:00", window_end="23:00", valid_from=clock.now() - timedelta(days=1)))
    gate = make_gate(sessions, clock)
    assert gate.decide(target(campaign, agreed, agreed_contact)).allowed
    assert gate.decide(target(campaign, other, other_contact)).decision.reason is DenyReason.OUTSIDE_WINDOW


def test_given_a_third_party_under_cn_when_the_debtor_is_reachable_then_locked_and_after_three_failures_unlocked_next_day(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(utc(2026, 11, 23, 1, 0))
    campaign = make_campaign(sessions)
    account, (own,), third = make_debtor(sessions, campaign, ref="1", zones=SHANGHAI, numbers=["+8613800138001"],
                                         third_party="+8613900139001")
    assert third is not None
    gate = make_gate(sessions, clock)
    assert gate.decide(target(campaign, account, third)).decision.reason is DenyReason.THIRD_PARTY_LOCKED
    for _ in range(3):
        result = gate.decide(target(campaign, account, own))
        assert result.permit is not None
        end_call(sessions, result.permit.attempt_id, Outcome.NO_ANSWER, clock.advance(30))
        clock.advance(3600)
    locked = gate.decide(target(campaign, account, third))
    assert locked.decision.reason is DenyReason.THIRD_PARTY_LOCKED
    assert locked.decision.next_allowed_at == utc(2026, 11, 24, 0, 0)
    clock.set(utc(2026, 11, 24, 1, 0))
    assert gate.decide(target(campaign, account, third)).allowed
