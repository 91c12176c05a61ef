"""`dialer compliance report`: attempts, conversations, denials by reason, abandonment per window,
and the violations an independent re-check of the attempt history finds (must be zero)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialer.compliance import checker
from dialer.compliance.abandonment import WindowRate, report as abandonment_report
from dialer.compliance.budget import WINDOW_LOOKBACK, answered_calls
from dialer.compliance.profiles import PolicyProfile
from dialer.db.models import Attempt, AuditEntry, Campaign, DncEntry, PhoneContact


def compliance_report(session: Session, campaign: Campaign, profile: PolicyProfile, *, now: datetime) -> dict[str, Any]:
    attempts = session.scalar(select(func.count(Attempt.id)).where(Attempt.campaign_id == campaign.id)) or 0
    conversations = session.scalar(select(func.count(Attempt.id)).where(
        Attempt.campaign_id == campaign.id, Attempt.conversation.is_(True))) or 0
    decisions = Counter({(decision, reason): n for decision, reason, n in session.execute(
        select(AuditEntry.decision, AuditEntry.reason, func.count())
        .where(AuditEntry.campaign_id == campaign.id, AuditEntry.kind == "gate_decision")
        .group_by(AuditEntry.decision, AuditEntry.reason))})
    abandonment = abandonment_report(answered_calls(session, campaign.id, now - WINDOW_LOOKBACK), profile, now)
    violations = recheck(session, campaign, profile)
    return {
        "campaign": campaign.name, "profile": profile.name, "at": now.isoformat(),
        "attempts": attempts, "conversations": conversations,
        "gate": {"allowed": sum(n for (d, _), n in decisions.items() if d == "allow"),
                 "denied": sum(n for (d, _), n in decisions.items() if d == "deny"),
                 "denials_by_reason": {r or "campaign_not_running": n for (d, r), n in sorted(
                     decisions.items(), key=lambda kv: -kv[1]) if d == "deny"}},
        "abandonment": {
            "formula": abandonment.formula, "ceiling": abandonment.ceiling,
            "rolling_24h": _rate(abandonment.rolling_24h), "calendar_day": _rate(abandonment.calendar_day),
            "rolling_30d": _rate(abandonment.rolling_30d),
            "worst_hour": _rate(abandonment.worst_hour) if abandonment.worst_hour else None,
            "budget_spent": abandonment.budget_spent},
        "violations": [{"attempt_id": v.attempt_id, "rule": v.rule, "detail": v.detail} for v in violations],
    }


def recheck(session: Session, campaign: Campaign, profile: PolicyProfile) -> list[checker.Violation]:
    """Re-check every attempt of the campaign's debtors (all campaigns: caps are per debtor)."""
    debtors = select(Attempt.debtor_id).where(Attempt.campaign_id == campaign.id).distinct()
    rows = session.execute(
        select(Attempt, PhoneContact.owner, PhoneContact.time_zones)
        .join(PhoneContact, PhoneContact.id == Attempt.contact_id)
        .where(Attempt.debtor_id.in_(debtors)).order_by(Attempt.placed_at)).all()
    dnc = {}
    for e164, campaign_id, created in session.execute(select(DncEntry.e164, DncEntry.campaign_id, DncEntry.created_at)):
        if campaign_id in (None, campaign.id):
            dnc[e164] = min(created, dnc.get(e164, created))
    records = [
        checker.AttemptRecord(
            attempt_id=a.id, debtor_id=a.debtor_id, account_id=a.account_id, campaign_id=a.campaign_id,
            contact_id=a.contact_id, e164=a.e164, owner=owner, zones=tuple(zones or ()), placed_at=a.placed_at,
            outcome=a.outcome, ended_at=a.ended_at, conversation=a.conversation, abandoned=a.abandoned,
            live_agent_guaranteed=a.live_agent_guaranteed, consented=a.consented,
            on_dnc=a.e164 in dnc and dnc[a.e164] <= a.placed_at)
        for a, owner, zones in rows
    ]
    return checker.check(records, profile)


def _rate(window: WindowRate) -> dict[str, Any]:
    return {"start": window.start.isoformat(), "end": window.end.isoformat(), "rate": round(window.rate, 4),
            "live": window.tally.live, "dropped": window.tally.dropped}
