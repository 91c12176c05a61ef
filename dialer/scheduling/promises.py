"""Promise review: kept when payments cover the promise, broken when its date (plus grace for
bank posting) passed unpaid; a broken promise re-enters the account at once with the follow-up
script (seed 000). The gate still decides when the call may go out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialer.db.models import Account, AuditEntry, Payment, PromiseToPay
from dialer.db.session import transaction
from dialer.domain import PromiseStatus
from dialer.scheduling.lookups import current_stage, debtor_zones, local_midnight, plans_for
from dialer.strategy import retry
from dialer.strategy.stages import StagePlan, default_stage_plan, local_today

ACTOR = "scheduler"


@dataclass(frozen=True)
class ReviewResult:
    reviewed: int
    kept: int
    broken: int


def review_open_promises(sessions: sessionmaker[Session], *, now: datetime, fallback_zone: str,
                         grace_days: int = 1, batch: int = 200) -> ReviewResult:
    counts: Counter[PromiseStatus] = Counter()
    reviewed = 0
    last_id = 0
    while True:
        with transaction(sessions) as session:
            rows = session.execute(
                select(PromiseToPay, Account).join(Account, Account.id == PromiseToPay.account_id)
                .where(PromiseToPay.status == PromiseStatus.OPEN, PromiseToPay.id > last_id)
                .order_by(PromiseToPay.id).limit(batch)).all()
            if not rows:
                break
            last_id = rows[-1][0].id
            reviewed += len(rows)
            plans = plans_for(session, {a.campaign_id for _, a in rows if a.campaign_id is not None})
            zones = debtor_zones(session, {a.debtor_id for _, a in rows}, fallback_zone)
            for promise, account in rows:
                campaign_plan = plans.get(account.campaign_id) if account.campaign_id else None
                plan = campaign_plan[1] if campaign_plan else default_stage_plan()
                zone = zones[account.debtor_id]
                counts[_review(session, promise, account, plan, zone=zone, now=now,
                               grace_days=grace_days)] += 1
    return ReviewResult(reviewed, counts[PromiseStatus.KEPT], counts[PromiseStatus.BROKEN])


def _review(session: Session, promise: PromiseToPay, account: Account, plan: StagePlan, *,
            zone: str, now: datetime, grace_days: int) -> PromiseStatus:
    # Payments from the start of the debtor's day the promise was made count towards it: a bank
    # file dates a payment, not the minute it was made.
    since = local_midnight(local_today(promise.created_at, zone), zone)
    paid = session.scalar(select(func.coalesce(func.sum(Payment.amount_minor), 0))
                          .where(Payment.account_id == account.id, Payment.paid_at >= since)) or 0
    stage = current_stage(plan, account.stage, account.days_past_due, account.amount_due_minor)
    status, step = retry.review_promise(
        retry.PromiseToPay(account.id, promise.amount_minor, promise.promised_date, int(paid)),
        today=local_today(now, zone), now=now, stage=stage, plan=plan, grace_days=grace_days)
    if status is PromiseStatus.OPEN:
        # Nobody calls about a promise still running: parked to the end of its grace day in the
        # debtor's calendar (bank posting), when this review decides. The bot's outcome sink
        # parks to the day after the date only, and in UTC; this only ever pushes later.
        grace_end = local_midnight(promise.promised_date + timedelta(days=grace_days + 1), zone)
        if account.status == "open" and (account.next_eligible_at is None or account.next_eligible_at < grace_end):
            account.next_eligible_at = grace_end
        return status
    promise.status, promise.resolved_at = status, now
    detail: dict[str, object] = {"promise_id": promise.id, "status": status.value,
                                 "promised": promise.amount_minor, "paid": int(paid),
                                 "promised_date": promise.promised_date.isoformat()}
    if step is not None and account.status == "open":
        account.next_eligible_at, account.stage, account.script = step.next_eligible_at, step.stage, step.script
        detail |= {"stage": step.stage, "script": step.script, "reason": step.reason}
    session.add(AuditEntry(at=now, actor=ACTOR, kind="promise_review", campaign_id=account.campaign_id,
                           account_id=account.id, attempt_id=promise.attempt_id, detail=detail))
    return status
