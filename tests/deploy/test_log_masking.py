"""Logs never carry a debtor's full phone number or an amount owed (log.mask_pii, on by default)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from dialer.logging_setup import (
    JsonLineFormatter,
    PiiMaskingFilter,
    configure_logging,
    mask_amounts,
    mask_field,
    mask_phone_numbers,
    mask_pii,
)
from dialer.money import Money


@pytest.mark.parametrize(("written", "logged"), [
    # E.164, compact and grouped: the country code and the last two digits stay.
    ("dialling +8613800138000 now", "dialling +86*********00 now"),
    ("+86 138 0013 8000", "+86 *** **** **00"),
    ("+1 (415) 555-2671", "+1 (***) ***-**71"),
    ("+44 20 7946 0958", "+44 ** **** **58"),
    ("+919876543210", "+91********10"),
    ("008613800138000", "0086*********00"),
    # Inside dial strings and channel names.
    ("PJSIP/+14155552671@carrier", "PJSIP/+1********71@carrier"),
    ("Local/13800138000@dialer-outbound/n", "Local/*********00@dialer-outbound/n"),
    # Chinese national formats, also inside Chinese text (no spaces around the number).
    ("13800138000", "*********00"),
    ("138-0013-8000", "***-****-**00"),
    ("号码13800138000已拨打", "号码*********00已拨打"),
    ("010-62345678", "***-******78"),
    ("0755 1234567", "**** *****67"),
    # North American national formats.
    ("(415) 555-2671", "(***) ***-**71"),
    ("415-555-2671", "***-***-**71"),
    ("415.555.2671", "***.***.**71"),
    ("4155552671", "********71"),
    ("1-415-555-2671", "*-***-***-**71"),
], ids=lambda value: value)
def test_given_a_phone_number_in_any_supported_format_when_masked_then_only_country_code_and_last_two_digits_show(
        written: str, logged: str) -> None:
    assert mask_phone_numbers(written) == logged


@pytest.mark.parametrize("text", [
    "attempt 123456 placed, channel PJSIP/carrier-00000004",
    "uniqueid 1732300000.123 at 2026-11-22 18:20:11.250",
    "ip 192.168.100.200 port 5060, epoch ms 1763800000123",
    "pacer wanted=3 placed=2 in 12.5 ms; 0.034 abandonment",
    "+123",   # too short to be a subscriber number
])
def test_given_ids_times_addresses_and_figures_when_masked_then_they_stay_readable(text: str) -> None:
    assert mask_pii(text) == text


@pytest.mark.parametrize(("written", "logged"), [
    ("¥1,234.50", "¥***"),
    ("￥88", "￥***"),
    ("$12", "$***"),
    ("US$1,000", "US$***"),
    ("£99.99 and €5", "£*** and €***"),
    ("USD 12.00", "USD ***"),
    ("1,234.50 CNY", "*** CNY"),
    ("300元", "***元"),
    ("还欠300元", "还欠***元"),
    ("金额：1,234.50元", "金额：***元"),
    ("balance=1234.5", "balance=***"),
    ('{"amount_due": 99.5}', '{"amount_due": ***}'),
    ("Money(minor=123450, currency='CNY')", "Money(minor=***, currency='CNY')"),
    ("promised to pay 200 tomorrow", "promised to pay *** tomorrow"),
    ("owes 3,000", "owes ***"),
    ("payment_due=2026-11-23", "payment_due=2026-11-23"),   # a date, not an amount
], ids=lambda value: value)
def test_given_an_amount_when_masked_then_neither_digits_nor_magnitude_show(written: str, logged: str) -> None:
    assert mask_amounts(written) == logged


def test_given_a_money_value_formatted_by_the_project_when_masked_then_the_amount_is_hidden() -> None:
    assert mask_pii(f"promise of {Money(123450, 'CNY')}") == "promise of *** CNY"


@pytest.mark.parametrize(("key", "value", "logged"), [
    ("e164", "+8613800138000", "+86*********00"),
    ("phone", "12345", "***"),            # a sensitive key hides its value even in an unknown format
    ("balance", 1234, "***"),
    ("amount", 12.5, "***"),
    ("attempt_id", 42, 42),
    ("campaign", "spring-m1", "spring-m1"),
    ("answered", True, True),
])
def test_given_extra_fields_when_masked_then_sensitive_keys_never_show_their_value(
        key: str, value: object, logged: object) -> None:
    assert mask_field(key, value) == logged


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("tests.deploy.masking")
    logger.propagate = False
    handler = configure_logging(logger=logger, stream=stream, level=logging.DEBUG)
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_given_the_default_setup_when_a_call_is_logged_then_one_json_line_has_the_masked_message_and_extras(
        captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured

    logger.info("originate %s for %s", "+8613800138000", "¥1,234.50",
                extra={"attempt_id": 7, "e164": "+8613800138000", "amount": 1234.5})

    [line] = lines(stream)
    assert line["msg"] == "originate +86*********00 for ¥***"
    assert (line["level"], line["logger"]) == ("INFO", "tests.deploy.masking")
    assert (line["attempt_id"], line["e164"], line["amount"]) == (7, "+86*********00", "***")
    assert str(line["ts"]).endswith("Z")
    assert "13800138000" not in stream.getvalue() and "1,234.50" not in stream.getvalue()


def test_given_an_exception_naming_a_number_when_logged_then_the_traceback_is_masked_too(
        captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise ValueError("cannot dial 13800138000: balance=99.5")
    except ValueError:
        logger.exception("import row failed")

    [line] = lines(stream)
    assert "ValueError: cannot dial *********00: balance=***" in str(line["exc"])
    assert "13800138000" not in stream.getvalue()


def test_given_mask_pii_off_when_logged_then_the_text_is_kept_verbatim() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.deploy.unmasked")
    logger.propagate = False
    handler = configure_logging(logger=logger, stream=stream, mask_pii=False, json_lines=False)
    try:
        logger.warning("dial %s", "+8613800138000")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert stream.getvalue().rstrip().endswith("WARNING tests.deploy.unmasked: dial +8613800138000")


def test_given_configure_logging_called_twice_then_one_handler_remains(
        captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, _ = captured
    second = configure_logging(logger=logger, stream=io.StringIO())
    try:
        assert [h for h in logger.handlers if isinstance(h.formatter, JsonLineFormatter)] == [second]
    finally:
        logger.removeHandler(second)


def test_given_a_record_passing_two_masking_handlers_then_it_is_masked_once_and_still_readable() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "call %s", ("13800138000",), None)
    masking = PiiMaskingFilter()

    assert masking.filter(record) and masking.filter(record)

    assert record.getMessage() == "call *********00"
