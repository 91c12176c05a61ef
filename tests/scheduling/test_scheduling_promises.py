"""Promise review on a fixed time: kept by payments, broken after date plus grace, re-entered."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.db.models import Account, AuditEntry, PromiseToPay
from dialer.domain import PromiseStatus
from dialer.scheduling.promises import review_open_promises
from tests.scheduling import seed

MADE = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)     # 10:00 in Shanghai
PROMISED = date(2026, 3, 5)


def _setup(sessions: sessionmaker[Session]) -> tuple[int, int]:
    campaign_id = seed.campaign(sessions)
    account_id, _ = seed.account(sessions, campaign_id, ref="1", due=date(2026, 3, 1), dpd=1,
                                 stage="reminder", amount=80_000)
    with sessions.begin() as session:
        # parked until the day after the promised date, as the bot's outcome sink does
        session.get_one(Account, account_id).next_eligible_at = datetime(2026, 3, 6, tzinfo=timezone.utc)
    return account_id, seed.promise(sessions, account_id, amount=30_000, on=PROMISED, made_at=MADE)


def _state(sessions: sessionmaker[Session], account_id: int, promise_id: int
           ) -> tuple[PromiseStatus, datetime | None, str | None]:
    with sessions() as session:
        account = session.get_one(Account, account_id)
        return session.get_one(PromiseToPay, promise_id).status, account.next_eligible_at, account.stage


def test_given_payments_covering_a_promise_when_reviewed_then_it_is_kept_and_the_account_stays_parked(
        sessions: sessionmaker[Session]) -> None:
    account_id, promise_id = _setup(sessions)
    # paid the same Shanghai day, before the promise was recorded: a bank file dates the day
    seed.payment(sessions, account_id, amount=10_000, at=datetime(2026, 3, 1, 17, tzinfo=timezone.utc))
    seed.payment(sessions, account_id, amount=20_000, at=datetime(2026, 3, 4, 3, tzinfo=timezone.utc))
    result = review_open_promises(sessions, now=datetime(2026, 3, 4, 4, tzinfo=timezone.utc),
                                  fallback_zone="UTC")
    assert (result.kept, result.broken) == (1, 0)
    assert _state(sessions, account_id, promise_id) == (
        PromiseStatus.KEPT, datetime(2026, 3, 6, tzinfo=timezone.utc), "reminder")


def test_given_an_unpaid_promise_within_its_grace_day_when_reviewed_then_it_stays_open_and_parked_to_the_grace_end(
        sessions: sessionmaker[Session]) -> None:
    account_id, promise_id = _setup(sessions)
    # 2026-03-06 23:00 in Shanghai: the promised day plus one day of grace for bank posting
    result = review_open_promises(sessions, now=datetime(2026, 3, 6, 15, tzinfo=timezone.utc),
                                  fallback_zone="UTC")
    assert (result.reviewed, result.kept, result.broken) == (1, 0, 0)
    # not called during the grace day: parked until it ends, 2026-03-07 00:00 in Shanghai
    assert _state(sessions, account_id, promise_id)[:2] == (
        PromiseStatus.OPEN, datetime(2026, 3, 6, 16, tzinfo=timezone.utc))


def test_given_a_promise_paid_in_part_when_date_and_grace_passed_then_broken_and_re_entered_now(
        sessions: sessionmaker[Session]) -> None:
    account_id, promise_id = _setup(sessions)
    seed.payment(sessions, account_id, amount=29_999, at=datetime(2026, 3, 5, 3, tzinfo=timezone.utc))
    now = datetime(2026, 3, 6, 16, 5, tzinfo=timezone.utc)   # 2026-03-07 00:05 in Shanghai
    result = review_open_promises(sessions, now=now, fallback_zone="UTC")
    assert (result.kept, result.broken) == (0, 1)
    assert _state(sessions, account_id, promise_id) == (PromiseStatus.BROKEN, now, "reminder")
    with sessions() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.kind == "promise_review")).one()
    assert audit.detail["script"] == "broken_promise" and audit.detail["paid"] == 29_999
    # reviewed once: a second run finds no open promise
    assert review_open_promises(sessions, now=now, fallback_zone="UTC").reviewed == 0
