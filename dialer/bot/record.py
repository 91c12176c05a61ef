"""The call record the bot leaves after every call: it feeds strategy (retry, SMS, escalation) and reports."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dialer.domain import Party


class Disposition(str, enum.Enum):
    PROMISE_TO_PAY = "promise_to_pay"
    ALREADY_PAID = "already_paid"
    REFUSED = "refused"
    DISPUTE = "dispute"
    HARDSHIP = "hardship"
    REMINDED = "reminded"                    # informed, no promise obtained
    THIRD_PARTY_MESSAGE = "third_party_message"
    THIRD_PARTY_REFUSED = "third_party_refused"   # suppresses that contact (GB/T 45251)
    WRONG_NUMBER = "wrong_number"
    OPTED_OUT = "opted_out"
    HANDED_OFF = "handed_off"
    VERIFICATION_FAILED = "verification_failed"
    NO_RESPONSE = "no_response"
    HUNG_UP = "hung_up"
    CALLBACK_REQUESTED = "callback_requested"   # "call me at 6 pm": callback_at holds when (UTC)


@dataclass(frozen=True)
class Turn:
    speaker: str           # "bot" or "caller"
    text: str
    node: str
    intent: str | None = None


@dataclass
class PromiseToPay:
    amount: Decimal
    currency: str
    due: date
    confirmed: bool = False


@dataclass
class CallRecord:
    attempt_id: str
    script: str
    language: str
    transcript: list[Turn] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    willingness: float | None = None
    promise: PromiseToPay | None = None
    disposition: Disposition | None = None
    party: Party = Party.UNKNOWN
    verified: bool = False
    opt_out: bool = False
    suppress_contact: bool = False
    handoff_reason: str | None = None
    transferred_to: str | None = None
    sms: list[str] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    disclosed: bool = False
    collection_score: int | None = None
    hardship_kind: str | None = None
    prompts_played: list[str] = field(default_factory=list)   # prompt ids as sent to Asterisk (audit)
    callback_at: datetime | None = None     # UTC; the time the caller asked to be called back

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["party"] = self.party.value
        data["disposition"] = self.disposition.value if self.disposition else None
        data["callback_at"] = self.callback_at.isoformat() if self.callback_at else None
        if self.promise:
            data["promise"] = {"amount": str(self.promise.amount), "currency": self.promise.currency,
                               "due": self.promise.due.isoformat(), "confirmed": self.promise.confirmed}
        return data


# Seed 001: "after each call a collection score and intent tags so humans can pick accounts".
# A transparent heuristic (0-100, higher = likelier to pay soon) until enough outcomes exist to fit one.
_BASE_SCORE = {
    Disposition.ALREADY_PAID: 95, Disposition.PROMISE_TO_PAY: 70, Disposition.REMINDED: 45,
    Disposition.HARDSHIP: 30, Disposition.HANDED_OFF: 35, Disposition.DISPUTE: 15, Disposition.REFUSED: 5,
    Disposition.THIRD_PARTY_MESSAGE: 20, Disposition.NO_RESPONSE: 20, Disposition.HUNG_UP: 15,
    Disposition.VERIFICATION_FAILED: 15, Disposition.OPTED_OUT: 5, Disposition.THIRD_PARTY_REFUSED: 5,
    Disposition.WRONG_NUMBER: 0, Disposition.CALLBACK_REQUESTED: 40,
}


def collection_score(record: CallRecord) -> int:
    score = _BASE_SCORE.get(record.disposition, 20) if record.disposition else 20
    if record.willingness is not None and record.disposition in (Disposition.PROMISE_TO_PAY, Disposition.REMINDED,
                                                                  Disposition.HANDED_OFF):
        score += round((record.willingness - 0.5) * 40)
    if record.promise and record.promise.confirmed:
        score += 5
    return max(0, min(100, score))
