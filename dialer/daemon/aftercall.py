"""After a call: the campaign's retry rules say when the account may be tried again.

This proposes the earliest time (`next_eligible_at`); the compliance gate still judges the dial.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.db.models import Account, Attempt, AuditEntry, Campaign, Conversation
from dialer.domain import Outcome
from dialer.strategy.config import load_strategy
from dialer.strategy.retry import Disposition, decide
from dialer.strategy.stages import StagePlan, default_stage_plan


def plan_for(campaign: Campaign) -> StagePlan:
    return load_strategy(campaign.strategy) if campaign.strategy else default_stage_plan()


def disposition_of(outcome: Outcome, conversation_disposition: str | None) -> Disposition | None:
    if conversation_disposition in Disposition._value2member_map_:
        return Disposition(conversation_disposition)
    if outcome is Outcome.CANCELLED:
        return None
    if outcome is Outcome.HUMAN:
        # A person answered but nobody recorded a result (bot down, agent skipped wrap-up):
        # treat it as "call back later", whose rule hands the account to agents when it repeats.
        return Disposition.CALLBACK_REQUESTED
    return Disposition.from_outcome(outcome)


def schedule_next(session: Session, attempt_id: int, *, now: datetime) -> None:
    attempt = session.get(Attempt, attempt_id)
    if attempt is None or attempt.outcome is None:
        return
    account = session.get(Account, attempt.account_id)
    campaign = session.get(Campaign, attempt.campaign_id)
    if account is None or campaign is None or account.status != "open":
        return
    conversation = session.scalar(select(Conversation).where(Conversation.attempt_id == attempt_id))
    disposition = disposition_of(attempt.outcome, conversation.disposition if conversation else None)
    if disposition is None:
        return
    plan = plan_for(campaign)
    stage = (plan.named(account.stage) if account.stage and account.stage in {s.name for s in plan.stages}
             else plan.by_dpd(account.days_past_due, account.amount_due_minor) or plan.stages[-1])
    history: Counter[Disposition] = Counter()
    for outcome, conv_disposition in session.execute(
            select(Attempt.outcome, Conversation.disposition)
            .outerjoin(Conversation, Conversation.attempt_id == Attempt.id)
            .where(Attempt.account_id == account.id, Attempt.campaign_id == campaign.id,
                   Attempt.outcome.is_not(None))):
        if (previous := disposition_of(outcome, conv_disposition)) is not None:
            history[previous] += 1
    step = decide(disposition, now=now, stage=stage, plan=plan, attempts_in_stage=history,
                  callback_at=conversation.callback_at if conversation else None)
    account.stage, account.script = step.stage, step.script
    if step.close:
        account.status = "closed"
    elif step.handoff:
        # A human takes it from here (hardship, dispute, repeated callbacks): out of the hopper
        # until an agent or supervisor puts it back.
        account.status = "handoff"
    # The gate may already have pushed the account later (a cap); never pull it earlier.
    if step.next_eligible_at is not None:
        current = account.next_eligible_at
        account.next_eligible_at = max(step.next_eligible_at, current) if current else step.next_eligible_at
    session.add(AuditEntry(at=now, actor="strategy", kind="next_step", campaign_id=campaign.id,
                           account_id=account.id, attempt_id=attempt_id,
                           detail={"disposition": disposition.value, "stage": step.stage, "close": step.close,
                                   "handoff": step.handoff, "sms": step.sms_template, "reason": step.reason,
                                   "next": step.next_eligible_at.isoformat() if step.next_eligible_at else None}))
