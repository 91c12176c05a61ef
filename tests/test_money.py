"""Money parses to integer minor units with its currency, never float, and refuses ambiguity."""

from __future__ import annotations

import pytest

from dialer.money import Money, MoneyError, parse_amount


@pytest.mark.parametrize(("text", "expected"), [
    ("1234.50", Money(123450, "CNY")), ("¥1,234.50", Money(123450, "CNY")), ("1234.5 CNY", Money(123450, "CNY")),
    ("$12", Money(1200, "USD")), ("USD 0.99", Money(99, "USD")), ("£3.10", Money(310, "GBP")),
    ("1000 JPY", Money(1000, "JPY")),
])
def test_given_common_amount_spellings_then_minor_units_are_exact(text: str, expected: Money) -> None:
    assert parse_amount(text, default_currency="CNY") == expected


@pytest.mark.parametrize("text", ["", "abc", "-5", "1.234", "12.5 JPY", "1,23.00"])
def test_given_a_bad_amount_then_it_is_refused(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_amount(text, default_currency="CNY")
