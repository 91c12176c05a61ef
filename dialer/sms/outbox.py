"""The SMS outbox (`sms_outbox` table): planned texts, their send status and delivery reports.

The table is unique on (account, trigger), which is what makes "fires once per account" hold
across processes: the second process's insert fails and is treated as "already fired". Every
function takes the caller's Session; the caller owns the transaction.

`send_due` is the scheduler's job body. Each message is claimed in a short transaction
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two dialers never claim the same row) by leasing it
(its send time moves past the gateway call), sent with no transaction open, and its result
recorded in a second transaction. The window is checked again at send time: a queue that stalled
past 21:00 must wait for the morning, and an account that paid in between is suppressed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import Clock, ensure_utc
from dialer.db.models import Account, PhoneContact, SmsMessage
from dialer.db.session import transaction
from dialer.domain import SmsStatus
from dialer.sms.gateway import Gateway, OutgoingSms, SendReceipt, SmsGatewayError
from dialer.sms.templates import BillFacts, TemplateCatalog, render
from dialer.sms.triggers import PlannedSms, TriggerPlan
from dialer.sms.webhook import DeliveryReport
from dialer.sms.window import TextWindow

RETRY_AFTER = timedelta(minutes=10)
# A row being sent is leased by moving its send time ahead: if the process dies mid-send the text
# is tried again after the lease (at-least-once; the message id is the gateway's idempotency key).
SEND_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Recipient:
    account_id: int
    contact_id: int
    campaign_id: int | None
    e164: str
    language: str


def enqueue(session: Session, planned: PlannedSms, recipient: Recipient,
            body: str) -> SmsMessage | None:
    """Queue a planned text; None when this account's trigger has already fired."""
    row = SmsMessage(account_id=recipient.account_id, contact_id=recipient.contact_id,
                     campaign_id=recipient.campaign_id, e164=recipient.e164,
                     trigger=planned.trigger, template=planned.template,
                     language=recipient.language, body=body, status=SmsStatus.QUEUED,
                     send_after=planned.send_at)
    return row if _insert_once(session, row) else None


def queue_plan(session: Session, plan: TriggerPlan, recipient: Recipient, *,
               catalog: TemplateCatalog, facts: BillFacts, now: datetime) -> SmsMessage | None:
    """Write what `plan_sms` decided: the text to send (rendered now) and the superseded ones."""
    record_superseded(session, recipient, plan.superseded, now)
    if plan.send is None:
        return None
    body = render(catalog.get(plan.send.template, recipient.language), facts)
    return enqueue(session, plan.send, recipient, body)


def record_superseded(session: Session, recipient: Recipient, triggers: Iterable[str],
                      now: datetime) -> None:
    """Mark triggers that were due together with a more severe one, so they never fire later."""
    for trigger in triggers:
        _insert_once(session, SmsMessage(
            account_id=recipient.account_id, contact_id=recipient.contact_id,
            campaign_id=recipient.campaign_id, e164=recipient.e164, trigger=trigger,
            template=trigger, language=recipient.language, body="",
            status=SmsStatus.SUPPRESSED, send_after=ensure_utc(now),
            error="superseded by a more severe text due at the same time"))


def fired_triggers(session: Session, account_id: int) -> frozenset[str]:
    rows = session.scalars(select(SmsMessage.trigger).where(SmsMessage.account_id == account_id,
                                                            SmsMessage.trigger.is_not(None)))
    return frozenset(trigger for trigger in rows if trigger is not None)


def texts_to_debtor(session: Session, debtor_id: int) -> list[datetime]:
    """Sent and still-queued texts to any account of the debtor: what the caps count."""
    rows = session.execute(
        select(SmsMessage.status, SmsMessage.sent_at, SmsMessage.send_after)
        .join(Account, Account.id == SmsMessage.account_id)
        .where(Account.debtor_id == debtor_id,
               SmsMessage.status.in_([SmsStatus.QUEUED, SmsStatus.SENT, SmsStatus.DELIVERED])))
    # a queued text counts at its planned time, a sent one when it went out
    return [send_after if status is SmsStatus.QUEUED or sent_at is None else sent_at
            for status, sent_at, send_after in rows]


def record_delivery(session: Session, report: DeliveryReport, gateway: str,
                    now: datetime) -> bool:
    """Apply a gateway's delivery report; False when no sent message has that reference."""
    row = session.scalar(select(SmsMessage).where(SmsMessage.gateway == gateway,
                                                  SmsMessage.gateway_ref == report.gateway_ref))
    if row is None:
        return False
    row.status = report.status
    if report.status is SmsStatus.DELIVERED:
        row.delivered_at = ensure_utc(now)
    row.error = report.error
    return True


@dataclass(frozen=True)
class DispatchResult:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    suppressed: int = 0


async def send_due(sessions: sessionmaker[Session], gateway: Gateway, *, clock: Clock,
                   window_for: Callable[[tuple[str, ...]], TextWindow],
                   limit: int = 100) -> DispatchResult:
    """Send up to `limit` queued texts whose time has come; returns what happened to them."""
    counts = {"sent": 0, "failed": 0, "deferred": 0, "suppressed": 0}
    handled: set[int] = set()
    for _ in range(limit):
        with transaction(sessions) as session:
            row = _next_due(session, clock.now(), handled)
            if row is None:
                break
            handled.add(row.id)
            verdict = _hold_back(session, row, clock.now(), window_for)
            if verdict is None:
                # lease the row and commit before the network call: no database lock (SQLite's
                # is database-wide) is held while the gateway answers
                row.send_after = clock.now() + SEND_LEASE
                message = OutgoingSms(str(row.id), row.e164, row.body)
        if verdict is not None:
            counts[verdict] += 1
            continue
        try:
            receipt, trouble = await gateway.send(message), None
        except SmsGatewayError as error:
            receipt, trouble = None, error
        with transaction(sessions) as session:
            counts[_record(session, int(message.message_id), receipt, trouble, clock.now())] += 1
    return DispatchResult(**counts)


def _next_due(session: Session, now: datetime, handled: set[int]) -> SmsMessage | None:
    query = select(SmsMessage).where(SmsMessage.status == SmsStatus.QUEUED,
                                     SmsMessage.send_after <= now)
    if handled:  # deferred in this run: do not pick them again
        query = query.where(SmsMessage.id.not_in(handled))
    query = (query.order_by(SmsMessage.send_after, SmsMessage.id).limit(1)
             .with_for_update(skip_locked=True))
    return session.scalar(query)


def _hold_back(session: Session, row: SmsMessage, now: datetime,
               window_for: Callable[[tuple[str, ...]], TextWindow]) -> str | None:
    """'suppressed' or 'deferred' (row updated) when the text must not go now; None to send."""
    account = session.get(Account, row.account_id) if row.account_id is not None else None
    if account is not None and account.status != "open":
        row.status, row.error = SmsStatus.SUPPRESSED, f"account {account.status} before sending"
        return "suppressed"
    contact = session.get(PhoneContact, row.contact_id) if row.contact_id is not None else None
    if contact is not None and (contact.suppressed or not contact.sms_consent):
        row.status, row.error = SmsStatus.SUPPRESSED, "contact suppressed or no SMS consent"
        return "suppressed"
    zones = tuple(contact.time_zones) if contact is not None and contact.time_zones else ()
    if not zones:
        # no zone means no way to honour quiet hours: hold it for a human, never guess
        row.status, row.error = SmsStatus.SUPPRESSED, "contact has no time zone"
        return "suppressed"
    window = window_for(zones)
    if not window.is_open(now):
        row.send_after = window.next_open(now)
        return "deferred"
    return None


def _record(session: Session, message_id: int, receipt: SendReceipt | None,
            trouble: SmsGatewayError | None, now: datetime) -> str:
    row = session.get_one(SmsMessage, message_id)
    if receipt is None:
        assert trouble is not None
        row.error = str(trouble)[:255]
        if not trouble.retryable:
            row.status = SmsStatus.FAILED
            return "failed"
        row.send_after = now + RETRY_AFTER
        return "deferred"
    row.status, row.gateway, row.gateway_ref = receipt.status, receipt.gateway, receipt.gateway_ref
    row.error = receipt.error[:255] if receipt.error else None
    if receipt.status is SmsStatus.SENT:
        row.sent_at = now
        return "sent"
    return "failed"


def _insert_once(session: Session, row: SmsMessage) -> bool:
    # a savepoint so a duplicate (another process fired it first) leaves the caller's
    # transaction usable
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return False
    return True
