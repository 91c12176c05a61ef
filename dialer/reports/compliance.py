"""`dialer compliance report`: attempts, conversations, denials by reason, abandonment per window,
and the violations an independent re-check of the attempt history finds (must be zero)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialer.attempts import INVALID_NUMBER_CAUSES
from dialer.compliance import checker, outcomes
from dialer.compliance.abandonment import WindowRate, report as abandonment_report
from dialer.compliance.budget import WINDOW_LOOKBACK, answered_calls
from dialer.compliance.profiles import PolicyProfile
from dialer.db.models import Attempt, AuditEntry, Campaign, DncEntry, PhoneContact
from dialer.domain import ContactOwner, Outcome


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


# Before any dialer: "invalid since" of a number imported as invalid.
_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def recheck(session: Session, campaign: Campaign, profile: PolicyProfile) -> list[checker.Violation]:
    """Re-check every attempt of the campaign's debtors (all campaigns: caps are per debtor)."""
    debtors = select(Attempt.debtor_id).where(Attempt.campaign_id == campaign.id).distinct()
    rows = session.execute(
        select(Attempt, PhoneContact.owner, PhoneContact.time_zones)
        .join(PhoneContact, PhoneContact.id == Attempt.contact_id)
        .where(Attempt.debtor_id.in_(debtors)).order_by(Attempt.placed_at)).all()
    dnc: dict[str, datetime] = {}
    for e164, campaign_id, created in session.execute(select(DncEntry.e164, DncEntry.campaign_id, DncEntry.created_at)):
        if campaign_id in (None, campaign.id):
            dnc[e164] = min(created, dnc.get(e164, created))
    own = _own_numbers(session, rows)
    by_contact: dict[int, list[Attempt]] = defaultdict(list)
    for attempt, _, _ in rows:
        by_contact[attempt.contact_id].append(attempt)
    records = [
        checker.AttemptRecord(
            attempt_id=a.id, debtor_id=a.debtor_id, account_id=a.account_id, campaign_id=a.campaign_id,
            contact_id=a.contact_id, e164=a.e164, owner=owner, zones=tuple(zones or ()), placed_at=a.placed_at,
            outcome=a.outcome, ended_at=a.ended_at, conversation=a.conversation, abandoned=a.abandoned,
            live_agent_guaranteed=a.live_agent_guaranteed, consented=a.consented,
            on_dnc=a.e164 in dnc and dnc[a.e164] <= a.placed_at,
            **_debtor_reach(a, owner, by_contact, own))
        for a, owner, zones in rows
    ]
    return checker.check(records, profile)


def _own_numbers(session: Session, rows: Sequence[Any]) -> dict[int, list[tuple[int, datetime | None]]]:
    """Each debtor's own numbers: (contact id, instant it proved not to exist); an invalid number
    with no such call on record was invalid from the start (imported so)."""
    debtors = {a.debtor_id for a, _, _ in rows}
    invalid_at: dict[int, datetime] = {}
    for a, _, _ in rows:
        if a.outcome is Outcome.FAILED and a.hangup_cause in INVALID_NUMBER_CAUSES and a.ended_at is not None:
            invalid_at[a.contact_id] = min(a.ended_at, invalid_at.get(a.contact_id, a.ended_at))
    own: dict[int, list[tuple[int, datetime | None]]] = {d: [] for d in debtors}
    for contact_id, debtor_id, valid in session.execute(
            select(PhoneContact.id, PhoneContact.debtor_id, PhoneContact.valid)
            .where(PhoneContact.debtor_id.in_(debtors), PhoneContact.owner == ContactOwner.DEBTOR)):
        own[debtor_id].append((contact_id, None if valid else invalid_at.get(contact_id, _EPOCH)))
    return own


def _debtor_reach(a: Attempt, owner: ContactOwner, by_contact: dict[int, list[Attempt]],
                  own: dict[int, list[tuple[int, datetime | None]]]) -> dict[str, Any]:
    """What the gate knew about the debtor when it let a third party be called (cn CBA 2026):
    whether every own number had proved invalid, and since when every valid one went unanswered,
    rebuilt from the calls that had ended by then (the gate read both from the contact rows)."""
    if owner is not ContactOwner.THIRD_PARTY:
        return {}
    numbers = own.get(a.debtor_id, [])
    valid = [c for c, invalid_since in numbers if invalid_since is None or invalid_since > a.placed_at]
    if numbers and not valid:
        return {"debtor_numbers_all_invalid": True}
    streaks: list[datetime | None] = []
    for contact_id in valid:
        since = None
        for b in by_contact.get(contact_id, []):   # in placement order
            if b.ended_at is None or b.ended_at > a.placed_at:
                continue
            if outcomes.no_contact(b.outcome):
                since = since or b.placed_at
            elif b.outcome in (Outcome.HUMAN, Outcome.ABANDONED):
                since = None
        streaks.append(since)
    if streaks and all(streaks):
        return {"debtor_unreachable_since": max(s for s in streaks if s is not None)}
    return {}


def _rate(window: WindowRate) -> dict[str, Any]:
    return {"start": window.start.isoformat(), "end": window.end.isoformat(), "rate": round(window.rate, 4),
            "live": window.tally.live, "dropped": window.tally.dropped}
