"""Set-based reads the scheduled jobs share: each debtor's zone, payments, campaign strategies."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialer.clock import ensure_utc
from dialer.daemon.aftercall import plan_for
from dialer.db.models import Campaign, Payment, PhoneContact
from dialer.domain import ContactOwner
from dialer.strategy.stages import Stage, StagePlan


def debtor_zones(session: Session, debtor_ids: Collection[int], fallback: str) -> dict[int, str]:
    """The zone whose calendar counts the debtor's days past due.

    The debtor's own best-ranked number with a known zone decides; a third party's number only when
    the debtor has none; `fallback` (the campaign's or the scheduler's zone) when nothing is known.
    With several candidate zones on one number the first is taken: a day's difference in dpd is
    a stage boundary at worst, never a calling-window question (the gate checks every zone).
    """
    best: dict[int, tuple[bool, int, str]] = {}
    if debtor_ids:
        for debtor_id, owner, rank, zones in session.execute(
                select(PhoneContact.debtor_id, PhoneContact.owner, PhoneContact.rank,
                       PhoneContact.time_zones)
                .where(PhoneContact.debtor_id.in_(debtor_ids))):
            if not zones:
                continue
            key = (owner is not ContactOwner.DEBTOR, rank, str(zones[0]))
            if debtor_id not in best or key < best[debtor_id]:
                best[debtor_id] = key
    return {debtor_id: best[debtor_id][2] if debtor_id in best else fallback
            for debtor_id in debtor_ids}


def paid_by_account(session: Session, account_ids: Collection[int]) -> dict[int, int]:
    """Minor units repaid per account (all payments on file)."""
    if not account_ids:
        return {}
    return {account_id: int(total) for account_id, total in session.execute(
        select(Payment.account_id, func.sum(Payment.amount_minor))
        .where(Payment.account_id.in_(account_ids)).group_by(Payment.account_id))}


def plans_for(session: Session, campaign_ids: Iterable[int]) -> dict[int, tuple[Campaign, StagePlan]]:
    ids = set(campaign_ids)
    if not ids:
        return {}
    return {c.id: (c, plan_for(c)) for c in session.scalars(select(Campaign).where(Campaign.id.in_(ids)))}


def current_stage(plan: StagePlan, name: str | None, dpd: int, outstanding_minor: int) -> Stage:
    """The account's stage as the strategy knows it; a stale name (strategy edited) falls back to
    the dpd ladder, and the last stage when even that has none (as `aftercall` does)."""
    if name is not None and name in {s.name for s in plan.stages}:
        return plan.named(name)
    return plan.by_dpd(dpd, outstanding_minor) or plan.stages[-1]


def local_midnight(day: date, zone: str) -> datetime:
    """The instant the debtor's calendar turns to `day`, in UTC."""
    return ensure_utc(datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)))


def day_after(day: date) -> date:
    return day + timedelta(days=1)
