"""Intent recognition: the development set the rules are written against (the benchmark's
evaluation set is kept apart in benchmarks/data/), plus dates, amounts, strength and keys."""

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dialer.bot.intents import Intent
from dialer.bot.nlu import recognise
from dialer.bot.nlu_dates import parse_en_date, parse_zh_date
from dialer.bot.nlu_numbers import en_words_to_number, spoken_digits, zh_numeral_to_number

TODAY = date(2026, 11, 22)  # a Sunday
HERE = Path(__file__).parent


def _rows(name: str):
    with (HERE / name).open(encoding="utf-8", newline="") as handle:
        return [pytest.param(r["text"], r["intent"], r["date"], r["amount"], id=f"{r['intent']}:{r['text'][:30]}")
                for r in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)]


def _check(language: str, text: str, intent: str, when: str, amount: str) -> None:
    got = recognise(text, language, TODAY)
    assert got.intent.value == intent
    if when:
        assert got.promised_date == date.fromisoformat(when)
    if amount:
        assert got.amount == Decimal(amount)


@pytest.mark.parametrize("text,intent,when,amount", _rows("nlu_dev_en.tsv"))
def test_given_the_english_dev_set_then_each_utterance_gets_its_intent_date_and_amount(text, intent, when, amount):
    _check("en-US", text, intent, when, amount)


@pytest.mark.parametrize("text,intent,when,amount", _rows("nlu_dev_zh.tsv"))
def test_given_the_mandarin_dev_set_then_each_utterance_gets_its_intent_date_and_amount(text, intent, when, amount):
    _check("zh-CN", text, intent, when, amount)


def test_given_the_seed_phrases_then_willingness_orders_now_over_asap_over_a_while():
    now, asap, later = (recognise(t, "zh-CN", TODAY) for t in ("我现在就去还", "我尽快还款", "过一会去"))
    assert {now.intent, asap.intent, later.intent} <= {Intent.PROMISE_NOW, Intent.PROMISE_LATER}
    assert now.willingness > asap.willingness > later.willingness


def test_given_hedged_promises_then_they_are_weaker_than_plain_ones():
    assert recognise("I'll try to pay Friday", "en-US", TODAY).willingness < \
        recognise("I'll pay Friday", "en-US", TODAY).willingness
    assert recognise("我争取周五还", "zh-CN", TODAY).willingness < recognise("周五还", "zh-CN", TODAY).willingness


def test_given_an_amount_below_the_balance_when_the_balance_is_known_then_partial_payment():
    got = recognise("I will pay two hundred dollars next Friday", "en-US", TODAY, amount_due=Decimal("500"))
    assert got.intent == Intent.PARTIAL_PAYMENT and got.amount == Decimal("200")
    same = recognise("I will pay two hundred dollars next Friday", "en-US", TODAY, amount_due=Decimal("200"))
    assert same.intent == Intent.PROMISE_LATER


@pytest.mark.parametrize("text,expected", [
    ("next Friday", date(2026, 11, 27)), ("this Friday", date(2026, 11, 27)), ("tomorrow", date(2026, 11, 23)),
    ("end of the month", date(2026, 11, 30)), ("in a couple of days", date(2026, 11, 24)),
    ("on the 3rd", date(2026, 12, 3)), ("January 2nd", date(2027, 1, 2)), ("next month", date(2026, 12, 1)),
])
def test_given_english_date_phrases_then_resolved_against_today(text, expected):
    assert parse_en_date(text, TODAY) == expected


@pytest.mark.parametrize("text,expected", [
    ("月底", date(2026, 11, 30)), ("过两天", date(2026, 11, 24)), ("下周五", date(2026, 11, 27)),
    ("下下周一", date(2026, 11, 30)), ("后天", date(2026, 11, 24)), ("下个月10号", date(2026, 12, 10)),
    ("一月五号", date(2027, 1, 5)), ("五天后", date(2026, 11, 27)),
])
def test_given_mandarin_date_phrases_then_resolved_against_today(text, expected):
    assert parse_zh_date(text, TODAY) == expected


def test_given_a_december_today_when_next_month_then_the_year_rolls():
    assert parse_zh_date("下个月5号", date(2026, 12, 20)) == date(2027, 1, 5)
    assert parse_en_date("end of the month", date(2026, 2, 3)) == date(2026, 2, 28)


@pytest.mark.parametrize("text,value", [("一千二百三十四", 1234), ("两万五", 25000), ("一千五", 1500),
                                        ("三百五", 350), ("一千零五", 1005), ("十五", 15)])
def test_given_chinese_numerals_then_parsed_with_implied_units(text, value):
    assert zh_numeral_to_number(text) == value


def test_given_english_number_words_then_parsed():
    assert en_words_to_number("fifteen hundred".split()) == 1500
    assert en_words_to_number("two thousand three hundred and five".split()) == 2305


@pytest.mark.parametrize("text,language,digits", [
    ("nineteen eighty five", "en-US", "1985"), ("it's four three two one", "en-US", "4321"),
    ("two thousand and three", "en-US", "2003"), ("一九八五年", "zh-CN", "1985"), ("后四位是6688", "zh-CN", "6688"),
])
def test_given_spoken_verification_answers_then_their_digits_are_extracted(text, language, digits):
    assert spoken_digits(text, language) == digits


def test_given_keys_then_the_question_key_map_decides_and_other_keys_are_digits():
    keys = {"1": Intent.AFFIRM, "9": Intent.STOP_CALLING}
    assert recognise(None, "zh-CN", TODAY, digits="9", keys=keys).intent == Intent.STOP_CALLING
    answer = recognise(None, "zh-CN", TODAY, digits="1985", keys=keys)
    assert answer.intent == Intent.NOT_UNDERSTOOD and answer.digits == "1985"


def test_given_no_speech_then_silence():
    assert recognise("  ", "en-US", TODAY).intent == Intent.SILENCE
