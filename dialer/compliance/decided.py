"""Writing the attempt rows of the dials the gate allowed in one batch, with their ids back.

On PostgreSQL the rows travel as one array per column through `INSERT … SELECT FROM unnest(…)`:
the statement text is the same for every batch size, so psycopg parses it once and the server
prepares it. SQLAlchemy's portable multi-row `INSERT … VALUES (…), (…) RETURNING` has a new text per
size with ~16 parameters a row, which psycopg re-parses on every execution (profiled: a third of the
client CPU of a batch of 50). SQLite keeps the portable form.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Connection, Integer, String, bindparam, column, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY

from dialer.db.models import Attempt

# Columns that differ per attempt; the others are the same for the whole batch.
_PER_ROW: dict[str, Any] = {
    "campaign_id": Integer, "account_id": Integer, "debtor_id": Integer, "contact_id": Integer, "e164": String,
    "ring_timeout_s": Integer, "live_agent_guaranteed": Boolean, "consented": Boolean, "script": String}
SHARED = ("state", "placed_at", "voice", "dialer_node", "asterisk_server")

_rows = (func.unnest(*(bindparam(name, type_=ARRAY(kind)) for name, kind in _PER_ROW.items()))
         .table_valued(*(column(name, kind) for name, kind in _PER_ROW.items())).render_derived())
_FROM_ARRAYS = insert(Attempt).from_select(
    [*_PER_ROW, *SHARED],
    select(*_rows.c, *(bindparam(name, type_=Attempt.__table__.c[name].type) for name in SHARED)),
).returning(Attempt.id, Attempt.contact_id)
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
