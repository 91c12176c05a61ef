"""What the gate writes for a batch: attempt rows (ids back), account counters, audit entries.

On PostgreSQL the rows travel as one array per column through `INSERT … SELECT FROM unnest(…)`:
the statement text is the same for every batch size, so psycopg parses it once and the server
prepares it. SQLAlchemy's portable multi-row `INSERT … VALUES (…), (…) RETURNING` has a new text per
size with ~16 parameters a row, which psycopg re-parses on every execution (profiled: a third of the
client CPU of a batch of 50); account updates and audit entries as one statement each instead of one
execution a row. SQLite keeps the portable forms.
"""

from __future__ import annotations

from typing import Any

from datetime import datetime

from sqlalchemy import JSON, Boolean, Connection, Integer, String, bindparam, column, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from dialer.db.models import Account, Attempt, AuditEntry
from dialer.db.types import UTCDateTime

# Columns that differ per attempt; the others are the same for the whole batch.
_PER_ROW: dict[str, Any] = {
    "campaign_id": Integer, "account_id": Integer, "debtor_id": Integer, "contact_id": Integer, "e164": String,
    "ring_timeout_s": Integer, "live_agent_guaranteed": Boolean, "consented": Boolean, "script": String}
SHARED = ("state", "placed_at", "voice", "dialer_node", "asterisk_server")



def _arrays(columns: dict[str, Any]) -> Any:
    """`unnest(:a, :b, …) AS anon(a, b, …)`: one row per index of the bound arrays."""
    return (func.unnest(*(bindparam(name, type_=ARRAY(kind)) for name, kind in columns.items()))
            .table_valued(*(column(name, kind) for name, kind in columns.items())).render_derived())


def _insert_from_arrays(table: Any, per_row: dict[str, Any], shared: tuple[str, ...]) -> Any:
    rows = _arrays(per_row)
    return insert(table).from_select(
        [*per_row, *shared], select(*rows.c, *(bindparam(name, type_=table.__table__.c[name].type) for name in shared)))


_FROM_ARRAYS = _insert_from_arrays(Attempt, _PER_ROW, SHARED).returning(Attempt.id, Attempt.contact_id)
_PORTABLE = insert(Attempt).returning(Attempt.id, sort_by_parameter_order=True)


def insert_attempts(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert `rows` (every key of `_PER_ROW` and `SHARED`; shared values equal in all rows, and no
    contact twice) and return their ids in the order of `rows`."""
    if conn.dialect.name != "postgresql":
        return list(conn.execute(_PORTABLE, rows).scalars().all())
    if len({row["contact_id"] for row in rows}) != len(rows):
        raise ValueError("insert_attempts: a contact twice in one batch (the gate decides it in a later round)")
    params: dict[str, Any] = {name: [row[name] for row in rows] for name in _PER_ROW}
    params.update({name: rows[0][name] for name in SHARED})
    # INSERT … SELECT does not promise the order of RETURNING: the ids are matched by contact.
    by_contact = {contact: attempt for attempt, contact in conn.execute(_FROM_ARRAYS, params)}
    return [by_contact[row["contact_id"]] for row in rows]


_AUDIT_PER_ROW: dict[str, Any] = {
    "campaign_id": Integer, "account_id": Integer, "contact_id": Integer, "attempt_id": Integer,
    "decision": String, "reason": String, "detail": JSON}
AUDIT_SHARED = ("at", "actor", "kind")
_AUDIT_FROM_ARRAYS = _insert_from_arrays(AuditEntry, _AUDIT_PER_ROW, AUDIT_SHARED)
_AUDIT_PORTABLE = insert(AuditEntry)


def insert_audit(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Audit entries in the order of `rows` (ids ascending); `AUDIT_SHARED` values equal in all rows."""
    if conn.dialect.name != "postgresql":
        conn.execute(_AUDIT_PORTABLE, rows)
        return
    params: dict[str, Any] = {name: [row[name] for row in rows] for name in _AUDIT_PER_ROW}
    params.update({name: rows[0][name] for name in AUDIT_SHARED})
    conn.execute(_AUDIT_FROM_ARRAYS, params)


_COUNTED = _arrays({"account": Integer, "counted": Integer, "next_at": UTCDateTime()})
_ACCOUNTS_FROM_ARRAYS = (update(Account).where(Account.id == _COUNTED.c.account)
                         .values(attempts_count=Account.attempts_count + _COUNTED.c.counted,
                                 next_eligible_at=_COUNTED.c.next_at))
_ACCOUNT_PORTABLE = (update(Account).where(Account.id == bindparam("account"))
                     .values(attempts_count=Account.attempts_count + bindparam("counted"),
                             next_eligible_at=bindparam("next_at")))


def update_accounts(conn: Connection, changes: list[tuple[int, int, datetime | None]]) -> None:
    """Apply (account, attempts to count, next eligible instant) in decision order, as one by one would:
    an account's counts add up and its last instant stays (one statement updates a row once)."""
    merged: dict[int, tuple[int, datetime | None]] = {}
    for account, counted, next_at in changes:
        merged[account] = (merged.get(account, (0, None))[0] + counted, next_at)
    if not merged:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(_ACCOUNT_PORTABLE, [{"account": a, "counted": c, "next_at": n} for a, (c, n) in merged.items()])
        return
    conn.execute(_ACCOUNTS_FROM_ARRAYS, {"account": list(merged), "counted": [c for c, _ in merged.values()],
                                         "next_at": [n for _, n in merged.values()]})
