"""The bot's two ports on the database: who is on the line (`DbCallContextProvider`) and what the
call produced (`DbOutcomeSink`): conversation, promise to pay, opt-out, suppression, next step.

The bot runs in its own process (`dialer agi-server`); the attempt id Asterisk hands it on the
channel is the only key. An effective conversation (right party, identity verified) is written on
the attempt row at once, because the cn cap counts conversations per debtor per day.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer import attempts
from dialer.bot.context import CallContext
from dialer.bot.record import CallRecord
from dialer.bot.record import Disposition as BotDisposition
from dialer.clock import Clock
from dialer.daemon.aftercall import schedule_next
from dialer.db.models import Account, Attempt, AuditEntry, Campaign, Conversation, Debtor, PhoneContact, PromiseToPay
from dialer.db.session import transaction
from dialer.domain import ContactOwner, Party
from dialer.money import exponent
from dialer.strategy.retry import Disposition

# The bot's vocabulary → the retry rules' vocabulary (dialer/strategy/retry.py).
TO_STRATEGY: dict[BotDisposition, Disposition] = {
    BotDisposition.PROMISE_TO_PAY: Disposition.PROMISE,
    BotDisposition.ALREADY_PAID: Disposition.PAID,
    BotDisposition.REFUSED: Disposition.REFUSED,
    BotDisposition.DISPUTE: Disposition.DISPUTE,
    BotDisposition.HARDSHIP: Disposition.HARDSHIP,
    BotDisposition.REMINDED: Disposition.CALLBACK_REQUESTED,
    BotDisposition.THIRD_PARTY_MESSAGE: Disposition.CALLBACK_REQUESTED,
    BotDisposition.THIRD_PARTY_REFUSED: Disposition.CALLBACK_REQUESTED,
    BotDisposition.WRONG_NUMBER: Disposition.WRONG_NUMBER,
    BotDisposition.OPTED_OUT: Disposition.OPT_OUT,
    BotDisposition.HANDED_OFF: Disposition.HARDSHIP,
    BotDisposition.VERIFICATION_FAILED: Disposition.CALLBACK_REQUESTED,
    BotDisposition.NO_RESPONSE: Disposition.NO_ANSWER,
    BotDisposition.HUNG_UP: Disposition.CALLBACK_REQUESTED,
    BotDisposition.CALLBACK_REQUESTED: Disposition.CALLBACK_REQUESTED,
}


class DbCallContextProvider:
    def __init__(self, *, sessions: sessionmaker[Session], clock: Clock, business_name: str,
                 callback_number: str) -> None:
        self._sessions = sessions
        self._clock = clock
        self._business = business_name
        self._callback = callback_number

    async def context_for(self, attempt_id: str, campaign_id: str) -> CallContext:
        return await asyncio.to_thread(self._load, int(attempt_id))

    def _load(self, attempt_id: int) -> CallContext:
        with self._sessions() as session:
            row = session.execute(
                select(Attempt, Account, Debtor, Campaign, PhoneContact)
                .join(Account, Account.id == Attempt.account_id).join(Debtor, Debtor.id == Attempt.debtor_id)
                .join(Campaign, Campaign.id == Attempt.campaign_id)
                .join(PhoneContact, PhoneContact.id == Attempt.contact_id)
                .where(Attempt.id == attempt_id)).one_or_none()
            if row is None:
                raise LookupError(f"attempt {attempt_id} not found")
            attempt, account, debtor, campaign, contact = row
            zone = (contact.time_zones or ["UTC"])[0]
            scale = Decimal(10) ** -exponent(account.currency)
            return CallContext(
                attempt_id=str(attempt.id), campaign_id=str(campaign.id), debtor_name=debtor.full_name,
                amount_due=Decimal(account.amount_due_minor) * scale, currency=account.currency,
                due_date=account.due_date, dpd=account.days_past_due,
                today=self._clock.now().astimezone(ZoneInfo(zone)).date(),
                language=debtor.language or campaign.language, script="collection",
                verification_kind="birth_year" if debtor.birth_year else "id_last4",
                verification_answer=str(debtor.birth_year or debtor.id_last4 or ""),
                reward_offer=campaign.reward_offer, voice=attempt.voice or "default",
                business_name=self._business, callback_number=campaign.caller_id or self._callback,
                minimum_payment=(Decimal(account.minimum_payment_minor) * scale
                                 if account.minimum_payment_minor is not None else None),
                agent_queue=campaign.queue.name if campaign.queue else "collections",
                agents_available=campaign.queue is not None,
                # "Call me at 6 pm" is heard in the zone the call's local date came from.
                time_zone=zone, answered_at=self._clock.now(),
            )


class DbOutcomeSink:
    def __init__(self, *, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def record_outcome(self, context: CallContext, record: CallRecord) -> None:
        await asyncio.to_thread(self.store, int(context.attempt_id), record)

    def store(self, attempt_id: int, record: CallRecord) -> None:
        now = self._clock.now()
        with transaction(self._sessions) as session:
            attempt = session.get(Attempt, attempt_id)
            if attempt is None:
                raise LookupError(f"attempt {attempt_id} not found")
            strategy = TO_STRATEGY.get(record.disposition) if record.disposition else None
            if session.scalar(select(Conversation.id).where(Conversation.attempt_id == attempt_id)) is None:
                session.add(Conversation(
                    attempt_id=attempt_id, party=record.party, handled_by="bot", language=record.language,
                    verified=record.verified, disposition=strategy.value if strategy else None,
                    intents=list(record.intents), willingness=record.willingness, score=record.collection_score,
                    transcript=[{"who": t.speaker, "text": t.text, "node": t.node, "intent": t.intent}
                                for t in record.transcript],
                    opt_out=record.opt_out, handoff_reason=record.handoff_reason, created_at=now,
                    # UTC; with disposition callback_requested the retry rules make it next_eligible_at.
                    callback_at=record.callback_at))
            # cn GB/T 45251 counts effective conversations with the debtor: right party, verified.
            if record.party is Party.DEBTOR and record.verified:
                attempt.conversation = True
            if record.promise is not None:
                scale = 10 ** exponent(record.promise.currency)
                session.add(PromiseToPay(
                    account_id=attempt.account_id, attempt_id=attempt_id,
                    amount_minor=int(record.promise.amount * scale), currency=record.promise.currency,
                    promised_date=record.promise.due, confirmed=record.promise.confirmed, created_at=now))
                account = session.get(Account, attempt.account_id)
                if account is not None:
                    # Parked until the day after the promised date; a broken promise re-enters then.
                    due = datetime.combine(record.promise.due + timedelta(days=1), datetime.min.time(),
                                           tzinfo=now.tzinfo)
                    account.next_eligible_at = max(due, account.next_eligible_at or due)
            if record.opt_out:
                attempts.opt_out(session, contact_id=attempt.contact_id, campaign_id=attempt.campaign_id,
                                 source="bot", at=now)
            if record.suppress_contact:
                contact = session.get(PhoneContact, attempt.contact_id)
                if contact is not None and contact.owner is ContactOwner.THIRD_PARTY:
                    contact.suppressed, contact.suppressed_reason = True, "third party refused"
            session.add(AuditEntry(at=now, actor="bot", kind="conversation", campaign_id=attempt.campaign_id,
                                   account_id=attempt.account_id, contact_id=attempt.contact_id,
                                   attempt_id=attempt_id,
                                   detail={"disposition": record.disposition.value if record.disposition else None,
                                           "party": record.party.value, "verified": record.verified,
                                           "disclosed": record.disclosed, "opt_out": record.opt_out,
                                           "callback_at": (record.callback_at.isoformat()
                                                           if record.callback_at else None)}))
            if attempt.outcome is not None and record.promise is None:
                schedule_next(session, attempt_id, now=now)
