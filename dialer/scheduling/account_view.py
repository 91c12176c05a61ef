"""One account as a supervisor sees it: balance, stage, numbers, calls, promises, payments, texts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.db.models import (
    Attempt,
    Campaign,
    Conversation,
    Debtor,
    Payment,
    PhoneContact,
    PromiseToPay,
    SmsMessage,
)
from dialer.scheduling.payments import find_account, outstanding


def account_details(session: Session, reference: str) -> dict[str, Any]:
    account = find_account(session, reference)
    debtor = session.get_one(Debtor, account.debtor_id)
    campaign = session.get(Campaign, account.campaign_id) if account.campaign_id else None
    attempts = list(session.scalars(select(Attempt).where(Attempt.account_id == account.id)
                                    .order_by(Attempt.placed_at, Attempt.id)))
    ids = [a.id for a in attempts]
    conversations = list(session.scalars(
        select(Conversation).where(Conversation.attempt_id.in_(ids)).order_by(Conversation.id))) if ids else []
    return {
        "account": {
            "id": account.id, "external_id": account.external_id, "status": account.status,
            "campaign": campaign.name if campaign else None, "stage": account.stage,
            "currency": account.currency, "amount_due_minor": account.amount_due_minor,
            "outstanding_minor": outstanding(session, account),
            "minimum_payment_minor": account.minimum_payment_minor, "due_date": account.due_date,
            "days_past_due": account.days_past_due, "dpd_as_of": account.dpd_as_of,
            "priority": account.priority, "next_eligible_at": account.next_eligible_at,
            "attempts_count": len(attempts), "paid_at": account.paid_at,
        },
        "debtor": {"external_id": debtor.external_id, "full_name": debtor.full_name,
                   "language": debtor.language},
        "contacts": [
            {"id": c.id, "e164": c.e164, "owner": c.owner.value, "relation": c.relation,
             "rank": c.rank, "time_zones": list(c.time_zones or []),
             "autodialer_consent": c.autodialer_consent, "sms_consent": c.sms_consent,
             "valid": c.valid, "suppressed": c.suppressed, "suppressed_reason": c.suppressed_reason}
            for c in session.scalars(select(PhoneContact).where(PhoneContact.debtor_id == debtor.id)
                                     .order_by(PhoneContact.rank, PhoneContact.id))],
        "attempts": [
            {"id": a.id, "placed_at": a.placed_at, "e164": a.e164, "state": a.state.value,
             "outcome": a.outcome.value if a.outcome else None,
             "route": a.route.value if a.route else None, "talk_seconds": a.talk_seconds,
             "conversation": a.conversation, "abandoned": a.abandoned, "script": a.script,
             "hangup_cause": a.hangup_cause_text}
            for a in attempts],
        "conversations": [
            {"attempt_id": c.attempt_id, "party": c.party.value, "handled_by": c.handled_by,
             "verified": c.verified, "disposition": c.disposition, "intents": list(c.intents or []),
             "callback_at": c.callback_at, "opt_out": c.opt_out,
             "transcript": list(c.transcript or [])}
            for c in conversations],
        "promises": [
            {"id": p.id, "amount_minor": p.amount_minor, "currency": p.currency,
             "promised_date": p.promised_date, "status": p.status.value, "confirmed": p.confirmed,
             "created_at": p.created_at, "resolved_at": p.resolved_at}
            for p in session.scalars(select(PromiseToPay).where(PromiseToPay.account_id == account.id)
                                     .order_by(PromiseToPay.id))],
        "payments": [
            {"amount_minor": p.amount_minor, "currency": p.currency, "paid_at": p.paid_at,
             "external_ref": p.external_ref}
            for p in session.scalars(select(Payment).where(Payment.account_id == account.id)
                                     .order_by(Payment.paid_at, Payment.id))],
        "texts": [
            {"trigger": m.trigger, "status": m.status.value, "send_after": m.send_after,
             "sent_at": m.sent_at, "error": m.error}
            for m in session.scalars(select(SmsMessage).where(SmsMessage.account_id == account.id)
                                     .order_by(SmsMessage.id))],
    }
