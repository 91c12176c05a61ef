"""When the words heard so far already make an answer (answer_is_complete): only then may a short
pause (quick_end_s) end the caller's turn; anything that usually goes on waits the full end_s."""

import pytest

from dialer.bot.stream_listen import answer_is_complete


@pytest.mark.parametrize("text,language,grammar", [
    ("yes", "en-US", "identity"),
    ("yes speaking", "en-US", "identity"),
    ("stop calling me", "en-US", "payment"),
    ("sorry you have the wrong number", "en-US", "identity"),
    ("I will pay two hundred dollars next Friday", "en-US", "payment"),
    ("I will pay next Friday", "en-US", "payment"),
    ("I can pay fifty dollars on Friday", "en-US", "payment"),
    ("I already paid", "en-US", "payment"),
    ("是的", "zh-CN", "identity"),
    ("别再打了", "zh-CN", "payment"),
    ("你打错了", "zh-CN", "identity"),
    ("我月底还", "zh-CN", "payment"),
    ("我下周五还两百", "zh-CN", "payment"),
])
def test_given_a_whole_answer_when_checked_at_a_short_pause_then_it_is_complete(text, language, grammar):
    assert answer_is_complete(text, language, grammar)


@pytest.mark.parametrize("text,language,grammar", [
    # A promise without its date: the date usually comes next ("... next Friday").
    ("I will pay two hundred dollars", "en-US", "payment"),
    ("I will pay", "en-US", "payment"),
    ("I can pay fifty dollars", "en-US", "payment"),
    ("我会还的", "zh-CN", "payment"),
    # A callback: its time usually comes last, with or without one heard so far.
    ("call me back later", "en-US", "payment"),
    ("call me at six p m", "en-US", "identity"),
    ("你晚点再打", "zh-CN", "payment"),
    # Nothing, or nothing the recogniser understands.
    ("", "en-US", "payment"),
    ("   ", "en-US", "identity"),
    ("", "zh-CN", "payment"),
    ("purple elephant", "en-US", "payment"),
])
def test_given_an_answer_that_usually_goes_on_when_checked_at_a_short_pause_then_it_is_incomplete(
        text, language, grammar):
    assert not answer_is_complete(text, language, grammar)


@pytest.mark.parametrize("text", ["one nine eight five", "yes", "stop calling me", "nineteen eighty"])
def test_given_the_digits_grammar_then_no_answer_is_ever_complete_as_more_digits_may_follow(text):
    assert not answer_is_complete(text, "en-US", "digits")
    assert not answer_is_complete("一九八五", "zh-CN", "digits")
