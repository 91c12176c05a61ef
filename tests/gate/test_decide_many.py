"""`CallGate.decide_many`: a batch in one transaction decides exactly as `decide` on each target in turn."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import FixedClock
from dialer.compliance.gate import DialTarget
from dialer.compliance.permit import PermitAuthority
from dialer.compliance.rules import DenyReason
from dialer.db.models import Account, Attempt, AuditEntry, Campaign, ConsentRecord, DncEntry
from dialer.db.session import transaction
from dialer.domain import CampaignState, ConsentKind, Outcome
from tests.gate.helpers import make_campaign, make_debtor, make_gate, target, utc
from tests.gate.test_gate import end_call

SHANGHAI = ["Asia/Shanghai"]
TEN_IN_SHANGHAI = utc(2026, 11, 23, 2, 0)


def scenario(sessions: sessionmaker[Session], campaign: int, prefix: str) -> list[DialTarget]:
    """One of each case the rules tell apart, in an order where earlier allows matter later."""
    a, (a_home, a_mobile), a_third = make_debtor(sessions, campaign, ref=f"{prefix}a", zones=SHANGHAI,
                                                 numbers=[f"+86138{prefix}0001", f"+86138{prefix}0002"],
                                                 third_party=f"+86139{prefix}0001")
    b, (b_home,), _ = make_debtor(sessions, campaign, ref=f"{prefix}b", zones=SHANGHAI, numbers=[f"+86138{prefix}0003"])
    c, (c_home,), _ = make_debtor(sessions, campaign, ref=f"{prefix}c", zones=SHANGHAI, numbers=[f"+86138{prefix}0004"])
    d, (d_home,), _ = make_debtor(sessions, campaign, ref=f"{prefix}d", zones=["Europe/London"],
                                  numbers=[f"+86138{prefix}0005"])
    with transaction(sessions) as session:
        session.add(DncEntry(e164=f"+86138{prefix}0003", reason="asked to stop"))
        session.add(ConsentRecord(debtor_id=session.get(Account, c).debtor_id, kind=ConsentKind.INCONVENIENT_TIME,
                                  window_start="09:00", window_end="11:00", valid_from=TEN_IN_SHANGHAI - timedelta(days=1)))
    assert a_third is not None
    return [
        target(campaign, a, a_third),     # third party locked: the debtor is reachable
        target(campaign, a, a_home),      # allowed
        target(campaign, a, a_mobile),    # same debtor, call in flight (the allow just before)
        target(campaign, a, a_home),      # the same number again: in flight
        target(campaign, b, b_home),      # DNC
        target(campaign, c, c_home),      # the debtor's inconvenient time
        target(campaign, d, d_home),      # 02:00 in London: outside the window
        target(campaign, a, b_home),      # an account of another debtor
        target(campaign, 999_999, a_home),  # unknown account
    ]


def outcome(result) -> tuple[bool, DenyReason | None, str]:  # type: ignore[no-untyped-def]
    return result.allowed, result.decision.reason, result.decision.detail.split(":")[0]


def test_given_a_batch_with_every_kind_of_case_then_decisions_equal_deciding_one_by_one(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(TEN_IN_SHANGHAI)
    campaign = make_campaign(sessions)
    batch, single = scenario(sessions, campaign, "10"), scenario(sessions, campaign, "20")
    gate = make_gate(sessions, clock)
    together = gate.decide_many(batch)
    one_by_one = [gate.decide(t) for t in single]
    assert [outcome(r) for r in together] == [outcome(r) for r in one_by_one]
    assert [r.decision.reason for r in together] == [
        DenyReason.THIRD_PARTY_LOCKED, None, DenyReason.CALL_IN_FLIGHT, DenyReason.CALL_IN_FLIGHT, DenyReason.DNC,
        DenyReason.INCONVENIENT_TIME, DenyReason.OUTSIDE_WINDOW, None, None]
    assert [r.allowed for r in together] == [False, True, False, False, False, False, False, False, False]
    assert together[7].decision.detail == together[8].decision.detail == "unknown or mismatched campaign/account/contact"


def test_given_a_batch_then_attempts_audit_and_account_counters_are_written_as_by_single_decisions(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(TEN_IN_SHANGHAI)
    authority = PermitAuthority()
    campaign = make_campaign(sessions)
    batch = scenario(sessions, campaign, "10")
    results = make_gate(sessions, clock, authority=authority).decide_many(batch, scripts=[f"s{i}" for i in range(9)])
    permit = results[1].permit
    assert permit is not None and authority.redeem(permit, now=clock.now()).attempt_id == permit.attempt_id
    with sessions() as session:
        attempts = session.scalars(select(Attempt)).all()
        assert [(a.id, a.contact_id, a.script, a.placed_at, a.outcome) for a in attempts] == [
            (permit.attempt_id, batch[1].contact_id, "s1", clock.now(), None)]
        audit = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.contact_id, e.decision, e.reason, e.attempt_id) for e in audit] == [
            (t.contact_id, "allow" if r.allowed else "deny", r.decision.reason.value if r.decision.reason else None,
             r.permit.attempt_id if r.permit else None) for t, r in zip(batch, results)]
        assert [e.detail["detail"] for e in audit] == [r.decision.detail for r in results]
        assert audit[3].detail["next_allowed_at"] == results[3].decision.next_allowed_at.isoformat()
        assert {e.at for e in audit} == {clock.now()} and {e.actor for e in audit} == {"gate@test"}
        counted = session.get(Account, batch[1].account_id)
        # Allowed, then denied twice (call in flight: parked until the re-check hint), in that order.
        assert counted.attempts_count == 1
        assert counted.next_eligible_at == results[3].decision.next_allowed_at
        assert session.get(Account, batch[4].account_id).next_eligible_at is None   # DNC: never, not parked


def test_given_a_number_at_its_daily_cap_when_batched_with_its_last_allowed_call_then_the_cap_holds(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(utc(2026, 11, 23, 1, 0))  # 09:00 Shanghai
    campaign = make_campaign(sessions)
    account, (contact,), _ = make_debtor(sessions, campaign, ref="1", zones=SHANGHAI, numbers=["+8613800138001"])
    gate = make_gate(sessions, clock)
    for _ in range(5):
        (result,) = gate.decide_many([target(campaign, account, contact)])
        assert result.permit is not None, result.decision
        end_call(sessions, result.permit.attempt_id, Outcome.NO_ANSWER, clock.advance(30))
        clock.advance(3600)
    sixth, seventh = gate.decide_many([target(campaign, account, contact)] * 2)
    # The sixth, allowed in this batch, counts for the seventh: at the cap, and in flight.
    assert sixth.allowed and seventh.decision.reason is DenyReason.DAILY_NUMBER_ATTEMPT_CAP
    assert {d.reason for d in seventh.decision.denials} == {DenyReason.DAILY_NUMBER_ATTEMPT_CAP,
                                                            DenyReason.CALL_IN_FLIGHT}
    assert seventh.decision.next_allowed_at == utc(2026, 11, 24, 0, 0)


def test_given_two_campaigns_in_one_batch_then_each_is_judged_by_its_own_state(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(TEN_IN_SHANGHAI)
    running, paused = make_campaign(sessions, name="running"), make_campaign(sessions, name="paused")
    a, (a_home,), _ = make_debtor(sessions, running, ref="1", zones=SHANGHAI, numbers=["+8613800138001"])
    b, (b_home,), _ = make_debtor(sessions, paused, ref="2", zones=SHANGHAI, numbers=["+8613800138002"])
    with transaction(sessions) as session:
        session.get(Campaign, paused).state = CampaignState.PAUSED
    allowed, refused = make_gate(sessions, clock).decide_many([target(running, a, a_home), target(paused, b, b_home)])
    assert allowed.allowed and not refused.allowed and refused.decision.detail == "campaign is paused"


def test_given_no_targets_then_nothing_is_written_and_a_script_per_target_is_required(
        sessions: sessionmaker[Session]) -> None:
    gate = make_gate(sessions, FixedClock(TEN_IN_SHANGHAI))
    assert gate.decide_many([]) == []
    with pytest.raises(ValueError, match="2 scripts for 1 targets"):
        gate.decide_many([target(1, 1, 1)], scripts=["a", "b"])
    with sessions() as session:
        assert session.scalars(select(AuditEntry)).all() == []


def test_given_several_allowed_dials_in_a_batch_then_each_permit_names_its_own_attempt_row(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(TEN_IN_SHANGHAI)
    campaign = make_campaign(sessions)
    targets = []
    for i in range(4):
        account, (contact,), _ = make_debtor(sessions, campaign, ref=str(i), zones=SHANGHAI,
                                             numbers=[f"+86138001380{i:02d}"])
        targets.append(target(campaign, account, contact))
    gate = make_gate(sessions, clock, node="node-7")
    results = gate.decide_many(targets[::-1], scripts=["a", None, "c", "d"], requested_ring_s=40, voice="v1")
    assert all(r.permit is not None for r in results)
    with sessions() as session:
        for t, r, script in zip(targets[::-1], results, ["a", None, "c", "d"]):
            assert r.permit is not None
            row = session.get(Attempt, r.permit.attempt_id)
            assert (row.account_id, row.contact_id, row.e164, row.script) == (
                t.account_id, t.contact_id, r.permit.e164, script)
            assert (row.campaign_id, row.ring_timeout_s, row.voice, row.dialer_node, row.placed_at) == (
                campaign, 40, "v1", "node-7", clock.now())
            assert (row.conversation, row.abandoned, row.live_agent_guaranteed, row.outcome) == (
                False, False, False, None)


def test_given_sessions_not_bound_to_an_engine_then_the_gate_refuses_to_start_naming_the_factory() -> None:
    with pytest.raises(TypeError, match="bound to an Engine .*make_sessionmaker"):
        make_gate(sessionmaker(), FixedClock(TEN_IN_SHANGHAI))
