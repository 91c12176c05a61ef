from datetime import date
from decimal import Decimal

import pytest

from dialer.bot.money import en_integer, speak_amount, zh_integer
from dialer.bot.speech_text import en_ordinal, speak_date, speak_digits


def test_given_1234_50_cny_when_spoken_in_mandarin_then_yuan_and_jiao():
    assert speak_amount(Decimal("1234.50"), "CNY", "zh-CN") == "一千二百三十四元五角"


def test_given_1234_50_usd_when_spoken_in_english_then_dollars_and_cents():
    assert speak_amount("1234.50", "USD", "en-US") == "one thousand two hundred thirty-four dollars and fifty cents"


@pytest.mark.parametrize("value,words", [
    (0, "零"), (10, "十"), (15, "十五"), (105, "一百零五"), (110, "一百一十"), (1005, "一千零五"),
    (10010, "一万零一十"), (20005, "二万零五"), (100000, "十万"), (1200000, "一百二十万"),
])
def test_given_integers_with_inner_zeros_when_read_in_mandarin_then_ling_is_inserted_once(value, words):
    assert zh_integer(value) == words


@pytest.mark.parametrize("value,words", [
    (0, "zero"), (13, "thirteen"), (40, "forty"), (99, "ninety-nine"), (100, "one hundred"),
    (1001, "one thousand one"), (2500000, "two million five hundred thousand"),
])
def test_given_integers_when_read_in_english_then_words_without_and(value, words):
    assert en_integer(value) == words


def test_given_fen_only_amounts_when_spoken_then_zero_parts_are_left_out():
    assert speak_amount("0.05", "CNY", "zh-CN") == "五分"
    assert speak_amount("1.01", "CNY", "zh-CN") == "一元零一分"
    assert speak_amount("1.00", "USD", "en-US") == "one dollar"
    assert speak_amount("0.01", "USD", "en-US") == "one cent"


def test_given_a_negative_amount_when_spoken_then_rejected():
    with pytest.raises(ValueError):
        speak_amount("-1", "USD", "en-US")


def test_given_dates_when_spoken_then_month_day_and_weekday_in_words():
    friday = date(2026, 11, 27)
    assert speak_date(friday, "zh-CN") == "十一月二十七日，星期五"
    assert speak_date(friday, "en-US") == "Friday, November twenty-seventh"
    assert [en_ordinal(n) for n in (1, 2, 3, 12, 21, 30)] == ["first", "second", "third", "twelfth",
                                                               "twenty-first", "thirtieth"]


def test_given_a_callback_number_when_spoken_then_read_digit_by_digit_with_yao_for_one():
    assert speak_digits("95511", "zh-CN") == "九五五幺幺"
    assert speak_digits("911", "en-US") == "nine one one"
