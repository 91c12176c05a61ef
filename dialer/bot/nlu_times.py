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

The bot reads the time back and asks the caller to confirm it (the recogniser can mishear "six p m"
as "after eight p m"). At those questions an answer needs no "call me": `callback_answer` reads
"six thirty", "no, tomorrow morning", "晚上七点" or keys 1800 (24-hour clock) as the time itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone

from dialer.bot.intents import Intent, Recognition
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


@dataclass(frozen=True)
class SaidTime:
    """The parts of a time the caller said; all None when they named none ("call me later")."""

    day: date | None = None
    hour: int | None = None
    minute: int = 0
    part: str | None = None
    delta: timedelta | None = None

    def names_a_time(self, today: date) -> bool:
        """True when something beyond "now"/"today" was said: an hour, a part of the day, a later day
        or an interval. "Later" or "today" alone name no time (the default applies)."""
        return (self.delta is not None or self.hour is not None or self.part is not None
                or (self.day is not None and self.day > today))

    def at(self, now: datetime) -> datetime:
        return resolve(now, day=self.day, hour=self.hour, minute=self.minute if self.minute < 60 else 0,
                       part=self.part, delta=self.delta)


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
    return en_said_time(text, now.date()).at(now)


# At "What time should we call you?" a bare clock answers ("six", "six thirty tomorrow", "no, seven"):
# an hour at the start, after hesitations, followed by nothing or a day/part word ("one more day"
# is not 1 pm).
_EN_BARE_HOUR = re.compile(
    rf"^ (?:(?:uh|um|er|well|no|nope|yes|ok|okay|maybe|say|lets say|let us say|make it|how about|try|at|around|about) )*"
    rf"{_EN_HOUR}(?: {_EN_MINUTE})?(?= $| (?:today|tomorrow|tonight|this|in the|on|next|after|then|please|instead) )")


def en_said_time(text: str, today: date, *, bare_hour: bool = False) -> SaidTime:
    """The time parts in English words; `bare_hour` also reads a number alone as an hour (only at
    a question that asked for a time)."""
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
            return SaidTime(delta=unit * count)
    if re.search(r" in half an hour ", t):
        return SaidTime(delta=timedelta(minutes=30))
    day = parse_en_date(t, today)
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
                          rf"(?:about |around )?{_EN_HOUR}(?: {_EN_MINUTE})?(?: ish)? ", t)
             or (_EN_BARE_HOUR.search(t) if bare_hour else None))
        if m and (h := _en_number(m.group(1))) is not None and 0 <= h <= 23:
            hour = h
            if m.group(2):
                minute = _en_number(m.group(2).replace("o five", "5")) or 0
    if hour is None and part is None and " after work " in t:
        hour, part = 6, "evening"
    return SaidTime(day=day, hour=hour, minute=minute, part=part)


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
    return zh_said_time(text, now.date()).at(now)


def zh_said_time(text: str, today: date) -> SaidTime:
    """The time parts in Mandarin ("六点" already names an hour, so no bare-hour mode is needed)."""
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
            return SaidTime(delta=unit * count)
    day = parse_zh_date(t, today)
    part = _zh_part(t)
    hour, minute = None, 0
    m = re.search(rf"({_ZH_NUM})[点點时](半|一刻|三刻|({_ZH_NUM})分?)?", t) or re.search(r"(\d{1,2}):(\d{2})", t)
    if m and (h := zh_numeral_to_number(m.group(1))) is not None and 0 <= h <= 23:
        hour = h
        tail = m.group(2) or ""
        minute = {"半": 30, "一刻": 15, "三刻": 45}.get(tail, 0)
        if tail and not minute:
            minute = zh_numeral_to_number(tail.rstrip("分")) or 0
    return SaidTime(day=day, hour=hour, minute=minute, part=part)


def callback_time(text: str, language: str, now: datetime) -> datetime:
    if language.lower().startswith("zh"):
        return zh_callback_time(text, now)
    return en_callback_time(text, now)


# ---- Answers at the callback questions ---------------------------------------------------------
# The listening steps that ask about a callback, by grammar name (scripts and `grammars.py` share
# these): "We will call you back at six p.m. Is that right?" and "What time should we call you?".
CONFIRM_QUESTION = "callback_confirm"
TIME_QUESTION = "callback_time"

# Answers that keep their own meaning at those questions: an opt-out and a request for a human must
# always be honoured, a wrong number ends the call, and a "call me at ..." already carries its time.
_KEEP = frozenset({Intent.STOP_CALLING, Intent.ASKS_HUMAN, Intent.WRONG_NUMBER, Intent.CALLBACK})


def said_time(text: str, language: str, today: date, *, bare_hour: bool = False) -> SaidTime:
    if language.lower().startswith("zh"):
        return zh_said_time(text, today)
    return en_said_time(text, today, bare_hour=bare_hour)


def keyed_time(digits: str, now: datetime) -> datetime | None:
    """A time keyed on the 24-hour clock: HH, HMM or HHMM ("18" / "630" / "1800"), the next such
    time from `now`. One key is never a time: 1 and 2 are yes/no elsewhere and 9 opts out."""
    if not digits.isdigit() or not 2 <= len(digits) <= 4:
        return None
    hour, minute = (int(digits), 0) if len(digits) == 2 else (int(digits[:-2]), int(digits[-2:]))
    if hour > 23 or minute > 59:
        return None
    at = datetime.combine(now.date(), time(hour, minute), tzinfo=now.tzinfo)
    return at if at > now else at + timedelta(days=1)


def callback_answer(recognition: Recognition, grammar: str, language: str, now: datetime, *,
                    keyed: bool) -> Recognition:
    """Read an answer at a callback question as a time when it names one: "six thirty", "no, make it
    seven", "明天上午", keys 1800 become CALLBACK with `callback_at` (aware, `now`'s zone), the other
    intents kept as tags. Other questions, and answers that name no time, come back unchanged; so do
    a yes at the confirmation ("yes, six" confirms) and the intents in `_KEEP`."""
    if grammar not in (CONFIRM_QUESTION, TIME_QUESTION) or recognition.intent in _KEEP:
        return recognition
    if recognition.intent is Intent.AFFIRM and grammar == CONFIRM_QUESTION:
        return recognition
    if keyed:
        at = keyed_time(recognition.digits or "", now) if recognition.intent is Intent.NOT_UNDERSTOOD else None
    else:
        said = said_time(recognition.text, language, now.date(), bare_hour=True)
        at = said.at(now) if said.names_a_time(now.date()) else None
    if at is None:
        return recognition
    return replace(recognition, intent=Intent.CALLBACK, callback_at=at, promised_date=None, amount=None,
                   willingness=None, tags=recognition.tags + (recognition.intent.value,))


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
