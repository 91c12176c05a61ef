"""The runner asks the gate for a tick's permits in batches: never more permits than slots, and a
candidate whose number is denied tries its next number, as when it asked one number at a time."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import FixedClock
from dialer.daemon.runner import CampaignRunner, TickReport
from dialer.db.models import Account, Attempt, DncEntry
from dialer.db.session import transaction
from dialer.telephony.tracker import CallTracker
from tests.gate.helpers import make_campaign, make_debtor, make_gate, utc

TEN_IN_SHANGHAI = utc(2026, 11, 23, 2, 0)


def runner(sessions: sessionmaker[Session], campaign: int, clock: FixedClock) -> CampaignRunner:
    # `decide` is database work only: no telephony is reached before `place`.
    return CampaignRunner(campaign_id=campaign, sessions=sessions, gate=make_gate(sessions, clock),
                          telephony=None, tracker=CallTracker(), clock=clock,  # type: ignore[arg-type]
                          dial_template="PJSIP/{number}@carrier", tick_seconds=1.0, node="n1")


def test_given_three_slots_and_five_debtors_whose_first_number_is_on_dnc_then_three_permits_on_second_numbers(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(TEN_IN_SHANGHAI)
    campaign = make_campaign(sessions)
    accounts = {}
    for i in range(5):
        account, (first, second), _ = make_debtor(sessions, campaign, ref=str(i), zones=["Asia/Shanghai"],
                                                  numbers=[f"+861380013800{i}", f"+861390013900{i}"])
        accounts[account] = second
        with transaction(sessions) as session:
            session.add(DncEntry(e164=f"+861380013800{i}", reason="asked to stop"))
    report = TickReport(campaign="m1", state="running")
    permits = runner(sessions, campaign, clock).decide(3, report)
    assert len(permits) == 3 and report.denied == 3 and report.denials == {"dnc": 3}
    with sessions() as session:
        written = session.execute(select(Attempt.id, Attempt.account_id, Attempt.contact_id)).all()
        assert sorted(a for a, _, _ in written) == sorted(p.attempt_id for p in permits)
        assert all(contact == accounts[account] for _, account, contact in written)   # each on its second number
        held = session.scalars(select(Account.held_by)).all()
        assert held == [None] * 5   # every claimed candidate released


def test_given_a_candidate_with_every_number_denied_then_it_is_parked_until_the_earliest_allowed_instant(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(utc(2026, 11, 23, 14, 30))  # 22:30 Shanghai: closed until 08:00
    campaign = make_campaign(sessions)
    account, _, _ = make_debtor(sessions, campaign, ref="1", zones=["Asia/Shanghai"],
                                numbers=["+8613800138001", "+8613800138002"])
    report = TickReport(campaign="m1", state="running")
    assert runner(sessions, campaign, clock).decide(2, report) == []
    assert report.denials == {"outside_window": 2}
    with sessions() as session:
        assert session.get(Account, account).next_eligible_at == utc(2026, 11, 24, 0, 0)
