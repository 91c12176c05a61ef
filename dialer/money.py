"""Money as integer minor units with an ISO 4217 currency: never float.

`parse_amount("¥1,234.50", default_currency="CNY")` -> Money(123450, "CNY").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Minor-unit exponents for the currencies our users bill in; others default to 2.
_EXPONENT = {"CNY": 2, "USD": 2, "GBP": 2, "EUR": 2, "HKD": 2, "JPY": 0, "KRW": 0, "INR": 2}
_SYMBOLS = {"¥": "CNY", "￥": "CNY", "元": "CNY", "RMB": "CNY", "$": "USD", "US$": "USD",
            "£": "GBP", "€": "EUR", "HK$": "HKD", "₹": "INR"}
_AMOUNT = re.compile(r"^[+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


class MoneyError(ValueError):
    pass


@dataclass(frozen=True)
class Money:
    minor: int
    currency: str

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-exponent(self.currency))

    def __str__(self) -> str:
        return f"{self.decimal:,.{exponent(self.currency)}f} {self.currency}"


def exponent(currency: str) -> int:
    return _EXPONENT.get(currency.upper(), 2)


def parse_amount(text: str, *, default_currency: str) -> Money:
    """Parse '1,234.50', '¥1234.5', '1234.50 CNY', 'USD 12' into minor units; reject ambiguity."""
    raw = text.strip()
    if not raw:
        raise MoneyError("empty amount")
    currency = None
    for symbol in sorted(_SYMBOLS, key=len, reverse=True):
        if raw.startswith(symbol) or raw.endswith(symbol):
            currency = _SYMBOLS[symbol]
            raw = raw.removeprefix(symbol).removesuffix(symbol).strip()
            break
    code = re.match(r"^([A-Za-z]{3})\s+(.+)$", raw) or re.match(r"^(.+?)\s+([A-Za-z]{3})$", raw)
    if code:
        a, b = code.groups()
        letters, raw = (a, b) if a.isalpha() else (b, a)
        currency = letters.upper()
    raw = raw.strip()
    if raw.startswith("-"):
        raise MoneyError(f"negative amount {text!r}")
    if not _AMOUNT.match(raw):
        raise MoneyError(f"not an amount: {text!r}")
    currency = currency or default_currency.upper()
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        raise MoneyError(f"not an amount: {text!r}") from None
    exp = exponent(currency)
    minor = value.scaleb(exp)
    if minor != minor.to_integral_value():
        raise MoneyError(f"{text!r} has more decimals than {currency} allows ({exp})")
    return Money(int(minor), currency)
