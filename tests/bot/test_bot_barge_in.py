"""Voice barge-in in the dialog core: which prompts a caller may answer over, and what the engine
does when one was (the transport side is in test_bot_stream_listen.py and the Asterisk e2e tests)."""

import copy
from dataclasses import replace
from datetime import date

import pytest
import yaml

from dialer.bot.actions import Done, Heard, Keyed, Listen, Say, SpokeOver
from dialer.bot.engine import DialogSession
from dialer.bot.script import ScriptError, load_script, parse_script, shipped_script_path
from dialer.bot.script_walk import example_context

TODAY = date(2026, 11, 22)


def session(language: str = "en-US", **changes) -> DialogSession:
    script = load_script(shipped_script_path("collection", language))
    return DialogSession(script, replace(example_context(language, TODAY), **changes))


def until_listen(dialog: DialogSession, action, result=Done()):
    """Feed `result` to each Say up to the next Listen; returns (the Says, the Listen)."""
    says = []
    while isinstance(action, Say):
        says.append(action)
        action = dialog.feed(result)
    assert isinstance(action, Listen), action
    return says, action


@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
def test_given_the_opening_then_it_cannot_be_talked_over_but_the_questions_after_it_can(language):
    dialog = session(language)
    greeting, listen = until_listen(dialog, dialog.start())
    # Who calls, and that it is an automated assistant: always heard in full.
    assert [s.barge_in for s in greeting] == [False]
    ask_check, _ = until_listen(dialog, dialog.feed(Keyed("1")))
    assert all(s.barge_in for s in ask_check)


def test_given_prompts_without_a_question_after_them_then_none_can_be_talked_over():
    dialog = session()
    _, _ = until_listen(dialog, dialog.start())
    _, _ = until_listen(dialog, dialog.feed(Keyed("1")))
    action = dialog.feed(Keyed("9"))       # opt out: "we will not call again. Goodbye." then hang up
    goodbye = []
    while isinstance(action, Say):
        goodbye.append(action)
        action = dialog.feed(Done())
    assert goodbye and not any(s.barge_in for s in goodbye)


def test_given_the_caller_spoke_over_a_prompt_then_the_rest_before_the_question_is_skipped_and_noted():
    dialog = session(reward_offer=True)
    _, _ = until_listen(dialog, dialog.start())
    _, _ = until_listen(dialog, dialog.feed(Keyed("1")))
    first = dialog.feed(Keyed("1985"))     # verified: the stage prompt (then its question)
    assert isinstance(first, Say) and first.barge_in
    after = dialog.feed(SpokeOver())
    assert isinstance(after, Listen), "a prompt was played after the caller had started answering"
    transcript = [t.text for t in dialog.record.transcript if t.speaker == "bot"]
    assert transcript[-2] == first.text
    assert transcript[-1].startswith("[stopped: the caller spoke over")
    # The answer that began over the prompt is the question's answer, as any other.
    action = dialog.feed(Heard("I will pay two hundred dollars tomorrow"))
    assert dialog.record.promise is not None and dialog.record.promise.amount == 200
    assert isinstance(action, Say)


def test_given_a_state_of_two_prompts_spoken_over_during_the_first_then_the_second_is_never_played():
    data = _variant()
    data["states"]["ask_check"]["say"] = ["ask_check", "check_retry"]
    dialog = DialogSession(parse_script(data), example_context("en-US", TODAY))
    _, _ = until_listen(dialog, dialog.start())
    first = dialog.feed(Keyed("1"))
    assert isinstance(first, Say) and first.prompt_id == "ask_check"
    assert isinstance(dialog.feed(SpokeOver()), Listen)
    bot_said = [t.text for t in dialog.record.transcript if t.speaker == "bot"]
    assert not any("once more" in text for text in bot_said), "the skipped prompt is on the transcript"


def test_given_a_say_that_allows_no_barge_in_then_spoke_over_is_taken_as_played():
    dialog = session()
    greeting = dialog.start()
    assert isinstance(greeting, Say) and not greeting.barge_in
    assert isinstance(dialog.feed(SpokeOver()), Listen)
    assert not any(t.text.startswith("[stopped") for t in dialog.record.transcript)


def _variant() -> dict:
    return copy.deepcopy(yaml.safe_load(shipped_script_path("collection", "en-US").read_text(encoding="utf-8")))


def test_given_a_script_with_barge_in_not_a_boolean_or_an_unknown_listen_key_then_the_loader_names_it():
    data = _variant()
    data["states"]["ask_check"]["listen"]["barge_in"] = "sometimes"
    with pytest.raises(ScriptError, match="ask_check.*barge_in must be true or false"):
        parse_script(data)
    data = _variant()
    data["states"]["ask_check"]["listen"]["bargein"] = False
    with pytest.raises(ScriptError, match=r"ask_check.*unknown listen keys \['bargein'\]"):
        parse_script(data)


def test_given_barge_in_off_on_a_state_then_its_prompts_play_to_the_end():
    data = _variant()
    data["states"]["ask_check"]["listen"]["barge_in"] = False
    dialog = DialogSession(parse_script(data), example_context("en-US", TODAY))
    _, _ = until_listen(dialog, dialog.start())
    ask_check, _ = until_listen(dialog, dialog.feed(Keyed("1")))
    assert not any(s.barge_in for s in ask_check)
