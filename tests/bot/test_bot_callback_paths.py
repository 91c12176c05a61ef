"""The callback path through both shipped scripts: "call me at 6 pm" at any question, verified or
not, or said by a third party, is read back for a yes (tests/bot/test_bot_callback_confirm.py has
the no, the keys and the opt-out there), then a hang-up with the time on the record (UTC); nothing
about the debt is said to anyone not verified."""

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml

from dialer.bot.actions import CollectDigits, Done, Hangup, Heard, Keyed, Listen, Say, Silence
from dialer.bot.engine import DialogSession
from dialer.bot.record import Disposition
from dialer.bot.script import ScriptError, load_script, parse_script, shipped_script_path
from dialer.bot.script_walk import example_context
from dialer.domain import Party

TODAY = date(2026, 11, 22)
NY_10 = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("America/New_York"))
SH_10 = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def call(language: str, answers: list, *, answered_at: datetime, zone: str, **changes):
    script = load_script(shipped_script_path("collection", language))
    context = replace(example_context(language, TODAY), time_zone=zone, answered_at=answered_at, **changes)
    session = DialogSession(script, context)
    actions, pending = [], list(answers)
    action = session.start()
    while action is not None:
        actions.append(action)
        if isinstance(action, (Listen, CollectDigits)):
            action = session.feed(pending.pop(0) if pending else Silence())
        else:
            action = session.feed(Done())
    return session, actions


def said(actions) -> str:
    return " ".join(a.text for a in actions if isinstance(a, Say))


def en(answers, **changes):
    return call("en-US", answers, answered_at=NY_10, zone="America/New_York", **changes)


def zh(answers, **changes):
    return call("zh-CN", answers, answered_at=SH_10, zone="Asia/Shanghai", **changes)


def test_given_call_me_at_6_pm_at_the_greeting_and_a_yes_then_a_hangup_with_18_00_new_york_in_utc():
    session, actions = en([Heard("I'm busy, call me at 6 pm"), Heard("yes")])
    record = session.record
    assert record.path[-3:] == ["callback_heard", "callback_confirm", "callback_close"]
    assert record.callback_at == datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc)   # 18:00 EST
    assert record.disposition is Disposition.CALLBACK_REQUESTED
    assert "We will call you back today at six p.m., is that right?" in said(actions)
    assert said(actions).endswith("Thank you. We will call you back today at six p.m., as agreed. Goodbye.")
    assert isinstance(actions[-1], Hangup) and actions[-1].reason == "callback_requested"
    assert not record.verified and not record.disclosed
    assert not any(a.discloses for a in actions if isinstance(a, Say))


def test_given_a_verified_debtor_busy_at_the_reminder_then_the_callback_is_two_hours_on_and_verified_kept():
    session, actions = en([Heard("yes speaking"), Heard("nineteen eighty five"), Heard("I'm in a meeting right now"), Keyed("1")],
                          dpd=2)
    record = session.record
    assert record.verified and record.party is Party.DEBTOR and "reminder" in record.path
    assert record.callback_at == NY_10.astimezone(timezone.utc) + timedelta(hours=2)
    assert record.disposition is Disposition.CALLBACK_REQUESTED
    assert "today at noon" in said(actions)


def test_given_a_third_party_says_he_is_back_at_6_then_a_callback_without_any_disclosure():
    session, actions = en([Heard("he's not here, he's back at 6"), Keyed("1")])
    record = session.record
    assert record.party is Party.THIRD_PARTY and record.disposition is Disposition.CALLBACK_REQUESTED
    assert record.callback_at == datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc)
    assert not record.disclosed and "1,234" not in said(actions) and "one thousand" not in said(actions)


def test_given_the_third_party_message_question_when_they_name_a_time_then_a_callback_too():
    session, actions = en([Keyed("2"), Keyed("1"), Heard("try him again tomorrow morning"), Heard("yes")])
    record = session.record
    assert "third_party" in record.path and record.path[-1] == "callback_close"
    assert record.party is Party.THIRD_PARTY
    assert record.callback_at == datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)   # 09:00 EST
    assert not record.disclosed


def test_given_a_confirmed_promise_then_a_callback_request_keeps_the_promise_as_the_disposition():
    session, _ = en([Keyed("1"), Keyed("1985"), Heard("I will pay tomorrow"), Heard("call me back tomorrow at 5"),
                     Keyed("1")])
    record = session.record
    assert record.promise is not None and record.disposition is Disposition.PROMISE_TO_PAY
    assert record.callback_at == datetime(2026, 11, 23, 22, 0, tzinfo=timezone.utc)


def test_given_wan_shang_liu_dian_zai_da_at_the_greeting_then_18_00_shanghai_and_the_chinese_confirmation():
    session, actions = zh([Heard("晚上六点再打"), Heard("对")])
    record = session.record
    assert record.callback_at == datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)    # 18:00 CST
    assert record.disposition is Disposition.CALLBACK_REQUESTED and not record.disclosed
    assert "好的，我们将在今天晚上六点给您回电，对吗？" in said(actions)
    assert "好的，我们今天晚上六点再联系您" in said(actions)
    assert isinstance(actions[-1], Hangup)


def test_given_a_verified_mandarin_debtor_in_a_meeting_then_the_default_two_hours():
    session, actions = zh([Heard("是我"), Heard("一九八五"), Heard("我在开会，晚点打"), Keyed("1")])
    record = session.record
    assert record.verified and record.disclosed
    assert record.callback_at == SH_10.astimezone(timezone.utc) + timedelta(hours=2)
    assert "今天中午十二点" in said(actions)


def test_given_a_mandarin_third_party_naming_when_he_is_back_then_a_callback_without_disclosure():
    session, actions = zh([Heard("我是他老婆，他晚上七点半回来"), Keyed("1")])
    record = session.record
    assert record.party is Party.THIRD_PARTY and record.path[-1] == "callback_close"
    assert record.callback_at == datetime(2026, 11, 22, 11, 30, tzinfo=timezone.utc)   # 19:30 CST
    assert not record.disclosed and not any(a.discloses for a in actions if isinstance(a, Say))


def test_given_tomorrow_morning_in_mandarin_at_the_verification_question_then_a_callback_not_a_failed_check():
    session, _ = zh([Heard("是我"), Heard("明天上午打给我"), Heard("对")])
    assert session.record.disposition is Disposition.CALLBACK_REQUESTED
    assert session.record.callback_at == datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # 09:00 CST


@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
def test_given_a_callback_close_that_mentions_the_amount_then_the_loader_refuses_the_script(language):
    path = shipped_script_path("collection", language)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    load_script(path)   # as shipped: the disclosure-graph check passes with the callback path in it
    data["prompts"]["callback_close"] += " {amount}"
    with pytest.raises(ScriptError, match="callback_close.*before identity verification"):
        parse_script(data, str(path))
