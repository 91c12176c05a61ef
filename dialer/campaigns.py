"""Campaign use cases: create, list, show, and state changes a supervisor makes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dialer.db.models import Account, Attempt, AuditEntry, Campaign, Queue
from dialer.domain import CampaignMode, CampaignState

# Which state changes a supervisor may make, from which states.
_TRANSITIONS: dict[CampaignState, tuple[CampaignState, ...]] = {
    CampaignState.RUNNING: (CampaignState.DRAFT, CampaignState.PAUSED, CampaignState.STOPPED),
    CampaignState.PAUSED: (CampaignState.RUNNING,),
    CampaignState.STOPPED: (CampaignState.RUNNING, CampaignState.PAUSED, CampaignState.DRAFT),
    CampaignState.FINISHED: (CampaignState.RUNNING, CampaignState.PAUSED, CampaignState.STOPPED),
}


class CampaignError(ValueError):
    pass


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    profile: str = "cn"
    mode: CampaignMode = CampaignMode.PREDICTIVE
    queue: str | None = None
    telephony: str = "ari"
    language: str = "zh-CN"
    caller_id: str | None = None
    channel_limit: int = 30
    calls_per_second: float = 5.0
    max_attempts_per_account: int | None = None
    hours: tuple[str, str] | None = None
    hours_zone: str | None = None
    reward_offer: bool = False


def create_campaign(session: Session, spec: CampaignSpec, *, known_profiles: tuple[str, ...],
                    actor: str) -> Campaign:
    if session.scalar(select(Campaign.id).where(Campaign.name == spec.name)) is not None:
        raise CampaignError(f"campaign {spec.name!r} already exists")
    if spec.profile not in known_profiles:
        raise CampaignError(f"profile {spec.profile!r} is unknown (known: {', '.join(known_profiles)})")
    if spec.mode not in (CampaignMode.BOT_ONLY,) and spec.queue is None and spec.mode != CampaignMode.MANUAL:
        raise CampaignError(f"mode {spec.mode.value} needs agents: pass --queue NAME (or use --mode bot_only)")
    queue_id = None
    if spec.queue:
        queue = session.scalar(select(Queue).where(Queue.name == spec.queue))
        if queue is None:
            queue = Queue(name=spec.queue)
            session.add(queue)
            session.flush()
        queue_id = queue.id
    campaign = Campaign(
        name=spec.name, profile=spec.profile, mode=spec.mode, queue_id=queue_id, telephony=spec.telephony,
        language=spec.language, caller_id=spec.caller_id, channel_limit=spec.channel_limit,
        calls_per_second=spec.calls_per_second, max_attempts_per_account=spec.max_attempts_per_account,
        hours_start=spec.hours[0] if spec.hours else None, hours_end=spec.hours[1] if spec.hours else None,
        hours_zone=spec.hours_zone, reward_offer=spec.reward_offer, profile_overrides={}, strategy={},
    )
    session.add(campaign)
    session.flush()
    session.add(AuditEntry(actor=actor, kind="campaign_create", campaign_id=campaign.id,
                           detail={"name": spec.name, "profile": spec.profile, "mode": spec.mode.value}))
    return campaign


def get_campaign(session: Session, name: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.name == name))
    if campaign is None:
        raise CampaignError(f"campaign {name!r} not found (see `dialer campaign list`)")
    return campaign


def change_state(session: Session, name: str, target: CampaignState, *, actor: str) -> Campaign:
    campaign = get_campaign(session, name)
    if campaign.state == target:
        return campaign
    if campaign.state not in _TRANSITIONS[target]:
        commands = {CampaignState.RUNNING: "start", CampaignState.PAUSED: "pause", CampaignState.STOPPED: "stop"}
        possible = [f"`dialer campaign {commands[t]} {name}`" for t, sources in _TRANSITIONS.items()
                    if campaign.state in sources and t in commands]
        raise CampaignError(f"campaign {name!r} is {campaign.state.value}; cannot go to {target.value}"
                            + (f" (possible now: {', '.join(possible)})" if possible else ""))
    session.add(AuditEntry(actor=actor, kind="campaign_state", campaign_id=campaign.id,
                           detail={"from": campaign.state.value, "to": target.value}))
    campaign.state = target
    return campaign


def summary(session: Session, campaign: Campaign) -> dict[str, Any]:
    accounts = session.execute(
        select(func.count(Account.id),
               func.coalesce(func.sum(case((Account.status == "open", 1), else_=0)), 0),
               func.coalesce(func.sum(case((Account.status == "paid", 1), else_=0)), 0))
        .where(Account.campaign_id == campaign.id)).one()
    # Amounts are summed per currency: adding yuan to dollars means nothing.
    due = {currency: int(total) for currency, total in session.execute(
        select(Account.currency, func.sum(Account.amount_due_minor))
        .where(Account.campaign_id == campaign.id, Account.status == "open")
        .group_by(Account.currency).order_by(Account.currency))}
    attempts = session.scalar(select(func.count(Attempt.id)).where(Attempt.campaign_id == campaign.id))
    return {
        "name": campaign.name, "state": campaign.state.value, "profile": campaign.profile,
        "mode": campaign.mode.value, "queue": campaign.queue.name if campaign.queue else None,
        "telephony": campaign.telephony, "language": campaign.language, "caller_id": campaign.caller_id,
        "channel_limit": campaign.channel_limit, "calls_per_second": campaign.calls_per_second,
        "hours": [campaign.hours_start, campaign.hours_end] if campaign.hours_start else None,
        "accounts": accounts[0], "open_accounts": accounts[1], "paid_accounts": accounts[2],
        "open_amount_due_minor": due, "attempts": attempts or 0,
        "created_at": campaign.created_at.isoformat(),
    }
