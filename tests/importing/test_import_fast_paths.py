"""The importer's phone and amount fast paths give exactly what the full parses give.

A fast path that differs from libphonenumber on one number would store a wrong E.164 or zone, and
the gate would then call a debtor at the wrong local hour: every shape the fast paths accept is
compared here with the full parse, over every mobile prefix and many random numbers.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import timezone as number_zones

from dialer.importing.accounts import read_amount
from dialer.importing.phones import NormalisedPhone, PhoneError, fast_parse, normalise
from dialer.money import MoneyError, parse_amount

REGIONS = ("CN", "US", "GB", "HK")


def library_normalise(raw: str, region: str) -> NormalisedPhone | str:
    """The obvious slow path: parse, is_valid_number, time_zones_for_number, format."""
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        return "not a number"
    if not phonenumbers.is_valid_number(parsed):
        return "invalid"
    zones = tuple(z for z in number_zones.time_zones_for_number(parsed) if z != "Etc/Unknown")
    return NormalisedPhone(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), zones)


def importer_normalise(raw: str, region: str) -> NormalisedPhone | str:
    try:
        return normalise(raw, region=region)
    except PhoneError as exc:
        return "not a number" if "is not a phone number" in str(exc) else "invalid"


def _styles(digits: str, country: str) -> list[str]:
    a, b, c = (digits[:3], digits[3:7], digits[7:]) if country == "86" else (digits[:3], digits[3:6], digits[6:])
    plus = f"+{country}"
    return [digits, plus + digits, f"{plus} {a} {b} {c}", f"{a}-{b}-{c}", f"{plus}-{a}-{b}-{c}", f"{plus} {digits}",
            f"{a} {b}-{c}", f"{plus}{a}-{b} {c}", f" {plus}{digits} ", f"({a}) {b}-{c}", f"{plus}.{a}.{b}.{c}",
            f"{plus}{digits}0", digits[:-1], f"{plus}  {digits}"]


def generated_numbers(count: int) -> list[tuple[str, str]]:
    """Every CN prefix 100-199 and NANP-like numbers, in the shapes files use and some they don't."""
    rng = random.Random(2026)
    numbers = []
    for prefix in range(100, 200):
        for _ in range(count // 200):
            digits = f"{prefix}{rng.randint(0, 99_999_999):08d}"
            numbers += [(text, rng.choice(REGIONS)) for text in _styles(digits, "86")]
    for _ in range(count // 2):
        digits = f"{rng.randint(0, 999):03d}{rng.randint(0, 9_999_999):07d}"
        numbers += [(text, rng.choice(REGIONS)) for text in _styles(digits, "1")]
    return numbers


def test_given_common_and_odd_shapes_when_fast_parsed_then_the_number_is_the_full_parses_or_none() -> None:
    fast = 0
    for text, region in generated_numbers(4000):
        got = fast_parse(text, region)
        if got is None:
            continue
        fast += 1
        assert got == phonenumbers.parse(text, region), (text, region)
    assert fast > 10_000  # the fast path really ran, on both CN and NANP shapes


def test_given_generated_numbers_when_normalised_then_e164_validity_and_zones_equal_libphonenumbers() -> None:
    numbers = generated_numbers(2000)
    valid = 0
    for text, region in numbers:
        expected = library_normalise(text, region)
        assert importer_normalise(text, region) == expected, (text, region)
        assert importer_normalise(text, region) == expected, (text, region)   # again: from the cache
        valid += isinstance(expected, NormalisedPhone)
    assert valid > len(numbers) // 4 and valid < len(numbers)  # both outcomes are covered


def test_given_the_same_bad_number_with_other_spacing_when_normalised_then_each_error_quotes_its_own_text() -> None:
    with pytest.raises(PhoneError, match="'12345' is not a valid phone number for region CN"):
        normalise("12345", region="CN")
    with pytest.raises(PhoneError, match="' 12345 ' is not a valid phone number for region CN"):
        normalise(" 12345 ", region="CN")


def test_given_a_national_cn_mobile_in_another_region_then_the_full_parse_decides() -> None:
    assert fast_parse("13812345678", "US") is None
    assert fast_parse("+8613812345678", "US") == phonenumbers.parse("+8613812345678", "US")


def _amount_texts(rng: random.Random) -> list[str]:
    minor = rng.choice([rng.randint(0, 999), rng.randint(0, 10**9), rng.randint(0, 10**14)])
    whole, cents = divmod(minor, 100)
    return [f"{whole}.{cents:02d}", str(whole), f"{whole}.{cents % 10}", f"{whole}.{cents:02d}0", f"+{whole}.{cents:02d}",
            f"{whole:,}.{cents:02d}", f"¥{whole:,}.{cents:02d}", f"{whole}.{cents:02d} CNY", f"-{whole}.{cents:02d}",
            f"{whole}.", f".{cents:02d}", f"0{whole}.{cents:02d}", f"{whole}.{cents:02d}\n", "١٢٣.٤٥", "１２３.４５",
            f"${whole:,}.{cents:02d}", f"￥{whole:,}", f"¥ {whole}", f"{whole} USD", f"{whole}.{cents:02d} JPY",
            f"{whole}.{cents:02d} RMB", f"¥{whole}.{cents:02d} USD", f"{whole}.{cents:02d} cny", f"{whole:,}.{cents:02d} XYZ",
            f"{whole}.{cents:02d}  CNY", f"{whole}.{cents:02d}¥", f"US${whole}", f"$0,{whole % 1000:03d}.00",
            f"{whole}{cents:02d},000", f"{whole:_}"]


@pytest.mark.parametrize("currency", ["CNY", "USD", "JPY", "KRW", "XYZ"])
def test_given_amount_texts_when_read_then_the_minor_units_or_error_are_parse_amounts(currency: str) -> None:
    rng = random.Random(currency)
    for _ in range(3000):
        for text in _amount_texts(rng):
            try:
                expected: object = parse_amount(text, default_currency=currency)
            except MoneyError as exc:
                expected = str(exc)
            try:
                got: object = read_amount(text, currency)
            except MoneyError as exc:
                got = str(exc)
            assert got == expected, (text, currency)
