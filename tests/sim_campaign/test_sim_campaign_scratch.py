"""The scratch copy: the campaign's rows, shifted in time, in a new file; the source only read."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, update

from dialer.db.models import Account, Attempt, Base, Campaign, PromiseToPay
from dialer.db.session import make_engine, make_sessionmaker, transaction
from dialer.domain import AttemptState, CampaignState, Outcome
from dialer.sim.campaign.scratch import ScratchError, copy_campaign
from tests.sim_campaign.conftest import run, source_campaign

PLACED = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)


def dump(url: str) -> dict[str, list[Any]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        tables = {name: sorted(map(repr, conn.execute(table.select())))
                  for name, table in Base.metadata.tables.items()}
    engine.dispose()
    return tables


def with_history(url: str) -> None:
    """A draft campaign with one past call and promise: dates must be shifted, state made running."""
    engine = make_engine(url)
    with transaction(make_sessionmaker(engine)) as session:
        session.execute(update(Campaign).values(state=CampaignState.DRAFT))
        account = session.scalars(select(Account).order_by(Account.id)).first()
        assert account is not None
        contact_id = account.debtor.contacts[0].id
        attempt = Attempt(campaign_id=account.campaign_id, account_id=account.id, debtor_id=account.debtor_id,
                          contact_id=contact_id, e164=account.debtor.contacts[0].e164, state=AttemptState.ENDED,
                          outcome=Outcome.HUMAN, placed_at=PLACED, ended_at=PLACED + timedelta(minutes=2),
                          ring_timeout_s=30, conversation=True)
        session.add(attempt)
        session.flush()
        session.add(PromiseToPay(account_id=account.id, attempt_id=attempt.id, amount_minor=1000, currency="CNY",
                                 promised_date=date(2026, 11, 22), created_at=PLACED))
    engine.dispose()


def test_given_a_campaign_when_copied_then_its_rows_are_shifted_back_and_the_source_is_untouched(
        db_url: str, tmp_path: Path) -> None:
    source_campaign(db_url, accounts=12, migrate_first=False)
    with_history(db_url)
    before = dump(db_url)

    copy = copy_campaign(db_url, tmp_path / "scratch.sqlite3", "m1", shift=timedelta(days=3))

    assert dump(db_url) == before
    assert copy.rows["accounts"] == 12 and copy.rows["attempts"] == 1 and copy.rows["promises_to_pay"] == 1
    engine = make_engine(copy.url)
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(Campaign.state)) is CampaignState.RUNNING
        assert session.scalar(select(Attempt.placed_at)) == PLACED - timedelta(days=3)
        assert session.scalar(select(PromiseToPay.promised_date)) == date(2026, 11, 19)
    engine.dispose()


def test_given_the_source_file_as_out_when_copying_then_refused(tmp_path: Path) -> None:
    path = tmp_path / "source.sqlite3"
    source_campaign(f"sqlite:///{path}", accounts=2)

    with pytest.raises(ScratchError, match="is the source database itself"):
        copy_campaign(f"sqlite:///{path}", path, "m1", shift=timedelta(days=1))


def test_given_an_unknown_campaign_when_copying_then_the_known_ones_are_named(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    source_campaign(source, accounts=2)

    with pytest.raises(ScratchError, match=r"campaign 'nope' not found .*known: m1"):
        copy_campaign(source, tmp_path / "out.sqlite3", "nope", shift=timedelta(days=1))


def test_given_a_whole_simulation_when_it_ran_then_the_source_file_is_byte_for_byte_the_same(
        tmp_path: Path) -> None:
    path = tmp_path / "source.sqlite3"
    source_campaign(f"sqlite:///{path}", accounts=10)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    before = dump(f"sqlite:///{path}")

    result = run(f"sqlite:///{path}", tmp_path / "sim.sqlite3", days=1)

    assert result.figures.dials > 0
    assert dump(f"sqlite:///{path}") == before
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
