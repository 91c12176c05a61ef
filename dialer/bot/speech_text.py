"""Dates, phone numbers and prompt variables as the bot says them, in Mandarin or English."""

from __future__ import annotations

from datetime import date

from dialer.bot.money import en_integer, zh_digits, zh_integer

_EN_MONTHS = ("January February March April May June July August September October November "
              "December").split()
_EN_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_ZH_WEEKDAYS = "一二三四五六日"
_EN_ORDINAL_SPECIAL = {1: "first", 2: "second", 3: "third", 5: "fifth", 8: "eighth", 9: "ninth",
                       12: "twelfth"}


def is_chinese(language: str) -> bool:
    return language.lower().startswith("zh")


def en_ordinal(n: int) -> str:
    """21 → twenty-first, 30 → thirtieth."""
    if n in _EN_ORDINAL_SPECIAL:
        return _EN_ORDINAL_SPECIAL[n]
    if n > 20 and n % 10:
        return f"{en_integer(n - n % 10)}-{en_ordinal(n % 10)}"
    word = en_integer(n)
    return word[:-1] + "ieth" if word.endswith("y") else word + "th"


def speak_date(day: date, language: str, *, with_weekday: bool = True) -> str:
    """2026-11-27 → "十一月二十七日，星期五" / "Friday, November twenty-seventh"."""
    if is_chinese(language):
        text = f"{zh_integer(day.month)}月{zh_integer(day.day)}日"
        if with_weekday:
            text += f"，星期{_ZH_WEEKDAYS[day.weekday()]}"
        return text
    text = f"{_EN_MONTHS[day.month - 1]} {en_ordinal(day.day)}"
    return f"{_EN_WEEKDAYS[day.weekday()]}, {text}" if with_weekday else text


def speak_digits(digits: str, language: str) -> str:
    """A phone number or card tail read digit by digit, grouped by the caller's own separators."""
    if is_chinese(language):
        # 一 is read 幺 in phone numbers so it cannot be confused with 七.
        return zh_digits(digits).replace("一", "幺")
    return " ".join(en_integer(int(c)) if c.isdigit() else "," for c in digits if c.strip())
