"""Bad input fuzzing of the XLSX importer: openpyxl workbooks whose cells hold anything a
spreadsheet can (text, numbers, dates, booleans, formulas' cached nothing, blank rows, extra or
missing columns) and raw bytes named .xlsx. The import lands whole or not at all, and every error
names the file (and, for row errors, the line and column)."""

from __future__ import annotations

import string
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dialer.campaigns import CampaignSpec, create_campaign
from dialer.clock import FixedClock
from dialer.db import migrate
from dialer.db.models import Account, Debtor, ImportBatch, PhoneContact
from dialer.db.session import make_engine, make_sessionmaker, transaction
from dialer.domain import CampaignMode
from dialer.importing.errors import FileProblem, ImportRejected
from dialer.importing.mapping import MappingError
from dialer.importing.service import ImportOptions, import_accounts

HEADER = ["account_id", "name", "phone", "amount_due", "due_date", "currency", "timezone", "days_past_due"]
CLOCK = FixedClock(datetime(2026, 11, 22, 4, tzinfo=timezone.utc))

cell: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    st.times(), st.text(alphabet=string.printable + "¥，。张王李", max_size=14).map(
        lambda t: "".join(c for c in t if c.isprintable())),
    st.sampled_from(["13800138001", "+8613800138001", "'13800138001", "1,234.50", "¥12", "Asia/Shanghai",
                     "Mars/Base", "CNY", "USD", "2026-11-20", "=1+1", "#N/A", " ", "0"]))
good_row = st.fixed_dictionaries({
    "account_id": st.from_regex(r"A[0-9]{1,6}", fullmatch=True), "name": st.sampled_from(["张三", "Li Wei"]),
    "phone": st.sampled_from(["13800138001", "13900139002", "+8613700137003"]), "amount_due": st.integers(1, 10**6),
    "due_date": st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 11, 1)), "currency": st.just("CNY"),
    "timezone": st.just("Asia/Shanghai"), "days_past_due": st.integers(0, 400)})
bad_row = st.fixed_dictionaries({h: cell for h in HEADER})
header = st.one_of(st.just(HEADER), st.permutations(HEADER),
                   st.lists(st.sampled_from(HEADER + ["extra", "", "电话"]), max_size=9))


def _workbook(path: Path, columns: list[str], rows: list[dict[str, Any]], blank_every: int) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(columns)
    for i, row in enumerate(rows):
        if blank_every and i % blank_every == 0:
            sheet.append([])
        sheet.append([row.get(c) for c in columns])
    book.save(path)


def _fresh_database(directory: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{directory / 'fuzz.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        create_campaign(session, CampaignSpec(name="m1", mode=CampaignMode.BOT_ONLY), known_profiles=("cn",),
                        actor="fuzz")
    return engine, sessions


def _counts(sessions) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return tuple(session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[return-value]
                     for model in (Account, Debtor, PhoneContact))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(columns=header, rows=st.lists(st.one_of(good_row, bad_row), min_size=1, max_size=6),
       blank_every=st.integers(0, 3), raw=st.one_of(st.none(), st.binary(max_size=300)))
def test_given_any_workbook_when_imported_then_it_lands_whole_or_not_at_all_with_a_located_error(
        tmp_path_factory, columns, rows, blank_every, raw) -> None:  # type: ignore[no-untyped-def]
    directory = tmp_path_factory.mktemp("xlsx")
    engine, sessions = _fresh_database(directory)
    path = directory / "accounts.xlsx"
    if raw is None:
        _workbook(path, columns, rows, blank_every)
    else:
        path.write_bytes(raw)     # not a workbook at all (or a truncated zip)
    try:
        report = import_accounts(sessions, campaign_name="m1", path=path, options=ImportOptions(), clock=CLOCK)
    except ImportRejected as rejected:
        assert rejected.errors
        assert all(str(e).startswith("accounts.xlsx:") and e.line >= 2 for e in rejected.errors)
        assert _counts(sessions) == (0, 0, 0)
    except (FileProblem, MappingError) as problem:
        assert "accounts.xlsx" in str(problem)
        assert _counts(sessions) == (0, 0, 0)
    else:
        accounts, debtors, phones = _counts(sessions)
        assert accounts == report.inserted and report.rejected == 0
        assert (debtors >= 1 and phones >= 1) if accounts else (debtors, phones) == (0, 0)
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(ImportBatch)) == 1
    finally:
        engine.dispose()
