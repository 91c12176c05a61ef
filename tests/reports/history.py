"""A known attempt history for the report tests, small enough to compute every figure by hand.

Campaign m1 (cn profile: days and hours in Beijing time), three accounts of 100.00 CNY each.
On 2026-11-16 (Beijing), from 10:00:

    min  account  outcome      route         talk  agent  conversation  promise
      0  a1       no_answer
      5  a2       busy
     10  a3       abandoned    safe_harbour
     20  a3       human        queue          300  A      yes           80.00 CNY, open
     60  a1       human        bot             95         yes           50.00 CNY, kept
     70  a2       machine
     75  a2       human        queue          600  A      no

Plus, the day before (outside a report of the 16th): one no-answer on a1 and one gate denial
(daily_cap). On the 16th: four gate denials (outside_window) and a payment of 50.00 on a1 at 13:00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy.orm import Session, sessionmaker

from dialer.db.models import Account, Agent, Attempt, AuditEntry, Conversation, Payment, PromiseToPay
from dialer.db.session import transaction
from dialer.domain import AttemptState, Outcome, Party, PromiseStatus, Route
from tests.gate.helpers import make_campaign, make_debtor

DAY = date(2026, 11, 16)
T0 = datetime(2026, 11, 16, 2, 0, tzinfo=timezone.utc)   # 10:00 Beijing time
DAY_START = datetime(2026, 11, 15, 16, 0, tzinfo=timezone.utc)   # 00:00 Beijing on the 16th
DAY_END = DAY_START + timedelta(days=1)


@dataclass(frozen=True)
class History:
    campaign_id: int
    accounts: tuple[int, int, int]


def _attempt(campaign: int, account: Account, contact: int, minutes: int, outcome: Outcome, *,
             route: Route | None = None, talk: float | None = None, conversation: bool = False,
             agent: int | None = None) -> Attempt:
    placed = T0 + timedelta(minutes=minutes)
    answered = placed + timedelta(seconds=5) if outcome in (Outcome.HUMAN, Outcome.ABANDONED, Outcome.MACHINE) else None
    return Attempt(campaign_id=campaign, account_id=account.id, contact_id=contact, debtor_id=account.debtor_id,
                   e164="+86138", state=AttemptState.ENDED, outcome=outcome, placed_at=placed, answered_at=answered,
                   ended_at=placed + timedelta(seconds=60 + (talk or 0)), ring_timeout_s=30, route=route,
                   talk_seconds=talk, conversation=conversation, abandoned=outcome is Outcome.ABANDONED,
                   agent_id=agent)


def seed(sessions: sessionmaker[Session]) -> History:
    campaign_id = make_campaign(sessions)
    made = [make_debtor(sessions, campaign_id, ref=str(i), zones=["Asia/Shanghai"], numbers=[f"+861380000000{i}"])
            for i in (1, 2, 3)]
    with transaction(sessions) as session:
        agent = Agent(name="A", endpoint="PJSIP/agent1001")
        session.add(agent)
        session.flush()
        (a1, (c1,), _), (a2, (c2,), _), (a3, (c3,), _) = made
        acc1, acc2, acc3 = (session.get_one(Account, a) for a in (a1, a2, a3))
        rows = [
            _attempt(campaign_id, acc1, c1, 0, Outcome.NO_ANSWER),
            _attempt(campaign_id, acc2, c2, 5, Outcome.BUSY),
            _attempt(campaign_id, acc3, c3, 10, Outcome.ABANDONED, route=Route.SAFE_HARBOUR),
            _attempt(campaign_id, acc3, c3, 20, Outcome.HUMAN, route=Route.QUEUE, talk=300.0, conversation=True,
                     agent=agent.id),
            _attempt(campaign_id, acc1, c1, 60, Outcome.HUMAN, route=Route.BOT, talk=95.0, conversation=True),
            _attempt(campaign_id, acc2, c2, 70, Outcome.MACHINE),
            _attempt(campaign_id, acc2, c2, 75, Outcome.HUMAN, route=Route.QUEUE, talk=600.0, agent=agent.id),
            _attempt(campaign_id, acc1, c1, -24 * 60, Outcome.NO_ANSWER),   # the day before
        ]
        session.add_all(rows)
        session.flush()
        session.add_all([
            Conversation(attempt_id=rows[3].id, party=Party.DEBTOR, verified=True, handled_by="agent",
                         disposition="promise"),
            Conversation(attempt_id=rows[4].id, party=Party.DEBTOR, verified=True, disposition="promise"),
            PromiseToPay(account_id=a3, attempt_id=rows[3].id, amount_minor=8000, currency="CNY",
                         promised_date=date(2026, 11, 20), status=PromiseStatus.OPEN),
            PromiseToPay(account_id=a1, attempt_id=rows[4].id, amount_minor=5000, currency="CNY",
                         promised_date=date(2026, 11, 17), status=PromiseStatus.KEPT),
            Payment(account_id=a1, amount_minor=5000, currency="CNY", paid_at=T0 + timedelta(hours=3)),
        ])
        session.add_all([AuditEntry(at=T0 + timedelta(minutes=i), actor="gate", kind="gate_decision",
                                    campaign_id=campaign_id, decision="deny", reason="outside_window")
                         for i in range(4)])
        session.add(AuditEntry(at=T0 - timedelta(days=1), actor="gate", kind="gate_decision",
                               campaign_id=campaign_id, decision="deny", reason="daily_cap"))
    return History(campaign_id, (a1, a2, a3))
