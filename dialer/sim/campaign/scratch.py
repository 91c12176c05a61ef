"""The scratch copy: one campaign's rows from the source database into a new SQLite file.

The source is opened read-only (SQLite `query_only`, PostgreSQL read-only transactions), so a
simulation can never write to production. The copy is built by the migrations like every other
database, then filled table by table keeping the source's ids (the population model keys every
debtor's behaviour on them, so the same contact behaves the same in every run of a seed).

Calendar shift: every date and instant copied is moved back by `shift` (the simulated days), so the
simulated history ends at the start of the real today. Days past due, promise dates and
history keep their distances to each other, and every report (whose period ends at the real
"now") reads the whole simulated history.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, Date, Engine, Table, create_engine, event, select
from sqlalchemy.engine import make_url

from dialer.db import migrate
from dialer.db.models import Base
from dialer.db.types import UTCDateTime
from dialer.domain import CampaignState

CHUNK = 500   # ids per IN (...) list: SQLite's bound-parameter limit is 999 on old builds


class ScratchError(RuntimeError):
    """The copy cannot be made; the message says what to change."""


@dataclass(frozen=True)
class ScratchCopy:
    url: str
    campaign_id: int
    rows: dict[str, int]          # rows copied per table


def scratch_url(path: Path) -> str:
    return f"sqlite:///{path}"


def copy_campaign(source_url: str, out: Path, campaign: str, *, shift: timedelta) -> ScratchCopy:
    """Copy `campaign` (by name) from `source_url` into a fresh SQLite file at `out` (replaced)."""
    out = out.resolve()
    if _same_file(source_url, out):
        raise ScratchError(f"--out {out} is the source database itself: choose another file "
                           "(the simulation never writes to the source)")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{out}{suffix}").unlink(missing_ok=True)
    url = scratch_url(out)
    migrate.upgrade(url)
    source = _read_only_engine(source_url)
    target = create_engine(url)
    try:
        with source.connect() as src, target.begin() as dst:
            rows = _copy(src, dst, campaign, shift)
            campaign_id = src.execute(select(_t("campaigns").c.id)
                                      .where(_t("campaigns").c.name == campaign)).scalar_one()
            # A draft or paused campaign can be dry-run: in the copy it runs.
            dst.execute(_t("campaigns").update().where(_t("campaigns").c.id == campaign_id)
                        .values(state=CampaignState.RUNNING))
    finally:
        source.dispose()
        target.dispose()
    return ScratchCopy(url, campaign_id, rows)


def _copy(src: Connection, dst: Connection, name: str, shift: timedelta) -> dict[str, int]:
    campaigns = _t("campaigns")
    found = src.execute(select(campaigns).where(campaigns.c.name == name)).mappings().first()
    if found is None:
        known = ", ".join(src.execute(select(campaigns.c.name).order_by(campaigns.c.name)).scalars()) or "none"
        raise ScratchError(f"campaign {name!r} not found in the source database (known: {known})")
    cid = found["id"]
    counts: dict[str, int] = {}

    def put(table: str, rows: Sequence[dict[str, Any]]) -> None:
        counts[table] = len(rows)
        if rows:
            dst.execute(_t(table).insert(), [_shifted(_t(table), r, shift) for r in rows])

    def where_in(table: str, column: str, ids: Iterable[int]) -> list[dict[str, Any]]:
        t = _t(table)
        out: list[dict[str, Any]] = []
        for chunk in _chunks(sorted(set(ids))):
            out += [dict(r) for r in src.execute(select(t).where(t.c[column].in_(chunk))
                                                 .order_by(t.c.id)).mappings()]
        return out

    put("queues", [dict(r) for r in src.execute(select(_t("queues"))).mappings()])
    put("agents", [dict(r) for r in src.execute(select(_t("agents"))).mappings()])
    put("campaigns", [dict(found)])
    accounts = [dict(r) for r in src.execute(select(_t("accounts")).where(_t("accounts").c.campaign_id == cid)
                                             .order_by(_t("accounts").c.id)).mappings()]
    debtor_ids = {a["debtor_id"] for a in accounts}
    account_ids = {a["id"] for a in accounts}
    put("debtors", where_in("debtors", "id", debtor_ids))
    put("accounts", accounts)
    put("phone_contacts", where_in("phone_contacts", "debtor_id", debtor_ids))
    put("consent_records", where_in("consent_records", "debtor_id", debtor_ids))
    dnc = _t("dnc_entries")
    put("dnc_entries", [dict(r) for r in src.execute(
        select(dnc).where((dnc.c.campaign_id.is_(None)) | (dnc.c.campaign_id == cid))).mappings()])
    put("payments", where_in("payments", "account_id", account_ids))
    # This campaign's own history only: other campaigns' attempts on the same debtors would need
    # their campaigns and accounts too (a known limit: see docs/campaign-simulation.md).
    attempts = [dict(r) for r in src.execute(select(_t("attempts")).where(_t("attempts").c.campaign_id == cid)
                                             .order_by(_t("attempts").c.id)).mappings()]
    put("attempts", attempts)
    put("conversations", where_in("conversations", "attempt_id", {a["id"] for a in attempts}))
    copied = {a["id"] for a in attempts}
    promises = where_in("promises_to_pay", "account_id", account_ids)
    for promise in promises:
        if promise["attempt_id"] not in copied:
            promise["attempt_id"] = None
    put("promises_to_pay", promises)
    return counts


def _shifted(table: Table, row: dict[str, Any], shift: timedelta) -> dict[str, Any]:
    out = dict(row)
    for column in table.columns:
        value = out.get(column.name)
        if value is None or not _is_calendar(column):
            continue
        out[column.name] = value - shift if isinstance(value, (datetime, date)) else value
    return out


def _is_calendar(column: Column[Any]) -> bool:
    return isinstance(column.type, (Date, UTCDateTime))


def _read_only_engine(url: str) -> Engine:
    engine = create_engine(url)
    backend = engine.dialect.name

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        if backend == "sqlite":
            cur.execute("PRAGMA query_only = 1")
        elif backend == "postgresql":
            cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        cur.close()

    return engine


def _same_file(url: str, out: Path) -> bool:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        return False
    return Path(parsed.database).resolve() == out


def _t(name: str) -> Table:
    return Base.metadata.tables[name]


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]
