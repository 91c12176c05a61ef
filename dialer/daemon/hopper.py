"""The hopper: the next dialable accounts of a campaign, best first, each with its numbers in the
order to try. It only proposes; the gate decides every dial."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from dialer.db.models import Account, AuditEntry, PhoneContact
from dialer.domain import ContactOwner

# An account whose every number is blocked for good (DNC, invalid, suppressed) is looked at again
# after this long, in case a supervisor fixed its data; the gate still decides then.
PARK_WHEN_BLOCKED = timedelta(hours=24)


@dataclass(frozen=True)
class Candidate:
    account_id: int
    debtor_id: int
    contact_ids: tuple[int, ...]      # own numbers by rank first, then third parties
    script: str | None = None         # the script for this call when the strategy set one


def next_candidates(session: Session, campaign_id: int, *, limit: int, now: datetime,
                    exclude_debtors: set[int]) -> list[Candidate]:
    rows = session.execute(
        select(Account.id, Account.debtor_id, Account.script)
        .where(Account.campaign_id == campaign_id, Account.status == "open",
               or_(Account.next_eligible_at.is_(None), Account.next_eligible_at <= now))
        .order_by(Account.priority.desc(), Account.next_eligible_at.asc().nulls_first(), Account.id)
        .limit(limit + len(exclude_debtors))
    ).all()
    rows = [(a, d, script) for a, d, script in rows if d not in exclude_debtors][:limit]
    if not rows:
        return []
    contacts: dict[int, list[tuple[bool, int, int]]] = {}
    for contact_id, debtor_id, owner, rank in session.execute(
            select(PhoneContact.id, PhoneContact.debtor_id, PhoneContact.owner, PhoneContact.rank)
            .where(PhoneContact.debtor_id.in_({d for _, d, _ in rows}), PhoneContact.valid.is_(True),
                   PhoneContact.suppressed.is_(False))):
        contacts.setdefault(debtor_id, []).append((owner is not ContactOwner.DEBTOR, rank, contact_id))
    return [Candidate(account, debtor, tuple(c for *_, c in sorted(contacts.get(debtor, []))), script)
            for account, debtor, script in rows]


def park(session: Session, account_id: int, until: datetime | None, *, now: datetime, why: str) -> None:
    """No number of the account may be dialled now: skip it until the earliest instant one may."""
    session.execute(update(Account).where(Account.id == account_id)
                    .values(next_eligible_at=until or now + PARK_WHEN_BLOCKED))
    if until is None:
        session.add(AuditEntry(at=now, actor="hopper", kind="account_parked", account_id=account_id,
                               detail={"why": why[:200], "until": (now + PARK_WHEN_BLOCKED).isoformat()}))
