"""Campaign KPIs the seeds' dashboards name (source 001): calls placed, dial count, connect rate,
right-party-contact rate, AI talk time, promise rate and amount, kept-promise rate, recovery; plus
abandonment, denials by reason, and hourly series for the charts."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialer.compliance.abandonment import rolling
from dialer.compliance.budget import answered_calls
from dialer.compliance.profiles import PolicyProfile
from dialer.db.models import Account, Attempt, AuditEntry, Campaign, Conversation, Payment, PromiseToPay
from dialer.domain import Outcome, PromiseStatus, Route

_CONNECTED = (Outcome.HUMAN, Outcome.ABANDONED, Outcome.MACHINE)


def campaign_kpis(session: Session, campaign: Campaign, profile: PolicyProfile, *, start: datetime | None = None,
                  end: datetime | None = None) -> dict[str, Any]:
    where = [Attempt.campaign_id == campaign.id]
    if start:
        where.append(Attempt.placed_at >= start)
    if end:
        where.append(Attempt.placed_at < end)
    rows = session.execute(select(Attempt.id, Attempt.account_id, Attempt.placed_at, Attempt.outcome, Attempt.route,
                                  Attempt.talk_seconds, Attempt.conversation, Attempt.abandoned).where(*where)).all()
    dials = len(rows)
    outcomes = Counter(r.outcome.value if r.outcome else "in_flight" for r in rows)
    connected = sum(1 for r in rows if r.outcome in _CONNECTED)
    live = sum(1 for r in rows if r.outcome in (Outcome.HUMAN, Outcome.ABANDONED))
    accounts_attempted = len({r.account_id for r in rows})
    rpc_accounts = len({r.account_id for r in rows if r.conversation})
    ai_talk = sum(r.talk_seconds or 0 for r in rows if r.route is Route.BOT and r.outcome is Outcome.HUMAN)
    abandoned = sum(1 for r in rows if r.abandoned or r.outcome is Outcome.ABANDONED)
    # Abandonment as the profile's regulator counts it (e.g. bot-taken calls count as dropped
    # unless the profile says the bot is a live representative), over the report's period.
    period_start = start or datetime(2000, 1, 1, tzinfo=timezone.utc)
    period_end = end or datetime.now(timezone.utc) + timedelta(days=1)
    regulatory = rolling(answered_calls(session, campaign.id, period_start), profile.abandonment, period_end,
                         period_end - period_start)
    ids = [r.id for r in rows]
    promises = session.execute(select(PromiseToPay.amount_minor, PromiseToPay.currency, PromiseToPay.status,
                                      PromiseToPay.account_id)
                               .where(PromiseToPay.attempt_id.in_(ids))).all() if ids else []
    promised: dict[str, int] = defaultdict(int)
    for amount, currency, _, _ in promises:
        promised[currency] += amount
    resolved = [p for p in promises if p.status is not PromiseStatus.OPEN]
    due = _ints(session.execute(select(Account.currency, func.sum(Account.amount_due_minor))
                               .where(Account.campaign_id == campaign.id).group_by(Account.currency)).all())
    paid = _ints(session.execute(select(Payment.currency, func.sum(Payment.amount_minor))
                                .join(Account, Account.id == Payment.account_id)
                                .where(Account.campaign_id == campaign.id).group_by(Payment.currency)).all())
    dispositions = Counter(d for (d,) in session.execute(
        select(Conversation.disposition).where(Conversation.attempt_id.in_(ids))) if d) if ids else Counter()
    denials = dict(session.execute(select(AuditEntry.reason, func.count())
                                   .where(AuditEntry.campaign_id == campaign.id, AuditEntry.kind == "gate_decision",
                                          AuditEntry.decision == "deny").group_by(AuditEntry.reason)).all())
    hourly: dict[str, dict[str, int]] = defaultdict(lambda: {"dials": 0, "connected": 0})
    for r in rows:
        bucket = hourly[r.placed_at.strftime("%Y-%m-%d %H:00")]
        bucket["dials"] += 1
        bucket["connected"] += r.outcome in _CONNECTED
    return {
        "campaign": campaign.name, "from": start.isoformat() if start else None, "to": end.isoformat() if end else None,
        "calls_placed": dials, "dial_count": dials, "accounts_attempted": accounts_attempted,
        "connect_rate": _ratio(connected, dials), "live_answers": live,
        "right_party_contacts": rpc_accounts, "rpc_rate": _ratio(rpc_accounts, accounts_attempted),
        "ai_talk_seconds": round(ai_talk, 1), "promises": len(promises),
        "promise_rate": _ratio(len(promises), rpc_accounts), "promised_minor": dict(promised),
        "kept_promise_rate": _ratio(sum(1 for p in resolved if p.status is PromiseStatus.KEPT), len(resolved)),
        "recovery_rate": {c: _ratio(paid.get(c, 0), total) for c, total in due.items()},
        "abandoned": abandoned, "abandonment_rate": round(regulatory.rate, 4),
        "outcomes": dict(outcomes), "dispositions": dict(dispositions),
        "denials_by_reason": {(k or "campaign_not_running"): v for k, v in denials.items()},
        "hourly": [{"hour": h, **v} for h, v in sorted(hourly.items())],
        "funnel": {"accounts": session.scalar(select(func.count(Account.id)).where(Account.campaign_id == campaign.id)),
                   "attempted": accounts_attempted, "connected": len({r.account_id for r in rows if r.outcome in _CONNECTED}),
                   "right_party": rpc_accounts, "promised": len({p.account_id for p in promises})},
    }


def _ints(rows: Any) -> dict[str, int]:
    """PostgreSQL sums BIGINT into NUMERIC: back to integer minor units."""
    return {currency: int(total or 0) for currency, total in rows}


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None
