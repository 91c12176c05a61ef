"""Stage SMS triggers through the outbox on a fixed time: fire once, honour quiet hours."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import FixedClock
from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import load_profiles
from dialer.db.models import DncEntry, PhoneContact, SmsMessage
from dialer.domain import SmsStatus
from dialer.scheduling.jobs import send_window
from dialer.scheduling.texts import Sender, plan_texts
from dialer.sms.gateway import FileGateway
from dialer.sms.outbox import send_due
from tests.scheduling import seed

SENDER = Sender(creditor="示例银行", pay_how="示例银行App", contact_phone="95500",
                hours=(time(8), time(21)))
LATE_EVENING = datetime(2026, 3, 3, 15, 30, tzinfo=timezone.utc)     # 23:30 in Shanghai
NEXT_MORNING = datetime(2026, 3, 4, 0, 0, tzinfo=timezone.utc)       # 08:00 in Shanghai


def _plan(sessions: sessionmaker[Session], now: datetime) -> int:
    return plan_texts(sessions, now=now, sender=SENDER, book=ProfileBook(load_profiles())).queued


async def _send(sessions: sessionmaker[Session], now: datetime, log: Path) -> int:
    window = send_window(load_profiles(), "cn", SENDER.hours)
    result = await send_due(sessions, FileGateway(log), clock=FixedClock(now), window_for=window)
    return result.sent


def _outbox(sessions: sessionmaker[Session]) -> list[tuple[str | None, SmsStatus, datetime]]:
    with sessions() as session:
        return [(m.trigger, m.status, m.send_after)
                for m in session.scalars(select(SmsMessage).order_by(SmsMessage.id))]


async def test_given_a_call_left_unpaid_late_at_night_when_planned_then_the_text_waits_for_morning_and_goes_once(
        sessions: sessionmaker[Session], tmp_path: Path) -> None:
    campaign_id = seed.campaign(sessions)
    account_id, contact_id = seed.account(sessions, campaign_id, ref="7001", due=date(2026, 3, 1),
                                          dpd=2, stage="reminder", amount=123_450)
    seed.completed_call(sessions, campaign_id=campaign_id, account_id=account_id,
                        contact_id=contact_id, at=datetime(2026, 3, 3, 12, tzinfo=timezone.utc))
    log = tmp_path / "sms-outbox.log"

    assert _plan(sessions, LATE_EVENING) == 1
    assert _outbox(sessions) == [("first_call_unpaid", SmsStatus.QUEUED, NEXT_MORNING)]
    assert await _send(sessions, LATE_EVENING, log) == 0 and not log.exists()

    assert _plan(sessions, NEXT_MORNING) == 0            # fired already: never queued twice
    assert await _send(sessions, NEXT_MORNING, log) == 1
    assert await _send(sessions, NEXT_MORNING, log) == 0
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    text = json.loads(lines[0])
    assert "尾号7001" in text["body"] and "1,234.50元" in text["body"] and "回T退订" in text["body"]
    assert _outbox(sessions)[0][1] is SmsStatus.SENT


def test_given_no_completed_call_yet_when_planned_then_first_call_unpaid_waits(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = seed.campaign(sessions)
    seed.account(sessions, campaign_id, ref="1", due=date(2026, 3, 1), dpd=2, stage="reminder")
    assert _plan(sessions, NEXT_MORNING) == 0 and _outbox(sessions) == []


def test_given_no_sms_consent_when_planned_then_nothing_is_queued(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = seed.campaign(sessions)
    account_id, contact_id = seed.account(sessions, campaign_id, ref="1", due=date(2026, 3, 1),
                                          dpd=2, stage="reminder", sms_consent=False)
    seed.completed_call(sessions, campaign_id=campaign_id, account_id=account_id,
                        contact_id=contact_id, at=datetime(2026, 3, 3, 2, tzinfo=timezone.utc))
    assert _plan(sessions, NEXT_MORNING) == 0 and _outbox(sessions) == []


def test_given_a_number_on_the_campaign_do_not_call_list_when_planned_then_it_is_not_texted(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = seed.campaign(sessions)
    account_id, contact_id = seed.account(sessions, campaign_id, ref="1", due=date(2026, 3, 1),
                                          dpd=2, stage="reminder")
    seed.completed_call(sessions, campaign_id=campaign_id, account_id=account_id,
                        contact_id=contact_id, at=datetime(2026, 3, 3, 2, tzinfo=timezone.utc))
    with sessions.begin() as session:
        e164 = session.get_one(PhoneContact, contact_id).e164
        session.add(DncEntry(e164=e164, campaign_id=campaign_id, reason="asked to stop"))
    assert _plan(sessions, NEXT_MORNING) == 0 and _outbox(sessions) == []


def test_given_an_account_at_nine_dpd_in_escalation_when_planned_then_only_the_most_severe_text_goes(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = seed.campaign(sessions)
    seed.account(sessions, campaign_id, ref="1", due=date(2026, 2, 22), dpd=8, stage="escalation")
    now = datetime(2026, 3, 2, 2, tzinfo=timezone.utc)    # 10:00 in Shanghai: window open
    assert _plan(sessions, now) == 1
    assert sorted((t, s) for t, s, _ in _outbox(sessions)) == [
        ("legal_reminder", SmsStatus.QUEUED), ("suspension_notice", SmsStatus.SUPPRESSED)]
