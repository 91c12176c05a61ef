"""Promise dates said in words, resolved against the call's `today` (never the wall clock).

Conventions (documented because callers and collectors disagree on them):
- "Friday" / "this Friday" / "周五" / "这周五": the next Friday after today (today itself if said
  "today"); "next Friday" / "下周五": the Friday of the following Monday-based week.
- "end of the month" / "月底": the last day of the current month; "next month" / "下个月": the 1st of
  next month unless a day is given ("下个月5号").
- "in a couple of days" / "过两天": today + 2; "in a few days" / "过几天": today + 3.
- "the 15th" / "15号": that day this month, or next month if it has passed.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from dialer.bot.nlu_numbers import ZH_NUMERAL_CHARS, en_words_to_number, zh_numeral_to_number

_EN_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_ZH_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_EN_ORDINAL_DAYS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}
_EN_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
              "september", "october", "november", "december"]


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _next_month_day(today: date, dom: int) -> date:
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return date(year, month, min(dom, calendar.monthrange(year, month)[1]))


def _day_of_month(today: date, dom: int) -> date | None:
    if not 1 <= dom <= 31:
        return None
    if dom >= today.day and dom <= calendar.monthrange(today.year, today.month)[1]:
        return today.replace(day=dom)
    return _next_month_day(today, dom)


def _upcoming_weekday(today: date, weekday: int) -> date:
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


def _next_week_weekday(today: date, weekday: int) -> date:
    next_monday = today + timedelta(days=7 - today.weekday())
    return next_monday + timedelta(days=weekday)


def parse_en_date(text: str, today: date) -> date | None:
    t = " " + re.sub(r"[^a-z0-9 ]", " ", text.lower()) + " "
    t = re.sub(r"\s+", " ", t)
    if re.search(r" (right now|now|today|tonight|this (morning|afternoon|evening)|immediately|"
                 r"straight away|right away|in an hour|in a few minutes|later today|as we speak|this minute) ", t):
        return today
    if " day after tomorrow " in t:
        return today + timedelta(days=2)
    if " tomorrow " in t:
        return today + timedelta(days=1)
    if re.search(r" (end of (the|this) month|end of month|month end|end of the month) ", t):
        return _month_end(today)
    if re.search(r" (couple of days|couple days|two days) ", t):
        return today + timedelta(days=2)
    if re.search(r" (few days) ", t):
        return today + timedelta(days=3)
    m = re.search(r" in ((?:[a-z]+ ?){1,3}|\d+) (days?|weeks?) ", t)
    if m:
        words = m.group(1).split()
        count = en_words_to_number(words)
        if count is not None:
            return today + timedelta(days=count * (7 if m.group(2).startswith("week") else 1))
    for index, name in enumerate(_EN_WEEKDAYS):
        if re.search(rf" next {name} ", t):
            return _next_week_weekday(today, index)
        if re.search(rf" {name} ", t):
            return _upcoming_weekday(today, index)
    if " next week " in t:
        return today + timedelta(days=7)
    if " this weekend " in t or " the weekend " in t or " weekend " in t:
        return _upcoming_weekday(today, 5) if today.weekday() != 5 else today
    for index, name in enumerate(_EN_MONTHS):
        m = re.search(rf" {name} (\d{{1,2}})(?:st|nd|rd|th)? ", t)
        if m:
            candidate = date(today.year, index + 1, min(int(m.group(1)), 28 if index == 1 else 30 if index in (3, 5, 8, 10) else 31))
            return candidate if candidate >= today else candidate.replace(year=today.year + 1)
    m = re.search(r" (?:on |by )?the (\d{1,2})(?:st|nd|rd|th) ", t) or re.search(r" (\d{1,2})(?:st|nd|rd|th) ", t)
    if m:
        return _day_of_month(today, int(m.group(1)))
    m = re.search(r" the ((?:twenty|thirty)[ ]?)?(" + "|".join(_EN_ORDINAL_DAYS) + ") ", t)
    if m:
        dom = _EN_ORDINAL_DAYS[m.group(2)] + (20 if m.group(1) and "twenty" in m.group(1) else 30 if m.group(1) else 0)
        return _day_of_month(today, dom)
    if " next month " in t or " beginning of next month " in t:
        return _next_month_day(today, 1)
    return None


_ZH_NUM = rf"[0-9{ZH_NUMERAL_CHARS}]+"


def _zh_int(chunk: str) -> int | None:
    return zh_numeral_to_number(chunk)


def parse_zh_date(text: str, today: date) -> date | None:
    t = text.replace(" ", "")
    m = re.search(rf"下个?月({_ZH_NUM})[号日]", t)
    if m and (dom := _zh_int(m.group(1))):
        return _next_month_day(today, dom)
    m = re.search(rf"({_ZH_NUM})月({_ZH_NUM})[号日]", t)
    if m and (month := _zh_int(m.group(1))) and (dom := _zh_int(m.group(2))) and 1 <= month <= 12:
        candidate = date(today.year, month, min(dom, calendar.monthrange(today.year, month)[1]))
        return candidate if candidate >= today else candidate.replace(year=today.year + 1)
    if re.search(r"现在|马上|立刻|立即|立马|今天|今晚|今儿|当天|一会儿就|这就|下午就|上午就|等下就|待会儿?就", t):
        return today
    if "大后天" in t:
        return today + timedelta(days=3)
    if "后天" in t:
        return today + timedelta(days=2)
    if re.search(r"明天|明儿|明早|明晚", t):
        return today + timedelta(days=1)
    m = re.search(r"(下个?|下下)(?:周|星期|礼拜)([一二三四五六日天末])", t)
    if m:
        day = _next_week_weekday(today, _ZH_WEEKDAY[m.group(2)])
        return day + timedelta(days=7) if m.group(1) == "下下" else day
    m = re.search(r"(?:这|本)?(?:周|星期|礼拜)([一二三四五六日天末])", t)
    if m:
        return _upcoming_weekday(today, _ZH_WEEKDAY[m.group(1)])
    if re.search(r"月底|月末|这个月底|本月底", t):
        return _month_end(today)
    if re.search(r"下个?月初|下个?月", t):
        return _next_month_day(today, 1)
    if re.search(r"下周|下星期|下礼拜|一周内|一个星期", t):
        return today + timedelta(days=7)
    if re.search(r"过两天|两天后|两天内|这两天", t):
        return today + timedelta(days=2)
    if re.search(r"过几天|几天后|这几天", t):
        return today + timedelta(days=3)
    m = re.search(rf"({_ZH_NUM})天(?:后|内|之内|以后)", t)
    if m and (count := _zh_int(m.group(1))):
        return today + timedelta(days=count)
    m = re.search(rf"({_ZH_NUM})[号日]", t)
    if m and (dom := _zh_int(m.group(1))):
        return _day_of_month(today, dom)
    return None
