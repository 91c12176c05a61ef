"""Write parsed accounts: upsert by external ids, in bulk, inside the caller's transaction.

Idempotent by design: debtors by `debtor_id`, accounts by `account_id`, contacts by
(debtor, E.164). Re-importing a file updates rows in place and never duplicates them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Table, select, tuple_
from sqlalchemy.orm import Session

from dialer.db.models import Account, Debtor, PhoneContact
from dialer.domain import ContactOwner
from dialer.importing.accounts import ParsedAccount
from dialer.importing.bulk import insert_rows, update_rows

CHUNK = 5000  # bound parameters per statement stay far below SQLite's 32,766 limit
T = TypeVar("T")

# Rows go to the driver's executemany through `bulk` (see why there), not ORM bulk operations:
# an INSERT … RETURNING with a guaranteed row order has no sentinel column on SQLite, so
# SQLAlchemy sent it one row per statement (benchmarks/import_accounts.py measured 1,300 rows/s
# before this). Ids of new debtors are read back by their external ids.
_DEBTORS: Table = Debtor.__table__  # type: ignore[assignment]
_ACCOUNTS: Table = Account.__table__  # type: ignore[assignment]
_CONTACTS: Table = PhoneContact.__table__  # type: ignore[assignment]


@dataclass
class WriteCounts:
    inserted: int = 0
    updated: int = 0


def write_accounts(session: Session, parsed: Sequence[ParsedAccount], *, campaign_id: int,
                   now: datetime, today: date) -> WriteCounts:
    debtor_ids, new_debtors = _upsert_debtors(session, parsed, now)
    counts = _upsert_accounts(session, parsed, debtor_ids, campaign_id, now, today)
    _upsert_contacts(session, parsed, debtor_ids, new_debtors, now)
    return counts


def _upsert_debtors(session: Session, parsed: Sequence[ParsedAccount],
                    now: datetime) -> tuple[dict[str, int], set[int]]:
    """Debtor ids by external id, and the ids of the debtors inserted just now."""
    latest: dict[str, ParsedAccount] = {}
    for row in parsed:
        latest[row.debtor_id] = row  # the last row wins for the debtor's own fields
    existing = _existing(session, Debtor.external_id, Debtor.id, latest)
    changed = [
        dict(row_id=existing[ext], full_name=r.name, language=r.language, birth_year=r.birth_year,
             id_last4=r.id_last4, updated_at=now)
        for ext, r in latest.items() if ext in existing
    ]
    new = [
        dict(external_id=ext, full_name=r.name, language=r.language, birth_year=r.birth_year,
             id_last4=r.id_last4, created_at=now, updated_at=now)
        for ext, r in latest.items() if ext not in existing
    ]
    _insert(session, _DEBTORS, new)
    inserted = _existing(session, Debtor.external_id, Debtor.id, [str(row["external_id"]) for row in new])
    existing.update(inserted)
    _update(session, _DEBTORS, changed)
    return existing, set(inserted.values())


def _upsert_accounts(session: Session, parsed: Sequence[ParsedAccount], debtor_ids: dict[str, int],
                     campaign_id: int, now: datetime, today: date) -> WriteCounts:
    existing = _existing(session, Account.external_id, Account.id, {r.account_id: r for r in parsed})
    counts = WriteCounts()
    new, changed = [], []
    for r in parsed:
        values = dict(
            debtor_id=debtor_ids[r.debtor_id], campaign_id=campaign_id, product=r.product,
            currency=r.currency, amount_due_minor=r.amount_due_minor,
            minimum_payment_minor=r.minimum_payment_minor, due_date=r.due_date,
            days_past_due=r.days_past_due, dpd_as_of=today, updated_at=now,
        )
        if r.account_id in existing:
            changed.append({"row_id": existing[r.account_id], **values})
        else:
            new.append({"external_id": r.account_id, "status": "open", "priority": 0.0,
                        "attempts_count": 0, "created_at": now, **values})
    _insert(session, _ACCOUNTS, new)
    _update(session, _ACCOUNTS, changed)
    counts.inserted, counts.updated = len(new), len(changed)
    return counts


def _upsert_contacts(session: Session, parsed: Sequence[ParsedAccount], debtor_ids: dict[str, int],
                     new_debtors: set[int], now: datetime) -> None:
    wanted: dict[tuple[int, str], dict[str, Any]] = {}
    for r in parsed:
        debtor = debtor_ids[r.debtor_id]
        for c in r.contacts:
            wanted[(debtor, c.e164)] = dict(
                debtor_id=debtor, e164=c.e164,
                owner=ContactOwner.DEBTOR if c.owner == "debtor" else ContactOwner.THIRD_PARTY,
                relation=c.relation, name=c.name, rank=c.rank, time_zones=list(c.time_zones),
                zone_source=c.zone_source, autodialer_consent=r.autodialer_consent,
            )
    existing: dict[tuple[int, str], int] = {}
    keys = [k for k in wanted if k[0] not in new_debtors]  # a debtor inserted just now has no contacts
    for chunk in _chunks(keys, size=CHUNK // 2):
        rows = session.execute(
            select(PhoneContact.id, PhoneContact.debtor_id, PhoneContact.e164)
            .where(tuple_(PhoneContact.debtor_id, PhoneContact.e164).in_(chunk)))
        existing.update({(d, e): i for i, d, e in rows})
    new = [
        {**v, "sms_consent": False, "valid": True, "suppressed": False, "consecutive_failures": 0,
         "created_at": now}
        for k, v in wanted.items() if k not in existing
    ]
    # An update never clears a suppression or invalid flag: those come from calls, not files.
    changed = [{"row_id": existing[k], **v} for k, v in wanted.items() if k in existing]
    _insert(session, _CONTACTS, new)
    _update(session, _CONTACTS, changed)


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    insert_rows(session.connection(), table, rows)


def _update(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    update_rows(session.connection(), table, rows)


def _existing(session: Session, key_col: Any, id_col: Any, keys: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(list(keys)):
        found.update({k: i for i, k in session.execute(select(id_col, key_col).where(key_col.in_(chunk)))})
    return found


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])
