"""The hopper: the next dialable accounts of a campaign, best first, each with its numbers in the
order to try. It only proposes; the gate decides every dial.

With several daemons on one PostgreSQL (docs/scale-out.md) each daemon *claims* its candidates:
the rows are selected `FOR UPDATE SKIP LOCKED` and marked held by the daemon for a short while, so
two daemons never hand the same account to their gates at once, and a daemon that dies holding
accounts only delays them until the hold expires. Accounts whose debtor has a call in flight
(an open attempt, whoever placed it) are not proposed: the gate would deny them anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from dialer.db.models import Account, Attempt, AuditEntry, PhoneContact
from dialer.domain import AttemptState, ContactOwner

# An account whose every number is blocked for good (DNC, invalid, suppressed) is looked at again
# after this long, in case a supervisor fixed its data; the gate still decides then.
PARK_WHEN_BLOCKED = timedelta(hours=24)
# A call's end and its retry time (`schedule_next`) are written one after the other, not in one
# transaction; another daemon's hopper must not slip in between and redial on the old
# `next_eligible_at` (the gate would allow it where the profile allows a second call). The
# retry rules, not that race, decide the next call: a debtor is left alone this long after a call.
AFTER_CALL_SETTLE = timedelta(seconds=10)
# How long a claimed account stays held by the daemon deciding it (a tick's gate work takes well
# under a second; the hold only matters when that daemon dies between claim and release).
CLAIM_HOLD = timedelta(seconds=10)


@dataclass(frozen=True)
class Candidate:
    account_id: int
    debtor_id: int
    contact_ids: tuple[int, ...]      # own numbers by rank first, then third parties
    script: str | None = None         # the script for this call when the strategy set one


def next_candidates(session: Session, campaign_id: int, *, limit: int, now: datetime,
                    exclude_debtors: set[int], node: str | None = None,
                    hold: timedelta = CLAIM_HOLD) -> list[Candidate]:
    """The best `limit` dialable accounts; with `node`, claimed for that daemon (commit to hold
    them; release with `release` once decided)."""
    in_flight = exists().where(Attempt.debtor_id == Account.debtor_id,
                               or_(Attempt.state != AttemptState.ENDED, Attempt.ended_at > now - AFTER_CALL_SETTLE))
    query = (select(Account.id, Account.debtor_id, Account.script)
             .where(Account.campaign_id == campaign_id, Account.status == "open",
                    or_(Account.next_eligible_at.is_(None), Account.next_eligible_at <= now),
                    or_(Account.held_until.is_(None), Account.held_until < now), ~in_flight)
             .order_by(Account.priority.desc(), Account.next_eligible_at.asc().nulls_first(), Account.id)
             .limit(limit + len(exclude_debtors)))
    if node is not None:
        # Rows another daemon is claiming right now are skipped, not waited for (PostgreSQL; on
        # SQLite the BEGIN IMMEDIATE of the claim's transaction already serialises claims).
        query = query.with_for_update(of=Account, skip_locked=True)
    rows = [(a, d, script) for a, d, script in session.execute(query).all() if d not in exclude_debtors][:limit]
    if not rows:
        return []
    if node is not None:
        session.execute(update(Account).where(Account.id.in_([a for a, _, _ in rows]))
                        .values(held_by=node, held_until=now + hold))
    contacts: dict[int, list[tuple[bool, int, int]]] = {}
    for contact_id, debtor_id, owner, rank in session.execute(
            select(PhoneContact.id, PhoneContact.debtor_id, PhoneContact.owner, PhoneContact.rank)
            .where(PhoneContact.debtor_id.in_({d for _, d, _ in rows}), PhoneContact.valid.is_(True),
                   PhoneContact.suppressed.is_(False))):
        contacts.setdefault(debtor_id, []).append((owner is not ContactOwner.DEBTOR, rank, contact_id))
    return [Candidate(account, debtor, tuple(c for *_, c in sorted(contacts.get(debtor, []))), script)
            for account, debtor, script in rows]


def release(session: Session, account_ids: list[int], *, node: str) -> None:
    """Give back accounts this daemon claimed (decided or not); others' holds are left alone."""
    if account_ids:
        session.execute(update(Account).where(Account.id.in_(account_ids), Account.held_by == node)
                        .values(held_by=None, held_until=None))


def park(session: Session, account_id: int, until: datetime | None, *, now: datetime, why: str) -> None:
    """No number of the account may be dialled now: skip it until the earliest instant one may."""
    session.execute(update(Account).where(Account.id == account_id)
                    .values(next_eligible_at=until or now + PARK_WHEN_BLOCKED))
    if until is None:
        session.add(AuditEntry(at=now, actor="hopper", kind="account_parked", account_id=account_id,
                               detail={"why": why[:200], "until": (now + PARK_WHEN_BLOCKED).isoformat()}))
