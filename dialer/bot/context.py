"""Everything the bot needs to know about one call, and the two ports through which a process
supplies it (`CallContextProvider`) and receives the finished record (`OutcomeSink`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from dialer.bot.money import integer_words, speak_amount
from dialer.bot.record import CallRecord
from dialer.bot.speech_text import speak_date, speak_digits

# Seed 001's stages by days past due; thresholds are campaign settings, these are the defaults.
DEFAULT_REMINDER_MAX_DPD = 3
DEFAULT_WILLINGNESS_MAX_DPD = 5


@dataclass(frozen=True)
class StageThresholds:
    reminder_max_dpd: int = DEFAULT_REMINDER_MAX_DPD       # 1-3: friendly reminder
    willingness_max_dpd: int = DEFAULT_WILLINGNESS_MAX_DPD  # 4-5: willingness; above: escalation

    def stage(self, dpd: int) -> str:
        if dpd <= self.reminder_max_dpd:
            return "reminder"
        if dpd <= self.willingness_max_dpd:
            return "willingness"
        return "escalation"


@dataclass(frozen=True)
class CallContext:
    attempt_id: str
    campaign_id: str
    debtor_name: str
    amount_due: Decimal
    currency: str
    due_date: date
    dpd: int
    today: date                       # the debtor's local date: promise dates resolve against it
    language: str = "zh-CN"
    script: str = "collection"
    verification_kind: str = "birth_year"     # birth_year | card_last4 | id_last4
    verification_answer: str = ""
    reward_offer: bool = False
    voice: str = "default"
    business_name: str = ""
    callback_number: str = ""
    minimum_payment: Decimal | None = None
    interest_amount: Decimal | None = None
    agent_queue: str = "collections"
    # A bot-only campaign has no agents: a hand-off then promises a call back instead of "please hold"
    # (and a queue nobody staffs ending in the identification message).
    agents_available: bool = True
    thresholds: StageThresholds = field(default_factory=StageThresholds)
    time_zone: str = "UTC"                    # the debtor's IANA zone: callback times are said in it
    answered_at: datetime | None = None       # aware; callback times ("in two hours") resolve against it

    @property
    def stage(self) -> str:
        return self.thresholds.stage(self.dpd)

    def spoken_variables(self) -> dict[str, str]:
        """Prompt variables, already in words for the TTS (amounts, dates, phone numbers)."""
        lang = self.language
        minimum = self.minimum_payment if self.minimum_payment is not None else self.amount_due
        interest = self.interest_amount if self.interest_amount is not None else Decimal("0")
        return {
            "debtor_name": self.debtor_name,
            "business": self.business_name,
            "callback_number": speak_digits(self.callback_number, lang) if self.callback_number else "",
            "amount": speak_amount(self.amount_due, self.currency, lang),
            "minimum_payment": speak_amount(minimum, self.currency, lang),
            "interest": speak_amount(interest, self.currency, lang),
            "due_date": speak_date(self.due_date, lang, with_weekday=False),
            "dpd": integer_words(self.dpd, lang),
        }


    def printed_variables(self) -> dict[str, str]:
        """The same facts for text channels (SMS templates): figures, not words."""
        minimum = self.minimum_payment if self.minimum_payment is not None else self.amount_due
        return {"debtor_name": self.debtor_name, "business": self.business_name,
                "callback_number": self.callback_number, "amount": f"{self.amount_due:.2f}",
                "minimum_payment": f"{minimum:.2f}", "currency": self.currency,
                "due_date": self.due_date.isoformat(), "dpd": str(self.dpd)}


class CallContextProvider(Protocol):
    async def context_for(self, attempt_id: str, campaign_id: str) -> CallContext:
        """The context of one answered call; raises LookupError when the attempt is unknown."""
        ...


class OutcomeSink(Protocol):
    async def record_outcome(self, context: CallContext, record: CallRecord) -> None:
        """Store the finished call (disposition, promise, opt-out, transcript)."""
        ...
