"""Import use cases: accounts into a campaign, DNC lists. Atomic unless told to skip bad rows."""

from __future__ import annotations

import csv
import gc
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice, repeat
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import Clock
from dialer.db.models import AuditEntry, Campaign, DncEntry, ImportBatch
from dialer.db.session import transaction
from dialer.exports import audit_export, export_actor, open_private
from dialer.importing.accounts import ImportContext, ParsedAccount, parse_account
from dialer.importing.errors import FileProblem, ImportRejected, RowError
from dialer.importing.mapping import ACCOUNT_FIELDS, DNC_FIELDS, Field, load_mapping
from dialer.importing.phones import PhoneError, normalise
from dialer.importing.reader import Row, open_table
from dialer.importing.writer import write_accounts

# Parsing phone numbers costs ~30 µs each; big files may be parsed on several cores. Shipping rows
# to worker processes and back costs more than it saves below 4 cores (measured: 684 s with two
# parser processes against 267 s serial for 1,000,000 rows on 2 cores, benchmarks/results/import.md),
# so by default only machines with 4 cores or more parse in parallel; --workers N forces it.
PARALLEL_THRESHOLD = 50_000
MIN_CORES_FOR_PARALLEL = 4
PARSE_BATCH = 20_000


@dataclass
class ImportReport:
    file: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    rejects_file: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "rows": self.rows, "inserted": self.inserted, "updated": self.updated,
                "rejected": self.rejected, "rejects_file": self.rejects_file,
                "errors": [str(e) for e in self.errors]}


@dataclass(frozen=True)
class ImportOptions:
    region: str = "CN"
    currency: str = "CNY"
    mapping_file: Path | None = None
    skip_invalid: bool = False
    rejects_file: Path | None = None
    workers: int | None = None
    actor: str = field(default_factory=export_actor)   # cli:<OS user>: who imported (and exported rejects)


def import_accounts(factory: sessionmaker[Session], *, campaign_name: str, path: Path,
                    options: ImportOptions, clock: Clock) -> ImportReport:
    with _cyclic_gc_paused():
        return _import_accounts(factory, campaign_name=campaign_name, path=path, options=options, clock=clock)


def _import_accounts(factory: sessionmaker[Session], *, campaign_name: str, path: Path,
                     options: ImportOptions, clock: Clock) -> ImportReport:
    now = clock.now()
    with factory() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.name == campaign_name))
        if campaign is None:
            raise FileProblem(f"campaign {campaign_name!r} does not exist (dialer campaign create ...)")
        campaign_id, language = campaign.id, campaign.language
    mapping = load_mapping(options.mapping_file, ACCOUNT_FIELDS)
    ctx = ImportContext(file=path.name, region=options.region, currency=options.currency,
                        language=language, today=now.date())
    report = ImportReport(file=str(path))
    good: list[ParsedAccount] = []
    bad_rows: list[tuple[Row, list[RowError]]] = []
    seen: dict[str, int] = {}
    with open_table(path) as (header, rows):
        _check_header(path, header, mapping, ACCOUNT_FIELDS)
        for (line, raw), result in _parse_all(rows, mapping, ctx, options.workers):
            report.rows += 1
            if isinstance(result, list):
                bad_rows.append(((line, raw), result))
            elif (first := seen.get(result.account_id)) is not None:
                bad_rows.append(((line, raw), [RowError(ctx.file, line, mapping["account_id"],
                                                        f"duplicate account id (first on line {first})")]))
            else:
                seen[result.account_id] = line
                good.append(result)
    report.errors = [e for _, errors in bad_rows for e in errors]
    report.rejected = len(bad_rows)
    if bad_rows and not options.skip_invalid:
        raise ImportRejected(report.errors, bad_rows=report.rejected, rows=report.rows)
    if bad_rows:
        report.rejects_file = str(_write_rejects(options.rejects_file or _rejects_path(path), header,
                                                 bad_rows))

    with transaction(factory) as session:
        counts = write_accounts(session, good, campaign_id=campaign_id, now=now, today=now.date())
        report.inserted, report.updated = counts.inserted, counts.updated
        session.add(ImportBatch(campaign_id=campaign_id, kind="accounts", file_name=path.name,
                                rows=report.rows, inserted=counts.inserted, updated=counts.updated,
                                rejected=report.rejected, started_at=now, finished_at=clock.now()))
        session.add(AuditEntry(actor=options.actor, kind="import", campaign_id=campaign_id,
                               detail={"file": path.name, "rows": report.rows, "inserted": counts.inserted,
                                       "updated": counts.updated, "rejected": report.rejected}))
        if report.rejects_file:   # rejected rows hold personal data: an export like any other
            audit_export(session, actor=options.actor, what="import.rejects", rows=report.rejected,
                         where=report.rejects_file, campaign_id=campaign_id)
    return report


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while an import holds its rows.

    An import keeps every parsed row until its single write transaction: millions of small
    objects, none of them in a reference cycle (they are freed by reference counting). The
    cyclic collector still walks all of them on each full pass, and full passes keep coming as
    the heap grows: ~10 µs a row measured at 100,000 rows (benchmarks/results/import.md). The
    collector's previous state comes back afterwards, even on an error.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def import_dnc(factory: sessionmaker[Session], *, path: Path, campaign_name: str | None,
               options: ImportOptions, clock: Clock) -> ImportReport:
    mapping = load_mapping(options.mapping_file, DNC_FIELDS)
    report = ImportReport(file=str(path))
    numbers: dict[str, str | None] = {}
    with open_table(path) as (header, rows):
        _check_header(path, header, mapping, DNC_FIELDS)
        for line, raw in rows:
            report.rows += 1
            text = raw.get(mapping["phone"], "").strip()
            try:
                numbers[normalise(text, region=options.region).e164] = raw.get(mapping["reason"]) or None
            except PhoneError as exc:
                report.errors.append(RowError(path.name, line, mapping["phone"], str(exc)))
    report.rejected = len(report.errors)
    if report.errors and not options.skip_invalid:
        raise ImportRejected(report.errors, bad_rows=report.rejected, rows=report.rows)
    with transaction(factory) as session:
        campaign_id = _campaign_id(session, campaign_name)
        present = set(session.scalars(select(DncEntry.e164).where(
            DncEntry.campaign_id.is_(None) if campaign_id is None else DncEntry.campaign_id == campaign_id)))
        for e164, reason in numbers.items():
            if e164 in present:
                report.updated += 1
                continue
            session.add(DncEntry(e164=e164, campaign_id=campaign_id, reason=reason, source="import",
                                 created_at=clock.now()))
            report.inserted += 1
        session.add(AuditEntry(actor=options.actor, kind="dnc_import", campaign_id=campaign_id,
                               detail={"file": path.name, "added": report.inserted}))
    return report


def _campaign_id(session: Session, name: str | None) -> int | None:
    if name is None:
        return None
    campaign_id = session.scalar(select(Campaign.id).where(Campaign.name == name))
    if campaign_id is None:
        raise FileProblem(f"campaign {name!r} does not exist")
    return campaign_id


def _check_header(path: Path, header: list[str], mapping: dict[str, str], fields: tuple[Field, ...]) -> None:
    missing = [mapping[f.name] for f in fields if f.required and mapping[f.name] not in header]
    if missing:
        raise FileProblem(f"{path}:1: missing required column(s): {', '.join(missing)} "
                          f"(header has: {', '.join(header)}; see docs/import.md for the mapping)")


def _parse_all(rows: Iterator[Row], mapping: dict[str, str], ctx: ImportContext,
               workers: int | None) -> Iterator[tuple[Row, ParsedAccount | list[RowError]]]:
    first = list(islice(rows, PARALLEL_THRESHOLD))
    cores = os.cpu_count() or 1
    processes = workers if workers is not None else (cores if cores >= MIN_CORES_FOR_PARALLEL else 1)
    if len(first) < PARALLEL_THRESHOLD or processes < 2:
        for row in first:
            yield row, parse_account(row[0], row[1], mapping, ctx)
        for row in rows:
            yield row, parse_account(row[0], row[1], mapping, ctx)
        return
    # Executor.map submits every batch up front, so the whole file is in memory once: fine at
    # the sizes we import (1,000,000 rows is about 1.5 GB), and it keeps the row order.
    batches = list(_batches(first, rows))
    with ProcessPoolExecutor(max_workers=processes) as pool:
        for batch, results in zip(batches, pool.map(_parse_batch, batches, repeat(mapping), repeat(ctx))):
            yield from zip(batch, results)


def _parse_batch(batch: list[Row], mapping: dict[str, str],
                 ctx: ImportContext) -> list[ParsedAccount | list[RowError]]:
    return [parse_account(line, raw, mapping, ctx) for line, raw in batch]


def _batches(first: list[Row], rest: Iterator[Row]) -> Iterator[list[Row]]:
    for start in range(0, len(first), PARSE_BATCH):
        yield first[start:start + PARSE_BATCH]
    while batch := list(islice(rest, PARSE_BATCH)):
        yield batch


def _rejects_path(path: Path) -> Path:
    return path.with_name(path.stem + ".rejects.csv")


def _write_rejects(target: Path, header: list[str], bad_rows: list[tuple[Row, list[RowError]]]) -> Path:
    # 0600 from creation: rejects hold personal data (no window in which others may open them).
    with open_private(target, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", *header, "errors"])
        for (line, raw), errors in bad_rows:
            writer.writerow([line, *(raw.get(h, "") for h in header),
                             "; ".join(f"{e.column}: {e.reason}" for e in errors)])
    return target

