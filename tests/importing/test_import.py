"""Account imports: normalised, idempotent, atomic, and every bad row named by file:line:column."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialer.campaigns import CampaignSpec, create_campaign
from dialer.clock import FixedClock
from dialer.db.models import Account, Debtor, ImportBatch, PhoneContact
from dialer.db.session import transaction
from dialer.domain import CampaignMode, ContactOwner
from dialer.importing.errors import FileProblem, ImportRejected
from dialer.importing.service import ImportOptions, import_accounts

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CLOCK = FixedClock(datetime(2026, 11, 22, 4, 0, tzinfo=timezone.utc))
HEADER = "account_id,name,phone,amount_due,due_date,currency,timezone,contact_phone,contact_relation\n"


@pytest.fixture
def campaign(sessions: sessionmaker[Session]) -> str:
    with transaction(sessions) as session:
        create_campaign(session, CampaignSpec(name="m1", mode=CampaignMode.BOT_ONLY),
                        known_profiles=("cn",), actor="test")
    return "m1"


def run_import(sessions: sessionmaker[Session], path: Path, **options: object):  # type: ignore[no-untyped-def]
    return import_accounts(sessions, campaign_name="m1", path=path, options=ImportOptions(**options),
                           clock=CLOCK)


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_given_the_sample_file_when_imported_then_accounts_debtors_and_contacts_are_normalised(
        sessions: sessionmaker[Session], campaign: str) -> None:
    report = run_import(sessions, EXAMPLES / "accounts.csv")
    assert (report.rows, report.inserted, report.rejected) == (11, 11, 0)
    with sessions() as session:
        account = session.scalar(select(Account).where(Account.external_id == "CC-1001"))
        assert account.amount_due_minor == 123450 and account.currency == "CNY"
        assert account.minimum_payment_minor == 20000
        assert account.due_date == date(2026, 11, 20) and account.days_past_due == 2
        contacts = session.scalars(select(PhoneContact).where(PhoneContact.debtor_id == account.debtor_id)
                                   .order_by(PhoneContact.rank)).all()
        assert [(c.e164, c.owner, c.relation) for c in contacts] == [
            ("+8613800138001", ContactOwner.DEBTOR, None),
            ("+8613900139001", ContactOwner.THIRD_PARTY, "spouse")]
        assert contacts[0].time_zones == ["Asia/Shanghai"] and contacts[0].zone_source == "number"
        phoenix = session.scalar(select(PhoneContact).where(PhoneContact.e164 == "+16025550102"))
        assert phoenix.time_zones == ["America/Phoenix"] and phoenix.zone_source == "file"
        # Two accounts of one debtor (CC-1002, CC-1007) share the debtor and its number.
        assert session.scalar(select(func.count()).select_from(Debtor)) == 10
        assert session.scalar(select(func.count()).select_from(PhoneContact)
                              .where(PhoneContact.e164 == "+8613800138002")) == 1


def test_given_an_imported_file_when_imported_again_then_rows_are_updated_not_duplicated(
        sessions: sessionmaker[Session], campaign: str, tmp_path: Path) -> None:
    run_import(sessions, EXAMPLES / "accounts.csv")
    before = (count(sessions, Account), count(sessions, Debtor), count(sessions, PhoneContact))
    changed = tmp_path / "accounts.csv"
    changed.write_text((EXAMPLES / "accounts.csv").read_text(encoding="utf-8")
                       .replace('"¥1,234.50"', "999.00"), encoding="utf-8")
    report = run_import(sessions, changed)
    assert (report.inserted, report.updated) == (0, 11)
    assert (count(sessions, Account), count(sessions, Debtor), count(sessions, PhoneContact)) == before
    with sessions() as session:
        assert session.scalar(select(Account.amount_due_minor).where(Account.external_id == "CC-1001")) == 99900
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 2


def test_given_bad_rows_when_imported_atomically_then_nothing_is_written_and_each_error_is_located(
        sessions: sessionmaker[Session], campaign: str) -> None:
    with pytest.raises(ImportRejected) as rejected:
        run_import(sessions, EXAMPLES / "accounts-bad.csv")
    messages = [str(e) for e in rejected.value.errors]
    assert "accounts-bad.csv:2:phone: '12345' is not a valid phone number for region CN" in messages
    assert "accounts-bad.csv:3:amount_due: not an amount: 'abc'" in messages
    assert "accounts-bad.csv:4:name: required value is empty" in messages
    assert any(m.startswith("accounts-bad.csv:4:due_date:") for m in messages)
    assert rejected.value.bad_rows == 3
    assert count(sessions, Account) == count(sessions, Debtor) == count(sessions, PhoneContact) == 0


def test_given_bad_rows_when_skipping_invalid_then_good_rows_land_and_rejects_are_written(
        sessions: sessionmaker[Session], campaign: str, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    report = run_import(sessions, EXAMPLES / "accounts-bad.csv", skip_invalid=True, rejects_file=rejects)
    assert (report.inserted, report.rejected) == (1, 3)
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("line,account_id") and len(lines) == 4
    assert "phone: '12345' is not a valid phone number" in lines[1]
    assert rejects.stat().st_mode & 0o077 == 0  # personal data: owner-only


def test_given_a_duplicate_account_id_in_one_file_then_the_second_row_is_rejected(
        sessions: sessionmaker[Session], campaign: str, tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text(HEADER + "A1,甲,13800138001,10,2026-11-01,,,,\nA1,乙,13800138002,20,2026-11-01,,,,\n",
                    encoding="utf-8")
    with pytest.raises(ImportRejected) as rejected:
        run_import(sessions, path)
    assert [str(e) for e in rejected.value.errors] == [
        "dup.csv:3:account_id: duplicate account id (first on line 2)"]


def test_given_a_number_with_several_zones_and_an_unknown_zone_name_then_zones_are_checked(
        sessions: sessionmaker[Session], campaign: str, tmp_path: Path) -> None:
    path = tmp_path / "zones.csv"
    path.write_text(HEADER
                    + "U1,Ann,+13125550101,10,2026-11-01,USD,America/Chicago|America/New_York,,\n"
                    + "U2,Bob,+13125550102,10,2026-11-01,USD,Mars/Olympus,,\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as rejected:
        run_import(sessions, path)
    assert [str(e) for e in rejected.value.errors] == [
        "zones.csv:3:timezone: unknown time zone 'Mars/Olympus' (use IANA names like Asia/Shanghai)"]
    path.write_text(path.read_text(encoding="utf-8").replace("Mars/Olympus", ""), encoding="utf-8")
    run_import(sessions, path)
    with sessions() as session:
        zones = session.scalar(select(PhoneContact.time_zones).where(PhoneContact.e164 == "+13125550101"))
    assert zones == ["America/Chicago", "America/New_York"]


def test_given_a_missing_required_column_then_the_file_is_refused_naming_the_column(
        sessions: sessionmaker[Session], campaign: str, tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("account_id,name\nA1,x\n", encoding="utf-8")
    with pytest.raises(FileProblem, match="missing required column\\(s\\): phone, amount_due, due_date"):
        run_import(sessions, path)


def test_given_an_xlsx_with_a_column_mapping_when_imported_then_it_reads_like_csv(
        sessions: sessionmaker[Session], campaign: str, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["合同号", "姓名", "手机号", "应还金额", "到期日"])
    sheet.append(["X1", "张伟", 13800138001, 1234.5, datetime(2026, 11, 20)])
    sheet.append(["X2", "王芳", "abc", 10, datetime(2026, 11, 20)])
    xlsx = tmp_path / "accounts.xlsx"
    book.save(xlsx)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("account_id: 合同号\nname: 姓名\nphone: 手机号\namount_due: 应还金额\ndue_date: 到期日\n",
                       encoding="utf-8")
    with pytest.raises(ImportRejected) as rejected:
        run_import(sessions, xlsx, mapping_file=mapping)
    assert [str(e) for e in rejected.value.errors] == [
        "accounts.xlsx:3:手机号: 'abc' is not a phone number (The string supplied did not seem to be a phone number.)"]
    report = run_import(sessions, xlsx, mapping_file=mapping, skip_invalid=True, rejects_file=tmp_path / "r.csv")
    assert report.inserted == 1
    with sessions() as session:
        assert session.scalar(select(Account.amount_due_minor).where(Account.external_id == "X1")) == 123450


def test_given_a_failure_after_debtors_and_accounts_are_written_then_the_import_leaves_nothing_behind(
        sessions: sessionmaker[Session], campaign: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One transaction: a crash mid-write loses only what was never reported as imported."""
    from dialer.importing import writer

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")   # fault injection: the contacts write fails

    monkeypatch.setattr(writer, "_upsert_contacts", disk_full)
    with pytest.raises(OSError, match="disk full"):
        run_import(sessions, EXAMPLES / "accounts.csv")
    assert count(sessions, Account) == count(sessions, Debtor) == count(sessions, PhoneContact) == 0
    assert count(sessions, ImportBatch) == 0
    monkeypatch.undo()
    assert run_import(sessions, EXAMPLES / "accounts.csv").inserted == 11   # and a retry imports it all
