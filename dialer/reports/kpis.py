"""Campaign KPIs the seeds' dashboards name (source 001): calls placed, dial count, connect rate,
right-party-contact rate, AI talk time, promise rate and amount, kept-promise rate, recovery; plus
abandonment, agent occupancy, denials by reason, and the series the HTML charts draw.

Every figure is limited to the report's period [start, end): attempts by `placed_at`, gate denials
and payments by their own instants, promises by the attempt that took them. Definitions (and how
to check each by hand) are in docs/reports.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialer.compliance.abandonment import rolling
from dialer.compliance.budget import answered_calls
from dialer.compliance.profiles import PolicyProfile
from dialer.db.models import Account, Attempt, AuditEntry, Campaign, Conversation, Payment, PromiseToPay
from dialer.domain import Outcome, PromiseStatus, Route

_CONNECTED = (Outcome.HUMAN, Outcome.ABANDONED, Outcome.MACHINE)
# Before any dialer existed: the lower bound of an open-ended period.
_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def campaign_kpis(session: Session, campaign: Campaign, profile: PolicyProfile, *, now: datetime,
                  start: datetime | None = None, end: datetime | None = None) -> dict[str, Any]:
    """The report of one campaign over [start, end) (open ends: since the first dial, up to now)."""
    period_start, period_end = start or _EPOCH, end or now
    rows = session.execute(select(Attempt.id, Attempt.account_id, Attempt.contact_id, Attempt.placed_at,
                                  Attempt.outcome, Attempt.route,
                                  Attempt.talk_seconds, Attempt.conversation, Attempt.abandoned, Attempt.agent_id)
                           .where(Attempt.campaign_id == campaign.id, Attempt.placed_at >= period_start,
                                  Attempt.placed_at < period_end)).all()
    dials = len(rows)
    outcomes = Counter(r.outcome.value if r.outcome else "in_flight" for r in rows)
    connected = sum(1 for r in rows if r.outcome in _CONNECTED)
    live = sum(1 for r in rows if r.outcome in (Outcome.HUMAN, Outcome.ABANDONED))
    accounts_attempted = len({r.account_id for r in rows})
    reached_accounts = len({r.account_id for r in rows if r.outcome in (Outcome.HUMAN, Outcome.ABANDONED)})
    rpc_accounts = len({r.account_id for r in rows if r.conversation})
    ai_talk = sum(r.talk_seconds or 0 for r in rows if r.route is Route.BOT and r.outcome is Outcome.HUMAN)
    abandoned = sum(1 for r in rows if r.abandoned or r.outcome is Outcome.ABANDONED)
    # Abandonment as the profile's regulator counts it (e.g. bot-taken calls count as dropped
    # unless the profile says the bot is a live representative), over the report's period.
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
                                .where(Account.campaign_id == campaign.id, Payment.paid_at >= period_start,
                                       Payment.paid_at < period_end)
                                .group_by(Payment.currency)).all())
    dispositions = Counter(d for (d,) in session.execute(
        select(Conversation.disposition).where(Conversation.attempt_id.in_(ids))) if d) if ids else Counter()
    denials = dict(session.execute(select(AuditEntry.reason, func.count())
                                   .where(AuditEntry.campaign_id == campaign.id, AuditEntry.kind == "gate_decision",
                                          AuditEntry.decision == "deny", AuditEntry.at >= period_start,
                                          AuditEntry.at < period_end)
                                   .group_by(AuditEntry.reason)).all())
    # Hours in the calendar the profile counts days in (cn: Beijing time): what a supervisor reads.
    zone = profile.abandonment.day_zone
    occupancy = agent_occupancy(rows, ZoneInfo(zone))
    return {
        "campaign": campaign.name, "from": start.isoformat() if start else None, "to": end.isoformat() if end else None,
        "calls_placed": dials, "dial_count": dials, "numbers_dialled": len({r.contact_id for r in rows}),
        "accounts_attempted": accounts_attempted,
        "connect_rate": _ratio(connected, dials), "live_answers": live,
        "reach_rate": _ratio(reached_accounts, accounts_attempted),
        "right_party_contacts": rpc_accounts, "rpc_rate": _ratio(rpc_accounts, accounts_attempted),
        "ai_talk_seconds": round(ai_talk, 1), "promises": len(promises),
        "promise_rate": _ratio(len(promises), rpc_accounts), "promised_minor": dict(promised),
        "kept_promise_rate": _ratio(sum(1 for p in resolved if p.status is PromiseStatus.KEPT), len(resolved)),
        "recovered_minor": paid,
        "recovery_rate": {c: _ratio(paid.get(c, 0), total) for c, total in due.items()},
        "abandoned": abandoned, "abandonment_rate": round(regulatory.rate, 4),
        "agent_talk_seconds": occupancy["talk_seconds"], "agent_staffed_hours": occupancy["staffed_hours"],
        "agent_occupancy": occupancy["rate"],
        "outcomes": dict(outcomes), "dispositions": dict(dispositions),
        "denials_by_reason": {(k or "campaign_not_running"): v for k, v in denials.items()},
        "hour_zone": zone, "hourly": hourly_series(rows, ZoneInfo(zone)),
        "funnel": {"accounts": session.scalar(select(func.count(Account.id)).where(Account.campaign_id == campaign.id)),
                   "attempted": accounts_attempted, "connected": len({r.account_id for r in rows if r.outcome in _CONNECTED}),
                   "right_party": rpc_accounts, "promised": len({p.account_id for p in promises})},
    }


def hourly_series(rows: Sequence[Any], zone: ZoneInfo) -> list[dict[str, Any]]:
    """Dials, connects and connect rate per local clock hour, in time order."""
    hourly: dict[str, dict[str, int]] = defaultdict(lambda: {"dials": 0, "connected": 0})
    for r in rows:
        bucket = hourly[r.placed_at.astimezone(zone).strftime("%Y-%m-%d %H:00")]
        bucket["dials"] += 1
        bucket["connected"] += r.outcome in _CONNECTED
    return [{"hour": h, **v, "connect_rate": _ratio(v["connected"], v["dials"])} for h, v in sorted(hourly.items())]


def agent_occupancy(rows: Sequence[Any], zone: ZoneInfo) -> dict[str, Any]:
    """Talk time of agent-handled calls over the hours agents were staffed.

    The dialer records which agent took each call, not when agents logged in: an agent counts as
    staffed for each local clock hour in which they took at least one call. That under-counts idle
    hours with no call at all, so read it as occupancy while staffed, not per shift.
    """
    talk = 0.0
    staffed: set[tuple[int, str]] = set()
    for r in rows:
        if r.agent_id is None or r.outcome is not Outcome.HUMAN:
            continue
        talk += r.talk_seconds or 0
        staffed.add((r.agent_id, r.placed_at.astimezone(zone).strftime("%Y-%m-%d %H")))
    return {"talk_seconds": round(talk, 1), "staffed_hours": len(staffed),
            "rate": _ratio(talk, 3600 * len(staffed))}


def _ints(rows: Any) -> dict[str, int]:
    """PostgreSQL sums BIGINT into NUMERIC: back to integer minor units."""
    return {currency: int(total or 0) for currency, total in rows}


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None

