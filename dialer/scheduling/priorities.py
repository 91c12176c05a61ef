"""`Account.priority` for the hopper: expected recovery × the best contact's answer chance now.

The hopper orders by `priority` (desc), so this job is what makes it "best first". The score is
`dialer.strategy.priority.score` per contact (the account takes its best number); the population
prior is pooled per campaign from the last `LOOKBACK` of attempts. Refreshed every 15 minutes, so
the answer-probability factor follows each contact's local hour.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session, sessionmaker

from dialer.compliance.facts import PastAttempt
from dialer.db.models import Account, Attempt, Conversation, PhoneContact, PromiseToPay
from dialer.db.session import transaction
from dialer.domain import PromiseStatus
from dialer.scheduling.lookups import current_stage, paid_by_account, plans_for
from dialer.strategy.priority import (
    AnswerTally,
    Candidate,
    PaymentHistory,
    PaymentModel,
    PopulationPrior,
    score,
    tally_from_attempts,
)
from dialer.strategy.retry import Disposition

LOOKBACK = timedelta(days=28)
# id, debtor_id, stage, days_past_due, amount_due_minor, next_eligible_at
_AccountRow = Row[int, int, str | None, int, int, datetime | None]


@dataclass(frozen=True)
class PriorityResult:
    campaigns: int
    accounts: int


def refresh_account_priorities(sessions: sessionmaker[Session], *, now: datetime,
                               fallback_zone: str, batch: int = 1000,
                               payment: PaymentModel | None = None, by_recovery: bool = True,
                               by_answer_time: bool = True) -> PriorityResult:
    """`by_recovery` / `by_answer_time` switch a factor off (the simulator's lift study)."""
    payment = payment or PaymentModel()
    with sessions() as session:
        campaign_ids = list(session.scalars(
            select(Account.campaign_id).where(Account.status == "open",
                                              Account.campaign_id.is_not(None)).distinct()))
    updated = 0
    for campaign_id in sorted(i for i in campaign_ids if i is not None):
        with sessions() as session:
            tallies, zones = _contact_tallies(session, campaign_id, now)
        prior = PopulationPrior.pooled(tallies.values())
        last_id = 0
        while True:
            with transaction(sessions) as session:
                accounts = session.execute(
                    select(Account.id, Account.debtor_id, Account.stage, Account.days_past_due,
                           Account.amount_due_minor, Account.next_eligible_at)
                    .where(Account.campaign_id == campaign_id, Account.status == "open",
                           Account.id > last_id).order_by(Account.id).limit(batch)).all()
                if not accounts:
                    break
                last_id = accounts[-1].id
                values = _scores(session, campaign_id, accounts, tallies, zones, prior, payment,
                                 now=now, fallback_zone=fallback_zone, by_recovery=by_recovery,
                                 by_answer_time=by_answer_time)
                session.execute(update(Account), values)
                updated += len(values)
    return PriorityResult(len(campaign_ids), updated)


def _contact_tallies(session: Session, campaign_id: int, now: datetime
                     ) -> tuple[dict[int, AnswerTally], dict[int, str]]:
    """Answer tallies per contact of the campaign's debtors, in each contact's first zone."""
    zones: dict[int, str] = {}
    for contact_id, time_zones in session.execute(
            select(PhoneContact.id, PhoneContact.time_zones)
            .where(PhoneContact.debtor_id.in_(select(Account.debtor_id)
                                              .where(Account.campaign_id == campaign_id)))):
        if time_zones:
            zones[contact_id] = str(time_zones[0])
    history: dict[int, list[PastAttempt]] = defaultdict(list)
    for row in session.execute(
            select(Attempt.id, Attempt.contact_id, Attempt.e164, Attempt.account_id,
                   Attempt.placed_at, Attempt.outcome)
            .where(Attempt.campaign_id == campaign_id, Attempt.placed_at >= now - LOOKBACK,
                   Attempt.outcome.is_not(None))):
        history[row.contact_id].append(PastAttempt(
            attempt_id=row.id, contact_id=row.contact_id, e164=row.e164, account_id=row.account_id,
            campaign_id=campaign_id, placed_at=row.placed_at, outcome=row.outcome))
    tallies = {contact_id: tally_from_attempts(past, zones.get(contact_id, "UTC"))
               for contact_id, past in history.items()}
    return tallies, zones


def _scores(session: Session, campaign_id: int, accounts: Sequence[_AccountRow],
            tallies: dict[int, AnswerTally], zones: dict[int, str], prior: PopulationPrior, payment: PaymentModel, *,
            now: datetime, fallback_zone: str, by_recovery: bool = True,
            by_answer_time: bool = True) -> list[dict[str, object]]:
    account_ids = [a.id for a in accounts]
    plans = plans_for(session, [campaign_id])
    campaign, plan = plans[campaign_id]
    paid = paid_by_account(session, account_ids)
    history = _payment_history(session, account_ids)
    contacts: dict[int, list[int]] = defaultdict(list)
    for contact_id, debtor_id in session.execute(
            select(PhoneContact.id, PhoneContact.debtor_id)
            .where(PhoneContact.debtor_id.in_({a.debtor_id for a in accounts}),
                   PhoneContact.valid.is_(True), PhoneContact.suppressed.is_(False))):
        contacts[debtor_id].append(contact_id)
    values = []
    for account in accounts:
        outstanding = max(0, account.amount_due_minor - paid.get(account.id, 0))
        stage = current_stage(plan, account.stage, account.days_past_due, outstanding).name
        best = 0.0
        for contact_id in contacts.get(account.debtor_id, []):
            candidate = Candidate(
                contact_id=contact_id, account_id=account.id,
                zone=zones.get(contact_id) or campaign.hours_zone or fallback_zone,
                outstanding_minor=outstanding, stage=stage,
                waiting_since=account.next_eligible_at or now,
                history=history.get(account.id, PaymentHistory()),
                tally=tallies.get(contact_id, AnswerTally()))
            best = max(best, score(candidate, now, payment=payment, prior=prior, by_recovery=by_recovery,
                                   by_answer_time=by_answer_time).score)
        values.append({"id": account.id, "priority": round(best, 6)})
    return values


def _payment_history(session: Session, account_ids: list[int]) -> dict[int, PaymentHistory]:
    kept: Counter[int] = Counter()
    broken: Counter[int] = Counter()
    refusals: Counter[int] = Counter()
    for account_id, status in session.execute(
            select(PromiseToPay.account_id, PromiseToPay.status)
            .where(PromiseToPay.account_id.in_(account_ids))):
        if status is PromiseStatus.KEPT:
            kept[account_id] += 1
        elif status is PromiseStatus.BROKEN:
            broken[account_id] += 1
    for (account_id,) in session.execute(
            select(Attempt.account_id).join(Conversation, Conversation.attempt_id == Attempt.id)
            .where(Attempt.account_id.in_(account_ids),
                   Conversation.disposition == Disposition.REFUSED.value)):
        refusals[account_id] += 1
    return {a: PaymentHistory(kept[a], broken[a], refusals[a])
            for a in set(kept) | set(broken) | set(refusals)}

