"""The callback questions with real speech: espeak-ng caller phrases at 8 kHz, pocketsphinx with the
step's grammar (`callback_confirm`, `callback_time`), then the same rules the dialog uses."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dialer.bot.asr import PocketsphinxEngine
from dialer.bot.intents import Intent
from dialer.bot.nlu import recognise
from dialer.bot.nlu_times import callback_answer
from dialer.bot.tts import EspeakEngine, PromptCache, Voice

pytestmark = pytest.mark.slow   # loads the pocketsphinx model and runs espeak-ng

CALLER = Voice("caller", "en-us", 160, 50)
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("America/New_York"))   # a Sunday


@pytest.fixture(scope="module")
def asr():
    engine = PocketsphinxEngine()
    engine.warm(["callback_confirm", "callback_time"])
    return engine


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    return PromptCache(EspeakEngine(), tmp_path_factory.mktemp("caller"))


def answer(asr, speech, text: str, grammar: str):
    heard = asr.transcribe(speech.path_for(text, CALLER), grammar, "en-US")
    return heard, callback_answer(recognise(heard, "en-US", NOW.date(), now=NOW), grammar, "en-US", NOW, keyed=False)


@pytest.mark.parametrize("text,intent", [
    ("yes", Intent.AFFIRM), ("yes that is right", Intent.AFFIRM), ("okay", Intent.AFFIRM),
    ("no", Intent.DENY), ("stop calling me", Intent.STOP_CALLING),
    ("you have the wrong number", Intent.WRONG_NUMBER),
])
def test_given_the_confirmation_question_when_the_caller_answers_then_yes_no_and_opt_out_are_heard(
        asr, speech, text, intent):
    heard, got = answer(asr, speech, text, "callback_confirm")
    assert got.intent is intent, heard


@pytest.mark.parametrize("text,grammar,expected", [
    ("no make it tomorrow morning", "callback_confirm", "2026-11-23 09:00"),
    ("tomorrow at nine", "callback_time", "2026-11-23 09:00"),
    ("around four o'clock", "callback_time", "2026-11-22 16:00"),
    ("in an hour", "callback_time", "2026-11-22 11:00"),
    ("this evening", "callback_time", "2026-11-22 19:00"),
    ("on friday", "callback_time", "2026-11-27 10:00"),
])
def test_given_a_time_said_at_a_callback_question_then_it_survives_recognition_without_call_me(
        asr, speech, text, grammar, expected):
    heard, got = answer(asr, speech, text, grammar)
    assert got.intent is Intent.CALLBACK and got.callback_at is not None, heard
    assert got.callback_at.astimezone(NOW.tzinfo).strftime("%Y-%m-%d %H:%M") == expected, heard


@pytest.mark.parametrize("text,intent", [
    ("i do not know", Intent.NOT_UNDERSTOOD), ("no", Intent.DENY),
    ("let me talk to a real person", Intent.ASKS_HUMAN),
])
def test_given_no_time_at_the_time_question_then_the_answer_keeps_its_meaning(asr, speech, text, intent):
    heard, got = answer(asr, speech, text, "callback_time")
    assert got.intent is intent and got.callback_at is None, heard
