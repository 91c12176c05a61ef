"""Follow-ups on a simulated clock, end to end through the production pieces: the after-call
rules (dialer.daemon.aftercall), the promise review job, the hopper and the compliance gate.

A callback the debtor asked for and a broken promise both only make an account *eligible*; the
gate still decides, so a callback asked for 23:00 waits for the morning."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer import attempts
from dialer.bot.record import CallRecord
from dialer.bot.record import Disposition as BotDisposition
from dialer.bot.record import PromiseToPay as BotPromise
from dialer.botdb import DbOutcomeSink
from dialer.clock import FixedClock
from dialer.compliance.gate import CallGate, DialTarget, GateResult
from dialer.daemon.aftercall import schedule_next
from dialer.daemon.hopper import next_candidates, park
from dialer.db.models import Account, Attempt, Conversation, Payment, PromiseToPay
from dialer.db.session import transaction
from dialer.domain import Outcome, Party, PromiseStatus, Route
from dialer.scheduling.promises import review_open_promises
from dialer.strategy.retry import callback_instant
from tests.gate.helpers import make_gate
from tests.scheduling import seed

SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(timezone.utc)


def offered(sessions: sessionmaker[Session], campaign_id: int, now: datetime) -> list[tuple[int, str | None]]:
    """What the hopper would offer the runner now: (account id, script)."""
    with transaction(sessions) as session:
        return [(c.account_id, c.script) for c in next_candidates(session, campaign_id, limit=10, now=now,
                                                                   exclude_debtors=set())]


def dial(gate: CallGate, campaign_id: int, account_id: int, contact_id: int, script: str | None = None) -> GateResult:
    return gate.decide(DialTarget(campaign_id, account_id, contact_id), script=script)


def answered(sessions: sessionmaker[Session], attempt_id: int, at: datetime, *, disposition: str,
             callback_at: datetime | None = None) -> None:
    """The call ends after a bot conversation; the daemon then applies the retry rules."""
    with transaction(sessions) as session:
        attempts.close(session, attempt_id, attempts.CallResult(
            outcome=Outcome.HUMAN, ended_at=at, answered_at=at - timedelta(seconds=60), route=Route.BOT,
            conversation=True), actor="test")
        session.add(Conversation(attempt_id=attempt_id, party=Party.DEBTOR, verified=True, disposition=disposition,
                                 callback_at=callback_at))
    with transaction(sessions) as session:
        schedule_next(session, attempt_id, now=at)


def test_given_call_me_at_6_pm_said_at_10_am_then_the_account_waits_until_6_pm_and_the_gate_allows_it(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(beijing(16, 10))
    gate = make_gate(sessions, clock)
    campaign_id = seed.campaign(sessions)
    account_id, contact_id = seed.account(sessions, campaign_id, ref="1", due=date(2026, 11, 10), dpd=6)
    first = dial(gate, campaign_id, account_id, contact_id)
    assert first.permit is not None
    clock.advance(120)
    answered(sessions, first.permit.attempt_id, clock.now(), disposition="callback_requested",
             callback_at=callback_instant(time(18), "Asia/Shanghai", clock.now()))
    with sessions() as session:
        assert session.get_one(Account, account_id).next_eligible_at == beijing(16, 18)
    assert offered(sessions, campaign_id, beijing(16, 17, 59)) == []
    clock.set(beijing(16, 18))
    assert [a for a, _ in offered(sessions, campaign_id, clock.now())] == [account_id]
    assert dial(gate, campaign_id, account_id, contact_id).allowed


def test_given_a_callback_asked_for_23_00_when_it_falls_due_then_the_gate_defers_it_to_8_am(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(beijing(16, 10))
    gate = make_gate(sessions, clock)
    campaign_id = seed.campaign(sessions)
    account_id, contact_id = seed.account(sessions, campaign_id, ref="1", due=date(2026, 11, 10), dpd=6)
    first = dial(gate, campaign_id, account_id, contact_id)
    assert first.permit is not None
    answered(sessions, first.permit.attempt_id, clock.now(), disposition="callback_requested",
             callback_at=callback_instant(time(23), "Asia/Shanghai", clock.now()))
    clock.set(beijing(16, 23))
    assert [a for a, _ in offered(sessions, campaign_id, clock.now())] == [account_id]   # eligible ...
    late = dial(gate, campaign_id, account_id, contact_id)
    assert not late.allowed and late.decision.reason is not None          # ... but the cn window is shut
    assert late.decision.reason.value == "outside_window"
    assert late.decision.next_allowed_at == beijing(17, 8)
    with transaction(sessions) as session:   # what the runner does with a denial
        park(session, account_id, late.decision.next_allowed_at, now=clock.now(), why=late.decision.detail)
    assert offered(sessions, campaign_id, beijing(17, 7, 59)) == []
    clock.set(beijing(17, 8))
    assert dial(gate, campaign_id, account_id, contact_id).allowed


def test_given_a_promise_unpaid_past_its_date_when_reviewed_then_the_account_reenters_with_the_follow_up_script(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(beijing(16, 10))
    gate = make_gate(sessions, clock)
    campaign_id = seed.campaign(sessions)
    account_id, contact_id = seed.account(sessions, campaign_id, ref="1", due=date(2026, 11, 14), dpd=2,
                                          stage="reminder", amount=80_000)
    first = dial(gate, campaign_id, account_id, contact_id)
    assert first.permit is not None
    with transaction(sessions) as session:
        attempts.close(session, first.permit.attempt_id, attempts.CallResult(
            outcome=Outcome.HUMAN, ended_at=clock.now(), route=Route.BOT, conversation=True), actor="test")
    # the bot's own outcome sink records "I'll pay 300 on the 18th" ...
    DbOutcomeSink(sessions=sessions, clock=clock).store(first.permit.attempt_id, CallRecord(
        attempt_id=str(first.permit.attempt_id), script="reminder", language="zh-CN", party=Party.DEBTOR,
        verified=True, disposition=BotDisposition.PROMISE_TO_PAY,
        promise=BotPromise(amount=Decimal("300.00"), currency="CNY", due=date(2026, 11, 18), confirmed=True)))
    with transaction(sessions) as session:   # ... and the daemon applies the retry rules
        schedule_next(session, first.permit.attempt_id, now=clock.now())
    with transaction(sessions) as session:   # a payment short of the promise
        session.add(Payment(account_id=account_id, amount_minor=10_000, currency="CNY", paid_at=beijing(18, 15)))
    # parked: the account is not offered while the promise runs
    assert offered(sessions, campaign_id, beijing(18, 12)) == []
    # the 18th and its grace day pass; the hourly review finds it broken on the 20th at 00:10
    clock.set(beijing(20, 0, 10))
    result = review_open_promises(sessions, now=clock.now(), fallback_zone="UTC")
    assert (result.kept, result.broken) == (0, 1)
    with sessions() as session:
        promise = session.scalars(select(PromiseToPay).where(PromiseToPay.account_id == account_id)).one()
    assert promise.status is PromiseStatus.BROKEN
    assert offered(sessions, campaign_id, clock.now()) == [(account_id, "broken_promise")]
    night = dial(gate, campaign_id, account_id, contact_id, script="broken_promise")
    assert not night.allowed and night.decision.next_allowed_at == beijing(20, 8)   # still the gate's call
    clock.set(beijing(20, 8))
    morning = dial(gate, campaign_id, account_id, contact_id, script="broken_promise")
    assert morning.permit is not None
    with sessions() as session:
        assert session.get_one(Attempt, morning.permit.attempt_id).script == "broken_promise"


def test_given_a_promise_from_new_york_when_the_day_and_grace_run_then_the_account_is_not_offered_until_they_end(
        sessions: sessionmaker[Session]) -> None:
    """The bot's sink parks to UTC midnight after the date: 19:00 on the promised day in New York.
    The hourly review extends that to the end of the grace day on the debtor's own calendar."""
    new_york = ZoneInfo("America/New_York")
    clock = FixedClock(datetime(2026, 11, 16, 11, tzinfo=new_york))
    gate = make_gate(sessions, clock)
    campaign_id = seed.campaign(sessions)
    account_id, contact_id = seed.account(sessions, campaign_id, ref="1", due=date(2026, 11, 10), dpd=6,
                                          zone="America/New_York")
    first = dial(gate, campaign_id, account_id, contact_id)
    assert first.permit is not None
    with transaction(sessions) as session:
        attempts.close(session, first.permit.attempt_id, attempts.CallResult(
            outcome=Outcome.HUMAN, ended_at=clock.now(), route=Route.BOT, conversation=True), actor="test")
    DbOutcomeSink(sessions=sessions, clock=clock).store(first.permit.attempt_id, CallRecord(
        attempt_id=str(first.permit.attempt_id), script="reminder", language="en-US", party=Party.DEBTOR,
        verified=True, disposition=BotDisposition.PROMISE_TO_PAY,
        promise=BotPromise(amount=Decimal("300.00"), currency="CNY", due=date(2026, 11, 18), confirmed=True)))
    with transaction(sessions) as session:
        schedule_next(session, first.permit.attempt_id, now=clock.now())
    promised_evening = datetime(2026, 11, 18, 19, 30, tzinfo=new_york)
    assert [a for a, _ in offered(sessions, campaign_id, promised_evening)] == [account_id]   # the sink alone
    review_open_promises(sessions, now=datetime(2026, 11, 17, 12, tzinfo=new_york), fallback_zone="UTC")
    assert offered(sessions, campaign_id, promised_evening) == []
    assert offered(sessions, campaign_id, datetime(2026, 11, 19, 15, tzinfo=new_york)) == []   # grace day
    review_open_promises(sessions, now=datetime(2026, 11, 20, 0, 10, tzinfo=new_york), fallback_zone="UTC")
    assert offered(sessions, campaign_id, datetime(2026, 11, 20, 9, tzinfo=new_york)) == [(account_id, "broken_promise")]
