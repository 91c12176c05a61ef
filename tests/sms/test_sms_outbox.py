"""The outbox on migrated databases (SQLite, and PostgreSQL when the throwaway server runs)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import FixedClock
from dialer.db.models import Account, Debtor, PhoneContact, SmsMessage
from dialer.db.session import transaction
from dialer.domain import SmsStatus
from dialer.money import Money
from dialer.sms.gateway import FileGateway, OutgoingSms, SendReceipt, SmsGatewayError
from dialer.sms.outbox import (
    Recipient,
    enqueue,
    fired_triggers,
    queue_plan,
    record_delivery,
    record_superseded,
    send_due,
    texts_to_debtor,
)
from dialer.sms.templates import BillFacts, default_catalog
from dialer.sms.triggers import PlannedSms, SmsAccountState, plan_sms
from dialer.sms.webhook import DeliveryReport
from dialer.sms.window import SendingWindow, SmsCaps

NIGHT = datetime(2026, 3, 2, 14, 0, tzinfo=timezone.utc)      # 22:00 Shanghai
MORNING = datetime(2026, 3, 3, 0, 0, tzinfo=timezone.utc)     # 08:00 Shanghai


def window_for(zones: tuple[str, ...]) -> SendingWindow:
    return SendingWindow(time(8), time(21), zones)


@pytest.fixture
def recipient(sessions: sessionmaker[Session]) -> tuple[Recipient, int]:
    with transaction(sessions) as session:
        debtor = Debtor(external_id="D-1", full_name="张三")
        session.add(debtor)
        session.flush()
        account = Account(external_id="CC-1", debtor_id=debtor.id, currency="CNY",
                          amount_due_minor=123_450, minimum_payment_minor=20_000,
                          due_date=date(2026, 3, 1), days_past_due=1, dpd_as_of=date(2026, 3, 2))
        contact = PhoneContact(debtor_id=debtor.id, e164="+8613800138000",
                               time_zones=["Asia/Shanghai"], sms_consent=True)
        session.add_all([account, contact])
        session.flush()
        return Recipient(account.id, contact.id, None, contact.e164, "zh-CN"), debtor.id


def planned(recipient: Recipient, trigger: str = "first_call_unpaid",
            at: datetime = MORNING) -> PlannedSms:
    return PlannedSms(recipient.account_id, trigger, trigger, at)


def test_given_a_trigger_already_queued_when_enqueued_again_then_it_does_not_fire_twice(
        sessions, recipient):
    who, _ = recipient
    with transaction(sessions) as session:
        assert enqueue(session, planned(who), who, "您好") is not None
    with transaction(sessions) as session:
        assert enqueue(session, planned(who), who, "您好") is None
        # the caller's transaction is still usable after the refused duplicate
        assert enqueue(session, planned(who, "suspension_notice"), who, "您好") is not None
    with sessions() as session:
        assert fired_triggers(session, who.account_id) == {"first_call_unpaid",
                                                           "suspension_notice"}


def test_given_superseded_triggers_then_they_count_as_fired_but_are_never_sent(sessions, recipient):
    who, _ = recipient
    with transaction(sessions) as session:
        record_superseded(session, who, ["first_call_unpaid"], NIGHT)
    with sessions() as session:
        assert fired_triggers(session, who.account_id) == {"first_call_unpaid"}
        row = session.scalar(select(SmsMessage))
        assert row.status is SmsStatus.SUPPRESSED


async def test_given_a_text_planned_for_the_morning_when_dispatching_at_night_then_nothing_goes(
        sessions, recipient, tmp_path: Path):
    who, debtor_id = recipient
    with transaction(sessions) as session:
        enqueue(session, planned(who), who, "【示例银行】您好")
    outbox_file = tmp_path / "sms.jsonl"
    clock = FixedClock(NIGHT)
    result = await send_due(sessions, FileGateway(outbox_file), clock=clock, window_for=window_for)
    assert result.sent == 0 and not outbox_file.exists()

    clock.set(MORNING + timedelta(minutes=1))
    result = await send_due(sessions, FileGateway(outbox_file), clock=clock, window_for=window_for)
    assert result.sent == 1
    sent = [json.loads(line) for line in outbox_file.read_text(encoding="utf-8").splitlines()]
    assert [(m["to_e164"], m["body"]) for m in sent] == [("+8613800138000", "【示例银行】您好")]
    with sessions() as session:
        row = session.scalar(select(SmsMessage))
        assert row.status is SmsStatus.SENT and row.sent_at == clock.now()
        assert texts_to_debtor(session, debtor_id) == [clock.now()]
    # a second run finds nothing left to send
    again = await send_due(sessions, FileGateway(outbox_file), clock=clock, window_for=window_for)
    assert again.sent == 0 and len(outbox_file.read_text(encoding="utf-8").splitlines()) == 1


async def test_given_a_queue_that_stalled_into_the_night_then_the_text_is_deferred_to_morning(
        sessions, recipient, tmp_path):
    who, _ = recipient
    with transaction(sessions) as session:
        enqueue(session, planned(who, at=NIGHT - timedelta(hours=2)), who, "您好")
    result = await send_due(sessions, FileGateway(tmp_path / "x.jsonl"), clock=FixedClock(NIGHT),
                            window_for=window_for)
    assert result.deferred == 1
    with sessions() as session:
        row = session.scalar(select(SmsMessage))
        assert (row.status, row.send_after) == (SmsStatus.QUEUED, MORNING)


async def test_given_an_account_paid_before_sending_then_the_text_is_suppressed(
        sessions, recipient, tmp_path):
    who, _ = recipient
    with transaction(sessions) as session:
        enqueue(session, planned(who), who, "您好")
        session.get(Account, who.account_id).status = "paid"
    result = await send_due(sessions, FileGateway(tmp_path / "x.jsonl"),
                            clock=FixedClock(MORNING), window_for=window_for)
    assert result.suppressed == 1
    with sessions() as session:
        assert session.scalar(select(SmsMessage.status)) is SmsStatus.SUPPRESSED


class _FlakyGateway:
    """Fault injection: the provider is down, then accepts."""

    name = "flaky"

    def __init__(self) -> None:
        self.calls = 0

    async def send(self, message: OutgoingSms) -> SendReceipt:
        self.calls += 1
        if self.calls == 1:
            raise SmsGatewayError(self.name, "HTTP 503", retryable=True)
        return SendReceipt(SmsStatus.SENT, self.name, gateway_ref="ref-1")


async def test_given_a_gateway_outage_then_the_text_is_retried_later_and_delivery_recorded(
        sessions, recipient):
    who, _ = recipient
    with transaction(sessions) as session:
        enqueue(session, planned(who), who, "您好")
    gateway, clock = _FlakyGateway(), FixedClock(MORNING)
    first = await send_due(sessions, gateway, clock=clock, window_for=window_for)
    assert first.deferred == 1
    clock.advance(5 * 60)
    assert (await send_due(sessions, gateway, clock=clock, window_for=window_for)).sent == 0
    clock.advance(5 * 60)
    assert (await send_due(sessions, gateway, clock=clock, window_for=window_for)).sent == 1
    with transaction(sessions) as session:
        assert record_delivery(session, DeliveryReport("ref-1", SmsStatus.DELIVERED), "flaky",
                               clock.now())
        assert not record_delivery(session, DeliveryReport("nope", SmsStatus.DELIVERED), "flaky",
                                   clock.now())
    with sessions() as session:
        row = session.scalar(select(SmsMessage))
        assert (row.status, row.delivered_at, row.gateway_ref) == (SmsStatus.DELIVERED,
                                                                   clock.now(), "ref-1")


def test_given_an_account_imported_at_9_dpd_when_the_plan_is_queued_then_one_text_and_two_markers(
        sessions, recipient):
    who, _ = recipient
    facts = BillFacts(creditor="示例银行", account_tail="1001", amount_due=Money(123_450, "CNY"),
                      minimum_payment=Money(20_000, "CNY"), dpd=9, due_date=date(2026, 3, 1),
                      pay_how="示例银行App", contact_phone="95500")
    for _ in range(2):   # the scheduler runs again: nothing new fires
        with transaction(sessions) as session:
            state = SmsAccountState(who.account_id, dpd=9, paid=False, completed_calls=1,
                                    may_text=True, fired=fired_triggers(session, who.account_id))
            plan = plan_sms(state, ["first_call_unpaid", "suspension_notice", "legal_reminder"],
                            now=MORNING, window=window_for(("Asia/Shanghai",)),
                            caps=SmsCaps(per_day=1, per_week=3))
            queue_plan(session, plan, who, catalog=default_catalog(), facts=facts, now=MORNING)
    with sessions() as session:
        rows = session.scalars(select(SmsMessage).order_by(SmsMessage.id)).all()
        assert [(r.trigger, r.status) for r in rows] == [
            ("first_call_unpaid", SmsStatus.SUPPRESSED),
            ("suspension_notice", SmsStatus.SUPPRESSED),
            ("legal_reminder", SmsStatus.QUEUED)]
        assert "逾期9天" in rows[2].body and "1,234.50元" in rows[2].body


class _GatewayThatLooksBack:
    """While its send is in flight, a second dispatcher runs on the same database."""

    name = "nested"

    def __init__(self, sessions, clock) -> None:
        self.sessions, self.clock, self.nested = sessions, clock, None

    async def send(self, message: OutgoingSms) -> SendReceipt:
        if self.nested is None:
            self.nested = "running"
            self.nested = await send_due(self.sessions, self, clock=self.clock,
                                         window_for=window_for)
        return SendReceipt(SmsStatus.SENT, self.name, gateway_ref=f"n-{message.message_id}")


async def test_given_a_text_in_flight_when_another_dispatcher_runs_then_it_is_not_sent_twice(
        sessions, recipient):
    who, _ = recipient
    with transaction(sessions) as session:
        enqueue(session, planned(who), who, "您好")
    clock = FixedClock(MORNING)
    gateway = _GatewayThatLooksBack(sessions, clock)
    outer = await send_due(sessions, gateway, clock=clock, window_for=window_for)
    assert outer.sent == 1
    assert gateway.nested.sent == 0     # the row was leased and committed before the send
