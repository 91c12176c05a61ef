"""Write parsed accounts: upsert by external ids, in bulk, inside the caller's transaction.

Idempotent by design: debtors by `debtor_id`, accounts by `account_id`, contacts by
(debtor, E.164). Re-importing a file updates rows in place and never duplicates them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from dialer.db.models import Account, Debtor, PhoneContact
from dialer.domain import ContactOwner
from dialer.importing.accounts import ParsedAccount
from dialer.importing.bulk import ids_by_key, insert_rows, update_rows, upsert_rows

# Rows go to the driver's executemany through `bulk` (see why there), not ORM bulk operations:
# an INSERT … RETURNING with a guaranteed row order has no sentinel column on SQLite, so
# SQLAlchemy sent it one row per statement (benchmarks/import_accounts.py measured 1,300 rows/s
# before this). Debtors and contacts are upserted (INSERT … ON CONFLICT DO UPDATE: no look-up of
# what exists first) and debtor ids read back by external id; accounts are looked up first because
# the report counts the inserted and the updated ones.
_DEBTORS: Table = Debtor.__table__  # type: ignore[assignment]
_ACCOUNTS: Table = Account.__table__  # type: ignore[assignment]
_CONTACTS: Table = PhoneContact.__table__  # type: ignore[assignment]
_CONTACT_FILE_FIELDS = ["owner", "relation", "name", "rank", "time_zones", "zone_source", "autodialer_consent"]


@dataclass
class WriteCounts:
    inserted: int = 0
    updated: int = 0


def write_accounts(session: Session, parsed: Sequence[ParsedAccount], *, campaign_id: int,
                   now: datetime, today: date) -> WriteCounts:
    debtor_ids = _upsert_debtors(session, parsed, now)
    counts = _upsert_accounts(session, parsed, debtor_ids, campaign_id, now, today)
    _upsert_contacts(session, parsed, debtor_ids, now)
    return counts


def _upsert_debtors(session: Session, parsed: Sequence[ParsedAccount], now: datetime) -> dict[str, int]:
    """Debtor ids by external id, after inserting new debtors and updating known ones."""
    latest: dict[str, ParsedAccount] = {}
    for row in parsed:
        latest[row.debtor_id] = row  # the last row wins for the debtor's own fields
    rows = [
        dict(external_id=ext, full_name=r.name, language=r.language, birth_year=r.birth_year,
             id_last4=r.id_last4, created_at=now, updated_at=now)
        for ext, r in latest.items()
    ]
    upsert_rows(session.connection(), _DEBTORS, rows, unique=["external_id"],
                update_columns=["full_name", "language", "birth_year", "id_last4", "updated_at"])
    return _existing(session, _DEBTORS, latest)


def _upsert_accounts(session: Session, parsed: Sequence[ParsedAccount], debtor_ids: dict[str, int],
                     campaign_id: int, now: datetime, today: date) -> WriteCounts:
    existing = _existing(session, _ACCOUNTS, (r.account_id for r in parsed))
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
                     now: datetime) -> None:
    wanted: dict[tuple[int, str], dict[str, Any]] = {}
    for r in parsed:
        debtor = debtor_ids[r.debtor_id]
        for c in r.contacts:
            wanted[(debtor, c.e164)] = dict(
                debtor_id=debtor, e164=c.e164,
                owner=ContactOwner.DEBTOR if c.owner == "debtor" else ContactOwner.THIRD_PARTY,
                relation=c.relation, name=c.name, rank=c.rank, time_zones=list(c.time_zones),
                zone_source=c.zone_source, autodialer_consent=r.autodialer_consent,
                sms_consent=False, valid=True, suppressed=False, consecutive_failures=0, created_at=now,
            )
    # A known contact gets the file's fields; its consent to SMS, validity, suppression and failure
    # count come from calls and opt-outs, never from a file, so a re-import leaves them as they are.
    upsert_rows(session.connection(), _CONTACTS, list(wanted.values()), unique=["debtor_id", "e164"],
                update_columns=_CONTACT_FILE_FIELDS)


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    insert_rows(session.connection(), table, rows)


def _update(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    update_rows(session.connection(), table, rows)


def _existing(session: Session, table: Table, keys: Iterable[str]) -> dict[str, int]:
    return ids_by_key(session.connection(), table, "external_id", list(keys))
