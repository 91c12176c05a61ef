"""The figures of a simulated campaign, read back from the scratch database after the run.

The lift study compares orders on these; `dialer report` reads the same rows for the supervisor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialer.compliance.profiles import PolicyProfile
from dialer.db.models import Account, Attempt, AuditEntry, Campaign, Conversation, Payment, PromiseToPay
from dialer.domain import Outcome, PromiseStatus
from dialer.reports.compliance import recheck


@dataclass(frozen=True)
class CampaignFigures:
    dials: int
    connects: int                  # live answers (a person, not a machine)
    right_party_contacts: int      # verified conversations with the debtor
    accounts_reached: int          # accounts with at least one right-party contact
    promises: int
    promised_minor: int
    promises_kept: int
    promises_broken: int
    promises_open: int             # promised date not yet reviewed when the run ended
    recovered_minor: int           # payments received during the run
    outstanding_at_start_minor: int
    recovery_rate: float | None
    accounts_paid: int
    stage_moves: int               # accounts moved to another stage (daily advance or a rule)
    callbacks_requested: int
    callbacks_honoured: int        # next call at or after the time the debtor named
    callbacks_early: int           # next call before it (must be 0)
    denials_by_reason: dict[str, int]
    violations: int                # found by the independent re-check (must be 0)
    channel_utilisation: float | None  # call seconds / channel seconds, over the hours with a dial

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def outstanding_total(session: Session, campaign_id: int) -> int:
    due = session.scalar(select(func.coalesce(func.sum(Account.amount_due_minor), 0))
                         .where(Account.campaign_id == campaign_id, Account.status == "open")) or 0
    paid = session.scalar(select(func.coalesce(func.sum(Payment.amount_minor), 0))
                          .join(Account, Account.id == Payment.account_id)
                          .where(Account.campaign_id == campaign_id, Account.status == "open")) or 0
    return int(due) - int(paid)


def campaign_figures(session: Session, campaign: Campaign, profile: PolicyProfile, *, start: datetime,
                     outstanding_at_start_minor: int, channels: int) -> CampaignFigures:
    cid = campaign.id
    rows = session.execute(select(Attempt.id, Attempt.account_id, Attempt.outcome, Attempt.conversation,
                                  Attempt.placed_at, Attempt.ended_at)
                           .where(Attempt.campaign_id == cid, Attempt.placed_at >= start)).all()
    promises = session.execute(select(PromiseToPay.amount_minor, PromiseToPay.status)
                               .join(Account, Account.id == PromiseToPay.account_id)
                               .where(Account.campaign_id == cid, PromiseToPay.created_at >= start)).all()
    recovered = int(session.scalar(select(func.coalesce(func.sum(Payment.amount_minor), 0))
                                   .join(Account, Account.id == Payment.account_id)
                                   .where(Account.campaign_id == cid, Payment.paid_at >= start)) or 0)
    paid_accounts = session.scalar(select(func.count(Account.id)).where(
        Account.campaign_id == cid, Account.status == "paid", Account.paid_at >= start)) or 0
    # Entering a first stage (a fresh import) is not a move; an account advancing a stage is.
    stage_moves = sum(1 for (detail,) in session.execute(select(AuditEntry.detail).where(
        AuditEntry.campaign_id == cid, AuditEntry.at >= start, AuditEntry.kind == "stage_change"))
        if detail.get("move") == "moved")
    denials = dict(session.execute(select(AuditEntry.reason, func.count()).where(
        AuditEntry.campaign_id == cid, AuditEntry.kind == "gate_decision", AuditEntry.decision == "deny",
        AuditEntry.at >= start).group_by(AuditEntry.reason)).all())
    honoured, early, requested = _callbacks(session, cid, start)
    status = [s for _, s in promises]
    # Whether the channels were the bottleneck: with idle channels, hopper order cannot matter much.
    busy_s = sum((r.ended_at - r.placed_at).total_seconds() for r in rows if r.ended_at is not None)
    dialling_hours = len({r.placed_at.replace(minute=0, second=0, microsecond=0) for r in rows})
    return CampaignFigures(
        dials=len(rows), connects=sum(1 for r in rows if r.outcome in (Outcome.HUMAN, Outcome.ABANDONED)),
        right_party_contacts=sum(1 for r in rows if r.conversation),
        accounts_reached=len({r.account_id for r in rows if r.conversation}),
        promises=len(promises), promised_minor=sum(int(a) for a, _ in promises),
        promises_kept=status.count(PromiseStatus.KEPT), promises_broken=status.count(PromiseStatus.BROKEN),
        promises_open=status.count(PromiseStatus.OPEN), recovered_minor=recovered,
        outstanding_at_start_minor=outstanding_at_start_minor,
        recovery_rate=round(recovered / outstanding_at_start_minor, 4) if outstanding_at_start_minor else None,
        accounts_paid=paid_accounts, stage_moves=stage_moves,
        callbacks_requested=requested, callbacks_honoured=honoured, callbacks_early=early,
        denials_by_reason={k or "campaign_not_running": v for k, v in sorted(denials.items(), key=lambda kv: -kv[1])},
        violations=len(recheck(session, campaign, profile)),
        channel_utilisation=round(busy_s / (channels * 3600 * dialling_hours), 3) if dialling_hours else None)


def _callbacks(session: Session, campaign_id: int, start: datetime) -> tuple[int, int, int]:
    """For each "call me at …": was the account's next call at or after that time?"""
    asked = session.execute(select(Attempt.account_id, Attempt.placed_at, Conversation.callback_at)
                            .join(Conversation, Conversation.attempt_id == Attempt.id)
                            .where(Attempt.campaign_id == campaign_id, Attempt.placed_at >= start,
                                   Conversation.callback_at.is_not(None))).all()
    honoured = early = 0
    for account_id, placed_at, callback_at in asked:
        following = session.scalar(select(func.min(Attempt.placed_at)).where(
            Attempt.account_id == account_id, Attempt.placed_at > placed_at))
        if following is None or callback_at is None:
            continue
        if following >= callback_at:
            honoured += 1
        else:
            early += 1
    return honoured, early, len(asked)
