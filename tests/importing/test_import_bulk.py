"""The importer's fast paths agree with the slow, obvious ones they replace."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import phonenumbers
import pytest
from phonenumbers import timezone as number_zones
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.db.models import Debtor, PhoneContact
from dialer.db.session import transaction
from dialer.domain import ContactOwner
from dialer.importing.bulk import CHUNK, _convert_column, ids_by_key, insert_rows, update_rows, upsert_rows
from dialer.importing.phones import PhoneError, normalise

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=timezone.utc)


def _random_numbers(count: int) -> list[tuple[str, str]]:
    rng = random.Random(7)
    numbers = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.4:
            numbers.append(("1" + "".join(rng.choices("0123456789", k=10)), "CN"))  # mobiles, valid or not
        elif kind < 0.6:
            numbers.append(("0" + "".join(rng.choices("0123456789", k=rng.randint(8, 11))), "CN"))  # landlines
        elif kind < 0.8:
            numbers.append(("+" + "".join(rng.choices("0123456789", k=rng.randint(8, 13))), "CN"))  # any country
        else:
            numbers.append(("".join(rng.choices("0123456789", k=10)), rng.choice(["US", "GB", "CN"])))
    return numbers


def test_given_numbers_of_every_kind_when_normalised_then_validity_and_zones_are_libphonenumbers_own() -> None:
    checked = valid = 0
    for text, region in _random_numbers(3000):
        try:
            parsed = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        expected = None
        if phonenumbers.is_valid_number(parsed):
            expected = tuple(z for z in number_zones.time_zones_for_number(parsed) if z != "Etc/Unknown")
            valid += 1
        try:
            got: tuple[str, ...] | None = normalise(text, region=region).time_zones
        except PhoneError:
            got = None
        assert got == expected, (text, region)
        checked += 1
    assert checked > 2000 and valid > 500  # the sample covers both sides


def _debtor_row(ref: str) -> dict[str, object]:
    return dict(external_id=ref, full_name=f"Debtor {ref}", language="zh-CN", birth_year=1990, id_last4="1234",
                created_at=NOW, updated_at=NOW)


def test_given_rows_when_bulk_inserted_and_updated_then_they_read_back_as_the_orm_wrote_them(
        sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        insert_rows(session.connection(), Debtor.__table__, [_debtor_row("D1"), _debtor_row("D2")])
        debtor = session.scalar(select(Debtor.id).where(Debtor.external_id == "D1"))
        insert_rows(session.connection(), PhoneContact.__table__, [dict(
            debtor_id=debtor, e164="+8613800138001", owner=ContactOwner.THIRD_PARTY, relation="spouse", name=None,
            rank=0, time_zones=["Asia/Shanghai"], zone_source="number", autodialer_consent=True,
            sms_consent=False, valid=True, suppressed=False, consecutive_failures=0, created_at=NOW)])
        update_rows(session.connection(), Debtor.__table__, [dict(row_id=debtor, full_name="Renamed", updated_at=NOW)])
    with sessions() as session:
        contact = session.scalars(select(PhoneContact)).one()
        assert contact.owner is ContactOwner.THIRD_PARTY and contact.time_zones == ["Asia/Shanghai"]
        assert contact.created_at == NOW
        names = {ref: name for ref, name in session.execute(select(Debtor.external_id, Debtor.full_name))}
        assert names == {"D1": "Renamed", "D2": "Debtor D2"}


def test_given_rows_without_a_defaulted_column_when_bulk_inserted_then_refused_naming_the_column(
        sessions: sessionmaker[Session]) -> None:
    row = _debtor_row("D1")
    del row["created_at"]
    with transaction(sessions) as session, pytest.raises(ValueError, match="created_at"):
        insert_rows(session.connection(), Debtor.__table__, [row])


def _contact_row(debtor: int, e164: str, **fields: object) -> dict[str, object]:
    row: dict[str, object] = dict(
        debtor_id=debtor, e164=e164, owner=ContactOwner.DEBTOR, relation=None, name=None, rank=0,
        time_zones=["Asia/Shanghai"], zone_source="number", autodialer_consent=True, sms_consent=False,
        valid=True, suppressed=False, consecutive_failures=0, created_at=NOW)
    row.update(fields)
    return row


def test_given_a_suppressed_contact_when_upserted_from_a_file_then_file_fields_change_and_call_history_stays(
        sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        insert_rows(session.connection(), Debtor.__table__, [_debtor_row("D1")])
        debtor = session.scalar(select(Debtor.id).where(Debtor.external_id == "D1"))
        insert_rows(session.connection(), PhoneContact.__table__, [_contact_row(
            debtor, "+8613800138001", suppressed=True, valid=False, consecutive_failures=4)])
    later = datetime(2026, 11, 23, 4, 0, tzinfo=timezone.utc)
    with transaction(sessions) as session:
        upsert_rows(session.connection(), PhoneContact.__table__, [
            _contact_row(debtor, "+8613800138001", owner=ContactOwner.THIRD_PARTY, relation="spouse", rank=1,
                         time_zones=["Asia/Urumqi"], created_at=later),
            _contact_row(debtor, "+8613900139001", rank=2, created_at=later)],
            unique=["debtor_id", "e164"], update_columns=["owner", "relation", "rank", "time_zones"])
    with sessions() as session:
        known, new = session.scalars(select(PhoneContact).order_by(PhoneContact.e164)).all()
    assert (known.owner, known.relation, known.rank, known.time_zones) == (
        ContactOwner.THIRD_PARTY, "spouse", 1, ["Asia/Urumqi"])
    assert (known.suppressed, known.valid, known.consecutive_failures, known.created_at) == (True, False, 4, NOW)
    assert (new.e164, new.rank, new.suppressed, new.created_at) == ("+8613900139001", 2, False, later)


def test_given_values_equal_but_not_alike_when_a_column_is_converted_then_each_gets_its_own_conversion() -> None:
    calls: list[object] = []

    def process(value: object) -> str:
        calls.append(value)
        return f"{type(value).__name__}:{value!r}"

    utc = datetime(2026, 11, 22, 4, 0, tzinfo=timezone.utc)
    beijing = utc.astimezone(timezone(timedelta(hours=8)))      # == utc, but another offset
    values = [1, True, 1.0, Decimal("1.0"), Decimal("1.00"), utc, beijing, [1], [True], ["a"], None,
              utc, ["a"], True, None]
    assert utc == beijing and 1 == True == 1.0 == Decimal("1.00")  # noqa: E712 (the point of the test)
    assert _convert_column(process, values) == [process(v) for v in values]
    assert len(calls) == 11 + len(values)   # 11 distinct values once each, then the reference run


def test_given_more_keys_than_one_statement_holds_when_ids_are_looked_up_then_each_present_key_maps_to_its_row(
        sessions: sessionmaker[Session]) -> None:
    refs = [f"D{i}" for i in range(CHUNK + 3)]
    with transaction(sessions) as session:
        insert_rows(session.connection(), Debtor.__table__, [_debtor_row(ref) for ref in refs])
    with sessions() as session:
        expected = {ref: row_id for ref, row_id in session.execute(select(Debtor.external_id, Debtor.id))}
        found = ids_by_key(session.connection(), Debtor.__table__, "external_id", [*refs, "missing", "D1"])
    assert found == expected and len(found) == CHUNK + 3
