"""The bot reads a callback time back and asks the caller to confirm it, in both shipped scripts:
yes (or 1) keeps it; no (or 2) asks "what time?" once, by speech or keys on the 24-hour clock; a
second no, silence or no time gives the default (now + 2 h) and says so. Opt-out, a request for a
human and a wrong number are honoured at these questions, and nothing about the debt is said."""

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml

from dialer.bot.actions import CollectDigits, Done, Hangup, Heard, Keyed, Listen, Say, Silence, Transfer
from dialer.bot.engine import DialogSession
from dialer.bot.grammars import jsgf
from dialer.bot.intents import Intent
from dialer.bot.record import Disposition
from dialer.bot.script import ScriptError, load_script, parse_script, shipped_script_path
from dialer.bot.script_walk import example_context
from dialer.domain import Party

TODAY = date(2026, 11, 22)
NY_10 = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("America/New_York"))
SH_10 = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CALLBACK_PROMPTS = ("callback_confirm", "callback_ask_time", "callback_close", "callback_default")


def call(language: str, answers: list, *, answered_at: datetime, zone: str, **changes):
    script = load_script(shipped_script_path("collection", language))
    context = replace(example_context(language, TODAY), time_zone=zone, answered_at=answered_at, **changes)
    session = DialogSession(script, context)
    actions, listens, pending = [], [], list(answers)
    action = session.start()
    while action is not None:
        actions.append(action)
        if isinstance(action, (Listen, CollectDigits)):
            listens.append(action)
            action = session.feed(pending.pop(0) if pending else Silence())
        else:
            action = session.feed(Done())
    assert not pending, f"answers left over: {pending}"
    return session, actions


def en(answers, **changes):
    return call("en-US", answers, answered_at=NY_10, zone="America/New_York", **changes)


def zh(answers, **changes):
    return call("zh-CN", answers, answered_at=SH_10, zone="Asia/Shanghai", **changes)


def ny(hour: int, minute: int = 0, day: int = 22) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo("America/New_York")).astimezone(timezone.utc)


def sh(hour: int, minute: int = 0, day: int = 22) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(timezone.utc)


def prompts(actions) -> list[str]:
    return [a.prompt_id for a in actions if isinstance(a, Say)]


def said(actions) -> str:
    return " ".join(a.text for a in actions if isinstance(a, Say))


def assert_nothing_disclosed(session, actions) -> None:
    assert not session.record.disclosed
    assert not any(a.discloses for a in actions if isinstance(a, Say))
    assert "1,234" not in said(actions) and "one thousand" not in said(actions) and "一千" not in said(actions)


# ---- yes ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("yes", [Heard("yes"), Heard("that is right"), Keyed("1")])
def test_given_call_me_at_6_pm_when_the_caller_confirms_then_18_00_is_kept_and_the_call_ends(yes):
    session, actions = en([Heard("I'm busy, call me at 6 pm"), yes])
    record = session.record
    assert prompts(actions)[-2:] == ["callback_confirm", "callback_close"]
    assert "We will call you back today at six p.m., is that right? Say yes or press 1; say no or press 2." \
        in said(actions)
    assert record.callback_at == ny(18) and record.disposition is Disposition.CALLBACK_REQUESTED
    assert isinstance(actions[-1], Hangup) and actions[-1].reason == "callback_requested"
    assert_nothing_disclosed(session, actions)


@pytest.mark.parametrize("yes", [Heard("对"), Heard("是的"), Keyed("1")])
def test_given_wan_shang_liu_dian_when_the_caller_confirms_then_18_00_shanghai_is_kept(yes):
    session, actions = zh([Heard("晚上六点再打"), yes])
    assert "好的，我们将在今天晚上六点给您回电，对吗？对请说“对”或按1，不对请说“不对”或按2。" in said(actions)
    assert prompts(actions)[-1] == "callback_close" and session.record.callback_at == sh(18)
    assert_nothing_disclosed(session, actions)


def test_given_the_confirmation_question_then_it_listens_with_its_grammar_and_keys_1_2_and_9():
    script = load_script(shipped_script_path("collection", "en-US"))
    session = DialogSession(script, replace(example_context("en-US", TODAY), answered_at=NY_10,
                                            time_zone="America/New_York"))
    action = session.start()
    while not isinstance(action, Listen):
        action = session.feed(Done())
    action = session.feed(Heard("call me at 6 pm"))
    while not isinstance(action, Listen):
        action = session.feed(Done())
    assert action.grammar == "callback_confirm"
    assert action.keys == {"9": Intent.STOP_CALLING, "1": Intent.AFFIRM, "2": Intent.DENY}
    action = session.feed(Keyed("2"))
    while not isinstance(action, Listen):
        action = session.feed(Done())
    assert action.grammar == "callback_time" and action.max_digits == 4
    assert action.keys == {"9": Intent.STOP_CALLING}


# ---- no, then a new time ------------------------------------------------------------------------
def test_given_a_misheard_time_when_the_caller_says_no_and_then_six_then_the_new_time_is_read_back_and_kept():
    # The recogniser has heard "call me at six p m" as "call me after eight p m" (docs/bot.md).
    session, actions = en([Heard("call me after eight p m"), Heard("no"), Heard("six p m"), Heard("yes")])
    assert prompts(actions)[-4:] == ["callback_confirm", "callback_ask_time", "callback_confirm", "callback_close"]
    assert "What time should we call you?" in said(actions)
    assert "today at eight p.m., is that right?" in said(actions)
    assert "today at six p.m., is that right?" in said(actions)
    assert session.record.callback_at == ny(18)
    assert session.record.path[-3:] == ["callback_heard", "callback_reconfirm", "callback_close"]
    assert_nothing_disclosed(session, actions)


@pytest.mark.parametrize("answer,expected", [
    (Heard("six thirty"), ny(18, 30)),
    (Heard("tomorrow morning"), ny(9, day=23)),
    (Heard("make it seven"), ny(19)),
    (Heard("in an hour"), ny(11)),
    (Heard("call me at four"), ny(16)),
    (Keyed("1930"), ny(19, 30)),
    (Keyed("18"), ny(18)),
    (Keyed("0900"), ny(9, day=23)),       # 09:00 has passed at 10:00: tomorrow
])
def test_given_no_then_a_time_said_or_keyed_then_it_is_read_back_and_kept_on_a_yes(answer, expected):
    session, actions = en([Heard("call me at 6 pm"), Keyed("2"), answer, Keyed("1")])
    assert session.record.callback_at == expected
    assert prompts(actions)[-1] == "callback_close" and session.record.disposition is Disposition.CALLBACK_REQUESTED


def test_given_no_with_the_right_time_in_the_same_breath_then_no_question_is_needed():
    session, actions = en([Heard("call me at 6 pm"), Heard("no seven thirty"), Heard("yes")])
    assert "callback_ask_time" not in prompts(actions)
    assert session.record.callback_at == ny(19, 30)


@pytest.mark.parametrize("answers,expected", [
    ([Heard("晚上六点再打"), Heard("不对"), Heard("晚上七点半"), Heard("对")], sh(19, 30)),
    ([Heard("晚上六点再打"), Keyed("2"), Keyed("1930"), Keyed("1")], sh(19, 30)),
    ([Heard("晚上六点再打"), Heard("不对，明天上午"), Heard("对")], sh(9, day=23)),
    ([Heard("晚上六点再打"), Keyed("2"), Heard("两个小时后"), Keyed("1")], sh(12)),
])
def test_given_a_mandarin_no_then_a_time_then_it_is_read_back_and_kept(answers, expected):
    session, actions = zh(answers)
    assert session.record.callback_at == expected and prompts(actions)[-1] == "callback_close"
    if Keyed("2") in answers:
        assert "请问您希望我们什么时间给您回电？" in said(actions)
    assert_nothing_disclosed(session, actions)


# ---- a second no, silence, no time: the default ------------------------------------------------
@pytest.mark.parametrize("answers", [
    [Heard("call me at 6 pm"), Heard("no"), Heard("seven"), Heard("no")],          # no twice
    [Heard("call me at 6 pm"), Keyed("2"), Keyed("1900"), Keyed("2")],            # no twice by keys
    [Heard("call me at 6 pm"), Heard("no"), Heard("no")],                         # no time given
    [Heard("call me at 6 pm"), Keyed("2"), Silence()],                            # silence at the time question
    [Heard("call me at 6 pm"), Silence(), Silence()],                             # silence twice
    [Heard("call me at 6 pm"), Heard("no"), Heard("I don't know")],               # not understood
    [Heard("call me at 6 pm"), Keyed("2"), Keyed("2")],                           # one key is not a time
    [Heard("call me at 6 pm"), Keyed("2"), Keyed("2575")],                        # no such time
])
def test_given_no_confirmed_time_then_the_default_two_hours_is_kept_and_said(answers):
    session, actions = en(answers)
    record = session.record
    assert record.callback_at == NY_10.astimezone(timezone.utc) + timedelta(hours=2)
    assert prompts(actions)[-1] == "callback_default"
    assert said(actions).endswith("Sorry, I did not catch a time. We will call you back today at noon, or you "
                                  "can call us at four zero zero eight one zero one two three four. Goodbye.")
    assert record.disposition is Disposition.CALLBACK_REQUESTED
    assert isinstance(actions[-1], Hangup) and actions[-1].reason == "callback_requested"
    assert_nothing_disclosed(session, actions)


@pytest.mark.parametrize("answers", [
    [Heard("晚上六点再打"), Heard("不对"), Heard("晚上七点"), Heard("不对")],
    [Heard("晚上六点再打"), Keyed("2"), Keyed("2")],
    [Heard("晚上六点再打"), Silence(), Silence()],
    [Heard("晚上六点再打"), Heard("不对"), Heard("不知道")],
])
def test_given_no_confirmed_time_in_mandarin_then_the_default_two_hours_is_kept_and_said(answers):
    session, actions = zh(answers)
    assert session.record.callback_at == SH_10.astimezone(timezone.utc) + timedelta(hours=2)
    assert "抱歉，没有听清您方便的时间，我们今天中午十二点再联系您" in said(actions)
    assert isinstance(actions[-1], Hangup) and session.record.disposition is Disposition.CALLBACK_REQUESTED


def test_given_a_promise_then_a_callback_without_a_confirmed_time_then_the_promise_stays_the_disposition():
    session, _ = en([Keyed("1"), Keyed("1985"), Heard("I will pay tomorrow"), Heard("call me back at 5"),
                     Keyed("2"), Silence()], dpd=2)
    record = session.record
    assert record.promise is not None and record.disposition is Disposition.PROMISE_TO_PAY
    assert record.callback_at == NY_10.astimezone(timezone.utc) + timedelta(hours=2)


# ---- stop, a human, a wrong number at the new questions ----------------------------------------
@pytest.mark.parametrize("at_question", [[], [Keyed("2")], [Heard("no"), Heard("seven")]],
                         ids=["confirm", "what-time", "reconfirm"])
@pytest.mark.parametrize("stop", [Heard("stop calling me"), Keyed("9")])
def test_given_stop_calling_at_a_callback_question_then_the_opt_out_is_recorded_and_confirmed(at_question, stop):
    session, actions = en([Heard("call me at 6 pm"), *at_question, stop])
    record = session.record
    assert record.opt_out and record.disposition is Disposition.OPTED_OUT
    assert prompts(actions)[-1] == "opt_out" and isinstance(actions[-1], Hangup)


def test_given_bie_zai_da_le_at_the_mandarin_confirmation_then_the_opt_out():
    session, actions = zh([Heard("晚上六点再打"), Heard("别再打了")])
    assert session.record.opt_out and prompts(actions)[-1] == "opt_out"


@pytest.mark.parametrize("language,answers", [
    ("en-US", [Heard("call me at 6 pm"), Heard("let me talk to a real person")]),
    ("en-US", [Heard("call me at 6 pm"), Keyed("2"), Heard("operator")]),
    ("zh-CN", [Heard("晚上六点再打"), Heard("转人工")]),
])
def test_given_a_request_for_a_human_at_a_callback_question_then_a_transfer(language, answers):
    session, actions = (en if language == "en-US" else zh)(answers)
    assert isinstance(actions[-1], Transfer) and session.record.handoff_reason == "asked_for_human"
    assert_nothing_disclosed(session, actions)


@pytest.mark.parametrize("language,answers", [
    ("en-US", [Heard("call me at 6 pm"), Heard("wrong number")]),
    ("en-US", [Heard("call me at 6 pm"), Keyed("2"), Heard("you have the wrong number")]),
    ("zh-CN", [Heard("晚上六点再打"), Heard("打错了")]),
])
def test_given_wrong_number_at_a_callback_question_before_verification_then_the_wrong_number_path(language, answers):
    session, actions = (en if language == "en-US" else zh)(answers)
    record = session.record
    assert record.party is Party.WRONG_NUMBER and record.suppress_contact
    assert record.disposition is Disposition.WRONG_NUMBER and prompts(actions)[-1] == "wrong_number"
    assert_nothing_disclosed(session, actions)


def test_given_a_verified_debtor_saying_wrong_number_at_the_confirmation_then_the_default_callback_not_a_wrong_number():
    session, actions = en([Keyed("1"), Keyed("1985"), Heard("call me at 6 pm"), Heard("wrong number")], dpd=2)
    record = session.record
    assert record.verified and record.party is Party.DEBTOR and not record.suppress_contact
    assert prompts(actions)[-1] == "callback_default"
    assert record.callback_at == NY_10.astimezone(timezone.utc) + timedelta(hours=2)


def test_given_a_third_party_at_the_confirmation_then_a_confirmed_callback_and_still_no_disclosure():
    session, actions = en([Heard("she's not home, try her after 5"), Heard("no"), Heard("six thirty"),
                           Heard("yes")])
    assert session.record.party is Party.THIRD_PARTY and session.record.callback_at == ny(18, 30)
    assert_nothing_disclosed(session, actions)


# ---- the loader and the grammars ---------------------------------------------------------------
@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
@pytest.mark.parametrize("prompt_id", CALLBACK_PROMPTS)
def test_given_a_callback_prompt_that_mentions_the_amount_then_the_loader_refuses_the_script(language, prompt_id):
    path = shipped_script_path("collection", language)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    load_script(path)    # as shipped: reachable before verification and from third parties, no debt in it
    data["prompts"][prompt_id] += " {amount}"
    with pytest.raises(ScriptError, match="before identity verification"):
        parse_script(data, str(path))


def test_given_a_callback_mark_other_than_default_then_the_loader_names_the_state():
    path = shipped_script_path("collection", "en-US")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["states"]["callback_default"]["mark"] = {"callback": "tomorrow"}
    with pytest.raises(ScriptError, match="state 'callback_default'.*mark 'callback' can only be 'default'"):
        parse_script(data, str(path))


@pytest.mark.parametrize("grammar,phrases", [
    ("callback_confirm", ["yes", "yeah", "that is right", "correct", "no", "nope", "that is not right",
                          "seven thirty", "tomorrow morning", "stop calling", "wrong number"]),
    ("callback_time", ["<clock_time>", "half past", "tomorrow", "in (an hour", "i do not know",
                       "<callback>", "stop calling", "wrong number", "make it"]),
])
def test_given_the_new_questions_then_their_grammars_hold_the_yes_no_words_and_time_phrases(grammar, phrases):
    text = jsgf(grammar)
    assert text.startswith(f"#JSGF V1.0;\ngrammar {grammar};")
    for phrase in phrases:
        for word in phrase.split():
            assert word in text, (grammar, word)
