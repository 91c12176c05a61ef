"""The daily advance on a fixed time: dpd in the debtor's calendar, stage moves, paid accounts."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.db.models import Account, AuditEntry, PromiseToPay
from dialer.domain import PromiseStatus
from dialer.scheduling.daily import advance_accounts
from tests.scheduling import seed

DUE = date(2026, 3, 1)


def _account(sessions: sessionmaker[Session], account_id: int) -> Account:
    with sessions() as session:
        return session.get_one(Account, account_id)


def test_given_a_debtor_in_shanghai_when_utc_is_still_the_day_before_then_dpd_follows_shanghai(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = seed.campaign(sessions)
    account_id, _ = seed.account(sessions, campaign_id, ref="1", due=DUE, dpd=3, stage="reminder")
    # 2026-03-04 16:30 UTC is 2026-03-05 00:30 in Shanghai: 4 days past due there
    result = advance_accounts(sessions, now=datetime(2026, 3, 4, 16, 30, tzinfo=timezone.utc),
                              fallback_zone="UTC")
    row = _account(sessions, account_id)
    assert (row.days_past_due, row.dpd_as_of, row.stage) == (4, date(2026, 3, 5), "willingness")
    assert result.moves == {"moved": 1}
    with sessions() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.kind == "stage_change")).one()
    assert audit.detail == {"move": "moved", "from": "reminder", "to": "willingness", "dpd": 4}


def test_given_the_advance_ran_when_it_runs_again_the_same_day_then_nothing_changes(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = seed.campaign(sessions)
    seed.account(sessions, campaign_id, ref="1", due=DUE, dpd=0)
    now = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
    first = advance_accounts(sessions, now=now, fallback_zone="UTC")
    again = advance_accounts(sessions, now=now, fallback_zone="UTC")
    assert (first.dpd_changed, first.moves) == (1, {"entered": 1})
    assert (again.dpd_changed, again.moves) == (0, {})


def test_given_an_account_moved_ahead_by_a_rule_when_the_day_advances_then_it_is_not_moved_back(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = seed.campaign(sessions)
    account_id, _ = seed.account(sessions, campaign_id, ref="1", due=DUE, dpd=2, stage="escalation")
    advance_accounts(sessions, now=datetime(2026, 3, 3, 3, 0, tzinfo=timezone.utc), fallback_zone="UTC")
    assert _account(sessions, account_id).stage == "escalation"


def test_given_payments_covering_the_debt_when_the_day_advances_then_the_account_leaves_paid(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = seed.campaign(sessions)
    account_id, _ = seed.account(sessions, campaign_id, ref="1", due=DUE, dpd=2, stage="reminder",
                                 amount=50_000)
    promise_id = seed.promise(sessions, account_id, amount=50_000, on=date(2026, 3, 5),
                              made_at=datetime(2026, 3, 2, 3, tzinfo=timezone.utc))
    seed.payment(sessions, account_id, amount=20_000, at=datetime(2026, 3, 2, 5, tzinfo=timezone.utc))
    seed.payment(sessions, account_id, amount=30_000, at=datetime(2026, 3, 2, 6, tzinfo=timezone.utc))
    now = datetime(2026, 3, 3, 3, 0, tzinfo=timezone.utc)
    result = advance_accounts(sessions, now=now, fallback_zone="UTC")
    row = _account(sessions, account_id)
    assert (row.status, row.stage, row.paid_at) == ("paid", None, now)
    assert result.moves == {"left_paid": 1}
    with sessions() as session:
        assert session.get_one(PromiseToPay, promise_id).status is PromiseStatus.KEPT


def test_given_a_due_date_moved_into_the_future_when_the_day_advances_then_the_account_waits_for_it(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = seed.campaign(sessions)
    account_id, _ = seed.account(sessions, campaign_id, ref="1", due=date(2026, 3, 10), dpd=5,
                                 stage="willingness")
    advance_accounts(sessions, now=datetime(2026, 3, 3, 3, 0, tzinfo=timezone.utc), fallback_zone="UTC")
    row = _account(sessions, account_id)
    assert (row.stage, row.status, row.days_past_due) == (None, "open", 0)
    # 2026-03-11 00:00 in Shanghai: the first instant it is past due again
    assert row.next_eligible_at == datetime(2026, 3, 10, 16, 0, tzinfo=timezone.utc)


def test_given_many_accounts_when_advanced_in_small_batches_then_every_account_is_seen(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = seed.campaign(sessions)
    for i in range(7):
        seed.account(sessions, campaign_id, ref=str(i), due=DUE, dpd=0)
    result = advance_accounts(sessions, now=datetime(2026, 3, 7, 3, tzinfo=timezone.utc),
                              fallback_zone="UTC", batch=3)
    assert (result.accounts, result.dpd_changed, result.moves) == (7, 7, {"entered": 7})
    with sessions() as session:
        assert set(session.scalars(select(Account.stage))) == {"escalation"}
