"""What the caller meant: the intent vocabulary shared by the recogniser, the scripts and reports."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


class Intent(str, enum.Enum):
    PROMISE_NOW = "promise_now"          # paying now / today
    PROMISE_LATER = "promise_later"      # paying later, with a date when one was said
    PARTIAL_PAYMENT = "partial_payment"  # part of the amount, amount parsed when said
    REFUSE = "refuse"
    DISPUTE = "dispute"                  # not my debt / wrong amount: goes to a human
    HARDSHIP = "hardship"                # illness, quarantine, job loss, no money
    ALREADY_PAID = "already_paid"
    WRONG_NUMBER = "wrong_number"
    THIRD_PARTY = "third_party"          # someone else answered (relative, colleague)
    ASKS_HUMAN = "asks_human"
    CALLBACK = "callback"                # "call me at 6 pm" / "晚点打": a time to call back (may be absent)
    STOP_CALLING = "stop_calling"        # opt-out: DNC at once (47 CFR 64.1200(a)(10); GB/T 45251)
    AFFIRM = "affirm"                    # yes / speaking / that's me
    DENY = "deny"
    SILENCE = "silence"
    NOT_UNDERSTOOD = "not_understood"


PROMISES = frozenset({Intent.PROMISE_NOW, Intent.PROMISE_LATER, Intent.PARTIAL_PAYMENT})


@dataclass(frozen=True)
class Recognition:
    """One recognised caller turn.

    `willingness` (0..1) grades how strong a promise or refusal is: the seeds' example
    "我现在就去还" (0.95) > "我尽快还款" (0.6) > "过一会去" (0.5); hedges ("I'll try") score lower.
    """

    intent: Intent
    text: str = ""
    willingness: float | None = None
    amount: Decimal | None = None
    promised_date: date | None = None
    digits: str | None = None           # digits said or keyed (verification answers)
    hardship_kind: str | None = None    # illness / quarantine / job_loss / no_money
    tags: tuple[str, ...] = field(default=())
    callback_at: datetime | None = None  # CALLBACK: when, aware, in the debtor's zone (nlu_times)
