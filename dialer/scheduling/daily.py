"""The daily advance: days past due from the due date in the debtor's calendar, then stages.

Idempotent: dpd is recomputed from `due_date`, never incremented, so a run that is repeated,
late, or done by two dialer processes at once writes the same values.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from dialer.db.models import Account, AuditEntry, PromiseToPay
from dialer.db.session import transaction
from dialer.domain import PromiseStatus
from dialer.scheduling.lookups import (
    day_after,
    debtor_zones,
    local_midnight,
    paid_by_account,
    plans_for,
)
from dialer.strategy.stages import (
    AccountStanding,
    StageChange,
    StageMove,
    StagePlan,
    advance_day,
    dpd_on,
    local_today,
)

ACTOR = "scheduler"


@dataclass(frozen=True)
class AdvanceResult:
    accounts: int
    dpd_changed: int
    moves: dict[str, int]


def advance_accounts(sessions: sessionmaker[Session], *, now: datetime, fallback_zone: str,
                     batch: int = 500) -> AdvanceResult:
    """Advance every open account of a campaign, `batch` accounts per transaction."""
    seen = dpd_changed = 0
    moves: Counter[str] = Counter()
    last_id = 0
    while True:
        with transaction(sessions) as session:
            accounts = list(session.scalars(
                select(Account).where(Account.status == "open", Account.campaign_id.is_not(None),
                                      Account.id > last_id)
                .order_by(Account.id).limit(batch)))
            if not accounts:
                break
            last_id = accounts[-1].id
            seen += len(accounts)
            changed, batch_moves = _advance_batch(session, accounts, now=now,
                                                  fallback_zone=fallback_zone)
            dpd_changed += changed
            moves.update(batch_moves)
    return AdvanceResult(seen, dpd_changed, dict(moves))


def _advance_batch(session: Session, accounts: list[Account], *, now: datetime,
                   fallback_zone: str) -> tuple[int, Counter[str]]:
    plans = plans_for(session, {a.campaign_id for a in accounts if a.campaign_id is not None})
    zones = debtor_zones(session, {a.debtor_id for a in accounts}, fallback_zone)
    paid = paid_by_account(session, [a.id for a in accounts])
    by_id = {a.id: a for a in accounts}
    groups: dict[tuple[int, date], list[tuple[AccountStanding, str | None]]] = defaultdict(list)
    local_zone: dict[int, str] = {}
    changed = 0
    for account in accounts:
        assert account.campaign_id is not None
        campaign, plan = plans[account.campaign_id]
        zone = zones.get(account.debtor_id) or campaign.hours_zone or fallback_zone
        local_zone[account.id] = zone
        today = local_today(now, zone)
        dpd = dpd_on(account.due_date, today)
        if (account.days_past_due, account.dpd_as_of) != (dpd, today):
            account.days_past_due, account.dpd_as_of = dpd, today
            changed += 1
        outstanding = account.amount_due_minor - paid.get(account.id, 0)
        known = {s.name for s in plan.stages}
        previous = account.stage if account.stage in known else None
        standing = AccountStanding(account.id, account.due_date, outstanding,
                                   pinned_stage=_pinned(plan, previous, dpd, outstanding))
        groups[(account.campaign_id, today)].append((standing, previous))
    moves: Counter[str] = Counter()
    for (campaign_id, today), standings in groups.items():
        _, plan = plans[campaign_id]
        for change in advance_day(standings, today, plan):
            account = by_id[change.account_id]
            _apply(session, account, change, now=now, zone=local_zone[account.id])
            moves[change.move.value] += 1
    return changed, moves


def _pinned(plan: StagePlan, stage: str | None, dpd: int, outstanding: int) -> str | None:
    """A stage ahead of what dpd says was set by a disposition rule (`move_to_stage`, refused
    twice → next stage): it is pinned, so the daily advance never moves the account back."""
    if stage is None:
        return None
    by_dpd = plan.by_dpd(dpd, outstanding)
    if by_dpd is not None and plan.index(stage) > plan.index(by_dpd.name):
        return stage
    return None


def _apply(session: Session, account: Account, change: StageChange, *, now: datetime,
           zone: str) -> None:
    account.stage = change.current
    detail: dict[str, object] = {"move": change.move.value, "from": change.previous,
                                 "to": change.current, "dpd": account.days_past_due}
    if change.move is StageMove.LEFT_PAID:
        # Paid in full (a payment import or `dialer account paid`): the account leaves the campaign.
        account.status, account.paid_at = "paid", account.paid_at or now
        session.execute(update(PromiseToPay)
                        .where(PromiseToPay.account_id == account.id,
                               PromiseToPay.status == PromiseStatus.OPEN)
                        .values(status=PromiseStatus.KEPT, resolved_at=now))
    elif change.move is StageMove.LEFT_NOT_DUE:
        # Not past due any more (e.g. a restructured due date): no calls until the day after the
        # new due date, when the daily advance gives it a stage again.
        account.next_eligible_at = local_midnight(day_after(account.due_date), zone)
        detail["next"] = account.next_eligible_at.isoformat()
    session.add(AuditEntry(at=now, actor=ACTOR, kind="stage_change", campaign_id=account.campaign_id,
                           account_id=account.id, detail=detail))
