"""What an agent sees: a previewed account, the call they are on, the bot's hand-off context.

Pure read-side shaping (a session in, plain dicts out), shared by the HTTP API and the CLI. Phone
numbers are masked (console.py says why); amounts are shown in full.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.db.models import Account, Attempt, Campaign, Debtor, PhoneContact, PromiseToPay
from dialer.domain import PromiseStatus
from dialer.logging_setup import mask_phone_numbers
from dialer.money import Money
from dialer.telephony.tracker import TrackedCall

RECENT_ATTEMPTS = 5


def masked(e164: str) -> str:
    return mask_phone_numbers(e164)


def account_view(session: Session, account: Account, *, now: datetime) -> dict[str, Any]:
    debtor = session.get(Debtor, account.debtor_id)
    assert debtor is not None
    contacts = session.scalars(select(PhoneContact).where(
        PhoneContact.debtor_id == account.debtor_id, PhoneContact.valid.is_(True),
        PhoneContact.suppressed.is_(False)).order_by(PhoneContact.owner, PhoneContact.rank))
    recent = session.execute(select(Attempt.placed_at, Attempt.e164, Attempt.outcome, Attempt.conversation)
                             .where(Attempt.debtor_id == account.debtor_id)
                             .order_by(Attempt.placed_at.desc()).limit(RECENT_ATTEMPTS)).all()
    promise = session.scalar(select(PromiseToPay).where(PromiseToPay.account_id == account.id,
                                                        PromiseToPay.status == PromiseStatus.OPEN)
                             .order_by(PromiseToPay.promised_date.desc()).limit(1))
    return {
        "account": {"id": account.id, "ref": account.external_id, "product": account.product,
                    "amount_due": str(Money(account.amount_due_minor, account.currency).decimal),
                    "currency": account.currency, "due_date": account.due_date.isoformat(),
                    "days_past_due": account.days_past_due, "stage": account.stage},
        "debtor": {"id": debtor.id, "ref": debtor.external_id, "name": debtor.full_name,
                   "language": debtor.language},
        "contacts": [{"contact_id": c.id, "number": masked(c.e164), "owner": c.owner.value,
                      "relation": c.relation, "name": c.name} for c in contacts],
        "recent_attempts": [{"at": at.isoformat(), "number": masked(e164), "outcome": outcome.value if outcome else None,
                             "conversation": conversation} for at, e164, outcome, conversation in recent],
        "open_promise": None if promise is None else {
            "amount": str(Money(promise.amount_minor, promise.currency).decimal), "currency": promise.currency,
            "date": promise.promised_date.isoformat(), "confirmed": promise.confirmed},
    }


def call_view(session: Session, attempt: Attempt, call: TrackedCall, *, now: datetime) -> dict[str, Any]:
    account = session.get(Account, attempt.account_id)
    campaign = session.get(Campaign, attempt.campaign_id)
    assert account is not None and campaign is not None
    lc = call.lifecycle
    since = lc.connected_at or lc.answered_at or call.placed_at
    return {
        "call": {"attempt_id": attempt.id, "campaign": campaign.name, "state": lc.state.value,
                 "number": masked(attempt.e164), "routes": [r.value for r in lc.routes],
                 "seconds_in_state": round((now - since).total_seconds(), 1),
                 "recording": attempt.recording_path},
        **account_view(session, account, now=now),
    }


def handoff_context(variables: Mapping[str, str]) -> dict[str, Any]:
    """The bot's DIALER_CTX_* channel variables as {key: value}; `from_bot` when the bot transferred."""
    context = {name[len("DIALER_CTX_"):].lower(): value for name, value in variables.items()
               if name.startswith("DIALER_CTX_") and value}
    return {"from_bot": variables.get("DIALER_BOT_RESULT") == "transfer",
            "disposition": variables.get("DIALER_BOT_DISPOSITION") or None, **context}
