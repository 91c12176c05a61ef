"""A bot-captured "晚上六点再打" through the real pieces: the context from the database (the
debtor's zone), the dialog, DbOutcomeSink (Conversation.callback_at + callback_requested), the
after-call rules (next_eligible_at), the hopper and the compliance gate, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer import attempts
from dialer.bot.actions import CollectDigits, Done, Heard, Listen, Silence
from dialer.bot.engine import DialogSession
from dialer.bot.record import CallRecord
from dialer.bot.script import load_script, shipped_script_path
from dialer.botdb import DbCallContextProvider, DbOutcomeSink
from dialer.clock import FixedClock
from dialer.compliance.gate import CallGate, DialTarget
from dialer.daemon.aftercall import schedule_next
from dialer.daemon.hopper import next_candidates
from dialer.db.models import Account, Conversation
from dialer.db.session import transaction
from dialer.domain import Outcome, Route
from tests.gate.helpers import make_gate
from tests.scheduling import seed

SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(timezone.utc)


def bot_call(sessions: sessionmaker[Session], clock: FixedClock, attempt_id: int, campaign_id: int,
             answers: list[str]) -> CallRecord:
    """The bot's side of an answered call: context from the database, the zh-CN script, the caller's
    words (a callback is confirmed with "对" when the bot reads the time back)."""
    provider = DbCallContextProvider(sessions=sessions, clock=clock, business_name="示例银行",
                                     callback_number="4008101234")
    context = asyncio.run(provider.context_for(str(attempt_id), str(campaign_id)))
    assert context.time_zone == "Asia/Shanghai"
    session = DialogSession(load_script(shipped_script_path("collection", "zh-CN")), context)
    pending = [Heard(a) for a in answers]
    action = session.start()
    while action is not None:
        action = session.feed((pending.pop(0) if pending else Silence())
                              if isinstance(action, (Listen, CollectDigits)) else Done())
    return session.record


def hang_up(sessions: sessionmaker[Session], attempt_id: int, at: datetime) -> None:
    with transaction(sessions) as session:
        attempts.close(session, attempt_id, attempts.CallResult(
            outcome=Outcome.HUMAN, ended_at=at, answered_at=at - timedelta(seconds=60), route=Route.BOT,
            conversation=False), actor="test")


def offered(sessions: sessionmaker[Session], campaign_id: int, now: datetime) -> list[int]:
    with transaction(sessions) as session:
        return [c.account_id for c in next_candidates(session, campaign_id, limit=10, now=now,
                                                      exclude_debtors=set())]


def first_call(sessions: sessionmaker[Session], clock: FixedClock) -> tuple[CallGate, int, int, int, int]:
    gate = make_gate(sessions, clock)
    campaign_id = seed.campaign(sessions)
    account_id, contact_id = seed.account(sessions, campaign_id, ref="cb", due=date(2026, 11, 10), dpd=6)
    result = gate.decide(DialTarget(campaign_id, account_id, contact_id))
    assert result.permit is not None
    return gate, campaign_id, account_id, contact_id, result.permit.attempt_id


def test_given_wan_shang_liu_dian_zai_da_at_10_then_conversation_callback_and_next_eligible_at_18_00_beijing(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(beijing(16, 10))
    gate, campaign_id, account_id, contact_id, attempt_id = first_call(sessions, clock)
    clock.advance(30)
    record = bot_call(sessions, clock, attempt_id, campaign_id, ["晚上六点再打", "对"])
    clock.advance(30)
    hang_up(sessions, attempt_id, clock.now())          # the channel ended before the bot's record landed
    DbOutcomeSink(sessions=sessions, clock=clock).store(attempt_id, record)
    with sessions() as session:
        conversation = session.scalars(select(Conversation).where(Conversation.attempt_id == attempt_id)).one()
        assert conversation.disposition == "callback_requested"
        assert conversation.callback_at == beijing(16, 18)
        assert session.get_one(Account, account_id).next_eligible_at == beijing(16, 18)
    assert offered(sessions, campaign_id, beijing(16, 17, 59)) == []
    clock.set(beijing(16, 18))
    assert offered(sessions, campaign_id, clock.now()) == [account_id]
    assert gate.decide(DialTarget(campaign_id, account_id, contact_id)).allowed


def test_given_the_record_lands_before_the_hangup_then_the_daemons_schedule_next_uses_the_callback(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(beijing(16, 10))
    _, campaign_id, account_id, _, attempt_id = first_call(sessions, clock)
    record = bot_call(sessions, clock, attempt_id, campaign_id, ["我在开会，两个小时后再打", "对"])
    DbOutcomeSink(sessions=sessions, clock=clock).store(attempt_id, record)   # outcome unknown yet: no step
    clock.advance(60)
    hang_up(sessions, attempt_id, clock.now())
    with transaction(sessions) as session:                                     # what the daemon does next
        schedule_next(session, attempt_id, now=clock.now())
    with sessions() as session:
        assert session.get_one(Account, account_id).next_eligible_at == beijing(16, 12)


def test_given_a_callback_asked_for_23_00_then_it_is_proposed_and_the_gate_defers_it_to_8_am(
        sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(beijing(16, 10))
    gate, campaign_id, account_id, contact_id, attempt_id = first_call(sessions, clock)
    record = bot_call(sessions, clock, attempt_id, campaign_id, ["晚上十一点再打给我", "对"])
    assert record.callback_at == beijing(16, 23)
    hang_up(sessions, attempt_id, clock.now())
    DbOutcomeSink(sessions=sessions, clock=clock).store(attempt_id, record)
    clock.set(beijing(16, 23))
    assert offered(sessions, campaign_id, clock.now()) == [account_id]        # eligible, as asked ...
    late = gate.decide(DialTarget(campaign_id, account_id, contact_id))
    assert not late.allowed and late.decision.reason is not None              # ... but the cn window is shut
    assert late.decision.reason.value == "outside_window"
    assert late.decision.next_allowed_at == beijing(17, 8)
