"""Callback times the caller names, resolved against a fixed local `now` in the debtor's zone
(Asia/Shanghai, America/New_York) and said back; conventions are in dialer/bot/nlu_times.py."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from dialer.bot.intents import Intent
from dialer.bot.nlu import recognise
from dialer.bot.nlu_times import speak_callback

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
NY_10 = datetime(2026, 11, 22, 10, 0, tzinfo=NEW_YORK)      # a Sunday morning
SH_10 = datetime(2026, 11, 22, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize("text,expected", [
    ("call me at 6 pm", "2026-11-22 18:00"),
    ("call me back tomorrow morning", "2026-11-23 09:00"),
    ("ring me after 7", "2026-11-22 19:00"),
    ("I'm busy, call me in two hours", "2026-11-22 12:00"),
    ("I am in a meeting", "2026-11-22 12:00"),                     # no time: now + 2 h
    ("can you call back later", "2026-11-22 12:00"),
    ("he's back at 6", "2026-11-22 18:00"),
    ("call me back at 9:30 a.m. tomorrow", "2026-11-23 09:30"),
    ("call me at half past six", "2026-11-22 18:30"),
    ("call me on Friday", "2026-11-27 10:00"),                     # a day alone: 10:00
    ("call me at 9 am", "2026-11-23 09:00"),                       # 9 am today is past at 10:00
    ("call me back at 11", "2026-11-22 11:00"),                    # 8-11 still ahead: the morning
    ("call me back in 45 minutes", "2026-11-22 10:45"),
    ("try me again this evening", "2026-11-22 19:00"),
])
def test_given_english_callback_phrases_in_new_york_then_the_local_time_is_resolved(text, expected):
    got = recognise(text, "en-US", NY_10.date(), now=NY_10)
    assert got.intent is Intent.CALLBACK
    assert got.callback_at is not None and got.callback_at.tzinfo is not None
    assert got.callback_at.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M") == expected


@pytest.mark.parametrize("text,expected", [
    ("晚上六点再打", "2026-11-22 18:00"),
    ("明天上午打给我", "2026-11-23 09:00"),
    ("两个小时后再打", "2026-11-22 12:00"),
    ("我在开会，晚点打", "2026-11-22 12:00"),
    ("他晚上七点半回来", "2026-11-22 19:30"),
    ("过一个半小时再打过来", "2026-11-22 11:30"),
    ("周五下午三点再联系", "2026-11-27 15:00"),
    ("下午两点一刻再打给我", "2026-11-22 14:15"),
    ("早上八点再打", "2026-11-23 08:00"),                           # 8:00 today is past: tomorrow
    ("三点再打", "2026-11-22 15:00"),                               # a bare 3: the afternoon
])
def test_given_mandarin_callback_phrases_in_shanghai_then_the_local_time_is_resolved(text, expected):
    got = recognise(text, "zh-CN", SH_10.date(), now=SH_10)
    assert got.intent is Intent.CALLBACK
    assert got.callback_at is not None
    assert got.callback_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") == expected


def test_given_the_same_words_in_two_zones_then_the_same_wall_time_is_two_different_instants():
    ny = recognise("call me at 6 pm", "en-US", NY_10.date(), now=NY_10).callback_at
    sh = recognise("call me at 6 pm", "en-US", SH_10.date(), now=SH_10).callback_at
    assert ny.astimezone(timezone.utc) == datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc)
    assert sh.astimezone(timezone.utc) == datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


def test_given_in_two_hours_said_just_before_new_york_leaves_daylight_time_then_two_real_hours():
    before_change = datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK)             # 04:30 UTC, EDT
    got = recognise("call me back in two hours", "en-US", before_change.date(), now=before_change)
    assert got.callback_at.astimezone(timezone.utc) == datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc)
    assert got.callback_at.astimezone(NEW_YORK).strftime("%H:%M") == "01:30"   # the second 01:30, EST


def test_given_6_pm_on_the_day_new_york_leaves_daylight_time_then_6_pm_standard_time():
    before_change = datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK)
    got = recognise("call me at 6 pm", "en-US", before_change.date(), now=before_change)
    assert got.callback_at.astimezone(timezone.utc) == datetime(2026, 11, 1, 23, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text,language,intent", [
    ("我晚点打钱给你们", "zh-CN", Intent.PROMISE_LATER),     # 打钱 is paying, not phoning
    ("我明天打款", "zh-CN", Intent.PROMISE_LATER),
    ("别再打了", "zh-CN", Intent.STOP_CALLING),              # opt-out always wins
    ("他在开会", "zh-CN", Intent.THIRD_PARTY),               # someone else's whereabouts, nothing asked
    ("stop calling me, call my lawyer at 6", "en-US", Intent.STOP_CALLING),
    ("I'll call you back when I have the money", "en-US", Intent.PROMISE_LATER),
    ("I will pay tomorrow", "en-US", Intent.PROMISE_LATER),
])
def test_given_phrases_that_only_look_like_callbacks_then_they_keep_their_own_intent(text, language, intent):
    now = SH_10 if language == "zh-CN" else NY_10
    assert recognise(text, language, now.date(), now=now).intent is intent


def test_given_a_third_party_naming_a_time_then_the_callback_is_tagged_third_party():
    assert "third_party" in recognise("she gets home at 8 tonight", "en-US", NY_10.date(), now=NY_10).tags
    assert "third_party" in recognise("他晚上七点回来", "zh-CN", SH_10.date(), now=SH_10).tags
    assert "third_party" not in recognise("call me at 6 pm", "en-US", NY_10.date(), now=NY_10).tags


@pytest.mark.parametrize("at,language,words", [
    (datetime(2026, 11, 22, 18, 0, tzinfo=NEW_YORK), "en-US", "today at six p.m."),
    (datetime(2026, 11, 23, 9, 30, tzinfo=NEW_YORK), "en-US", "tomorrow at nine thirty a.m."),
    (datetime(2026, 11, 22, 12, 0, tzinfo=NEW_YORK), "en-US", "today at noon"),
    (datetime(2026, 11, 27, 10, 5, tzinfo=NEW_YORK), "en-US", "on Friday at ten oh five a.m."),
    (datetime(2026, 11, 22, 18, 0, tzinfo=SHANGHAI), "zh-CN", "今天晚上六点"),
    (datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI), "zh-CN", "明天上午九点"),
    (datetime(2026, 11, 22, 14, 30, tzinfo=SHANGHAI), "zh-CN", "今天下午两点半"),
])
def test_given_a_callback_time_then_it_is_said_back_in_words(at, language, words):
    now = NY_10 if language == "en-US" else SH_10
    assert speak_callback(at, now, language) == words
