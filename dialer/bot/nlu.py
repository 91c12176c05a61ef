"""Intent recognition on recognised text and keyed digits, zh-CN and en-US.

Rule-based on purpose: the phrases are data a compliance reviewer can read, a miss is explainable,
and recognition takes microseconds (the turn budget is 300 ms). Rules are tried in a fixed priority:
opt-out and requests for a human win over everything (they must always be honoured), then who is on
the line, then what they say about the debt, then promises, then yes/no.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from dialer.bot import nlu_en, nlu_zh
from dialer.bot.intents import Intent, Recognition
from dialer.bot.nlu_numbers import spoken_digits


def recognise(text: str | None, language: str, today: date, *, digits: str | None = None,
              keys: dict[str, Intent] | None = None, amount_due: Decimal | None = None,
              now: datetime | None = None) -> Recognition:
    """Classify one caller turn. `digits` (DTMF) wins over speech; `keys` maps a key to its intent for
    this question. `amount_due` lets an amount below the balance count as a partial payment. `now` is
    the caller's local time (aware, the debtor's zone): callback times ("at 6 pm") resolve against it."""
    if digits:
        return _recognise_keys(digits, keys or {})
    text = (text or "").strip()
    if not text:
        return Recognition(Intent.SILENCE, willingness=None)
    rules = nlu_zh if language.lower().startswith("zh") else nlu_en
    result = rules.classify(text, today, now)
    said_digits = spoken_digits(text, language)
    if result.intent in (Intent.PROMISE_NOW, Intent.PROMISE_LATER) and result.amount is not None \
            and amount_due is not None and result.amount < amount_due:
        result = replace(result, intent=Intent.PARTIAL_PAYMENT, tags=result.tags + (result.intent.value,))
    return replace(result, text=text, digits=said_digits)


def _recognise_keys(digits: str, keys: dict[str, Intent]) -> Recognition:
    first = digits[0]
    if first in keys and len(digits) == 1:
        return Recognition(keys[first], text=f"[DTMF {digits}]", digits=digits,
                           willingness=_KEY_WILLINGNESS.get(keys[first]))
    # Several keys, or a key with no meaning here: an answer such as a birth year or card tail.
    clean = re.sub(r"[^0-9]", "", digits)
    return Recognition(Intent.NOT_UNDERSTOOD, text=f"[DTMF {digits}]", digits=clean or None)


_KEY_WILLINGNESS = {Intent.PROMISE_NOW: 0.95, Intent.PROMISE_LATER: 0.7, Intent.REFUSE: 0.05}
