"""Callback times the caller names ("call me at 6 pm", "晚上六点再打"), resolved against the call's
local `now` (the DEBTOR's zone, never the server's), and said back in words for the confirmation.

Conventions (documented because a wrong guess means a call at the wrong hour):
- No time at all ("call me later", "I'm in a meeting", "晚点打"): now + 2 hours (`DEFAULT_DELAY`).
- Relative: "in two hours" / "两个小时后" → now + 2 h; "in 30 minutes" / "半小时后" → now + 30 min.
- A bare hour without am/pm or a part of the day: 1-7 is the afternoon/evening ("after 7" → 19:00,
  "he's back at 6" → 18:00); 8-11 is the morning if that is still ahead, else the evening; 12 is noon.
- A part of the day without an hour: morning 09:00, noon 12:00, afternoon 14:00, evening 19:00,
  "after work" 18:00.
- A day without a time ("call me tomorrow", "周五再打"): 10:00 that day.
- A time already past today with no day named ("at 9 am" said at 15:00): that time tomorrow.
- "after 7" is taken as 19:00 itself: the gate, not this parser, keeps calls inside the hours.
The result is an aware datetime in the debtor's zone; the engine stores it as UTC. Whether the
hour is callable (23:00, a holiday) is the compliance gate's decision when the callback falls due.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from dialer.bot.money import en_integer, zh_integer
from dialer.bot.nlu_dates import parse_en_date, parse_zh_date
from dialer.bot.nlu_numbers import ZH_NUMERAL_CHARS, en_words_to_number, zh_numeral_to_number

DEFAULT_DELAY = timedelta(hours=2)
DAY_ONLY_HOUR = 10
PART_HOURS = {"morning": 9, "noon": 12, "afternoon": 14, "evening": 19}


def after(now: datetime, delta: timedelta) -> datetime:
    """`delta` of elapsed time, not of wall clock: "in two hours" across a DST change is two hours."""
    return (now.astimezone(timezone.utc) + delta).astimezone(now.tzinfo)


def _clock_hour(hour: int, part: str | None, now: datetime, day_named: bool) -> int:
    """A spoken hour (1-12 or 0-23) as a 24-hour clock hour, using the part of the day if said."""
    if hour >= 13 or hour == 0:
        return hour % 24
    if part == "morning":
        return 0 if hour == 12 else hour
    if part == "noon":
        return hour if hour >= 11 else hour + 12
    if part in ("afternoon", "evening"):
        return hour if hour == 12 else hour + 12
    if hour == 12:
        return 12
    if hour <= 7:
        return hour + 12
    # 8-11 with nothing else said: the morning if still ahead (or another day), else the evening.
    return hour if day_named or now.hour < hour else hour + 12


def resolve(now: datetime, *, day: date | None, hour: int | None, minute: int, part: str | None,
            delta: timedelta | None) -> datetime:
    """The callback instant in `now`'s zone from what was said (see the module's conventions)."""
    if delta is not None:
        return after(now, delta)
    today = now.date()
    if day is not None and day <= today:
        day = None                      # "today" / "tonight" name no other day
    if hour is None and part is None:
        if day is None:
            return after(now, DEFAULT_DELAY)
        return datetime.combine(day, time(DAY_ONLY_HOUR), tzinfo=now.tzinfo)
    clock = _clock_hour(hour, part, now, day is not None) if hour is not None else PART_HOURS[part or "morning"]
    at = datetime.combine(day or today, time(clock, minute if hour is not None else 0), tzinfo=now.tzinfo)
    if day is None and at <= now:
        at += timedelta(days=1)
    return at


# ---- English ------------------------------------------------------------------------------------
_EN_HOUR = r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_EN_MINUTE = r"(\d{2}|fifteen|thirty|forty five|forty|forty-five|twenty|ten|o five|fifty)"


def _en_clean(text: str) -> str:
    t = text.lower().replace("’", "'")
    t = re.sub(r"\ba\.?\s?m\b\.?", " am ", t)
    t = re.sub(r"\bp\.?\s?m\b\.?", " pm ", t)
    t = re.sub(r"(\d)(am|pm)\b", r"\1 \2", t)
    t = re.sub(r"o'?\s?clock", " oclock ", t)
    t = re.sub(r"(\d):(\d\d)", r"\1 \2", t)
    t = " " + " ".join(re.sub(r"[^a-z0-9 ]", " ", t).split()) + " "
    # "am" only counts after an hour ("I am busy" is not the morning): mark it where it does.
    t = re.sub(rf"(?<= ){_EN_HOUR}((?: {_EN_MINUTE})?) am (?=)", r"\1\2 antemeridiem ", t)
    return t


def _en_number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return en_words_to_number(word.replace("-", " ").split())


def _en_part(t: str) -> str | None:
    if re.search(r" (morning|first thing|antemeridiem) ", t):
        return "morning"
    if re.search(r" (noon|midday|lunch|lunchtime|lunch time) ", t):
        return "noon"
    if " afternoon " in t:
        return "afternoon"
    if re.search(r" (evening|tonight|night|pm) ", t):
        return "evening"
    return None


def en_callback_time(text: str, now: datetime) -> datetime:
    """When an English speaker asked to be called back, in `now`'s zone (default now + 2 h)."""
    t = _en_clean(text)
    m = re.search(r" (?:in|after|give (?:me|it)|about|another) (?:about |another )?(an|a|one|half an|a half|"
                  r"a couple of|a couple|couple of|a few|few|\d+|[a-z]+(?: [a-z]+)?) (hours?|hrs?|minutes?|mins?) ", t)
    if m:
        amount_words = m.group(1)
        unit = timedelta(hours=1) if m.group(2).startswith("h") else timedelta(minutes=1)
        count = {"half an": 0.5, "a half": 0.5, "a couple of": 2, "a couple": 2, "couple of": 2,
                 "a few": 3, "few": 3}.get(amount_words)
        if count is None:
            count = _en_number(amount_words)
        if count:
            return resolve(now, day=None, hour=None, minute=0, part=None, delta=unit * count)
    if re.search(r" in half an hour ", t):
        return after(now, timedelta(minutes=30))
    day = parse_en_date(t, now.date())
    part = _en_part(t)
    hour, minute = None, 0
    m = re.search(rf" (half|quarter) (past|after|to) {_EN_HOUR} ", t)
    if m and (h := _en_number(m.group(3))) is not None:
        hour, minute = h, 30 if m.group(1) == "half" else 15
        if m.group(2) == "to":
            hour, minute = (h - 1) % 12 or 12, 45
    if hour is None:
        m = (re.search(rf" {_EN_HOUR}(?: {_EN_MINUTE})? (?:antemeridiem|pm|oclock) ", t)
             or re.search(rf" (?:at|after|around|about|by|until|till|from|before|past|say) "
                          rf"(?:about |around )?{_EN_HOUR}(?: {_EN_MINUTE})?(?: ish)? ", t))
        if m and (h := _en_number(m.group(1))) is not None and 0 <= h <= 23:
            hour = h
            if m.group(2):
                minute = _en_number(m.group(2).replace("o five", "5")) or 0
    if hour is None and part is None and " after work " in t:
        hour, part = 6, "evening"
    return resolve(now, day=day, hour=hour, minute=minute if minute < 60 else 0, part=part, delta=None)


# ---- Mandarin -----------------------------------------------------------------------------------
_ZH_NUM = rf"[0-9{ZH_NUMERAL_CHARS}]+"


def _zh_part(t: str) -> str | None:
    if re.search(r"上午|早上|早晨|清早|一早|明早|早点儿?打|早上好", t):
        return "morning"
    if "中午" in t:
        return "noon"
    if "下午" in t:
        return "afternoon"
    if re.search(r"晚上|傍晚|今晚|明晚|晚间|夜里", t):
        return "evening"
    return None


def zh_callback_time(text: str, now: datetime) -> datetime:
    """When a Mandarin speaker asked to be called back, in `now`'s zone (default now + 2 h)."""
    t = re.sub(r"[\s，。！？、,.!?~…；;]+", "", text)
    m = re.search(rf"(半|{_ZH_NUM}|几)个?半?(小时|钟头|分钟)(?:后|以后|之后)", t) \
        or re.search(rf"过(半|{_ZH_NUM}|几)个?半?(小时|钟头|分钟)", t)
    if m:
        count: float | None = {"半": 0.5, "几": 3}.get(m.group(1))
        if count is None:
            count = zh_numeral_to_number(m.group(1))
        if count and "半" in m.group(0)[m.end(1) - m.start(0):]:
            count += 0.5                 # "一个半小时"
        unit = timedelta(minutes=1) if m.group(2) == "分钟" else timedelta(hours=1)
        if count:
            return resolve(now, day=None, hour=None, minute=0, part=None, delta=unit * count)
    day = parse_zh_date(t, now.date())
    part = _zh_part(t)
    hour, minute = None, 0
    m = re.search(rf"({_ZH_NUM})[点點时](半|一刻|三刻|({_ZH_NUM})分?)?", t) or re.search(r"(\d{1,2}):(\d{2})", t)
    if m and (h := zh_numeral_to_number(m.group(1))) is not None and 0 <= h <= 23:
        hour = h
        tail = m.group(2) or ""
        minute = {"半": 30, "一刻": 15, "三刻": 45}.get(tail, 0)
        if tail and not minute:
            minute = zh_numeral_to_number(tail.rstrip("分")) or 0
    return resolve(now, day=day, hour=hour, minute=minute if minute < 60 else 0, part=part, delta=None)


def callback_time(text: str, language: str, now: datetime) -> datetime:
    if language.lower().startswith("zh"):
        return zh_callback_time(text, now)
    return en_callback_time(text, now)


# ---- Saying it back -----------------------------------------------------------------------------
_EN_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_ZH_WEEKDAYS = "一二三四五六日"


def speak_callback(at: datetime, now: datetime, language: str) -> str:
    """The confirmation's time words: "today at 6 pm" / "tomorrow at nine thirty am" / "今天晚上六点"."""
    days = (at.date() - now.date()).days
    if language.lower().startswith("zh"):
        day = {0: "今天", 1: "明天", 2: "后天"}.get(days) or (
            f"星期{_ZH_WEEKDAYS[at.weekday()]}" if days < 7 else f"{zh_integer(at.month)}月{zh_integer(at.day)}日")
        part = ("凌晨" if at.hour < 6 else "上午" if at.hour < 12 else "中午" if at.hour < 13
                else "下午" if at.hour < 18 else "晚上")
        hour12 = at.hour if at.hour <= 12 else at.hour - 12
        hour_words = "两" if hour12 == 2 else zh_integer(hour12)
        minutes = "" if at.minute == 0 else "半" if at.minute == 30 else f"{zh_integer(at.minute)}分"
        return f"{day}{part}{hour_words}点{minutes}"
    day = {0: "today", 1: "tomorrow"}.get(days) or (
        f"on {_EN_WEEKDAYS[at.weekday()]}" if days < 7 else f"on {at:%B} {at.day}")
    if (at.hour, at.minute) == (12, 0):
        return f"{day} at noon"
    hour12 = at.hour % 12 or 12
    words = en_integer(hour12)
    if at.minute:
        words += " " + (f"oh {en_integer(at.minute)}" if at.minute < 10 else en_integer(at.minute))
    return f"{day} at {words} {'a.m.' if at.hour < 12 else 'p.m.'}"
