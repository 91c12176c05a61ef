"""Numbers said in words, for amounts and verification answers ("two hundred", "一千五", "一九八五")."""

from __future__ import annotations

import re
from decimal import Decimal

_EN_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_EN_UNITS.update({"oh": 0, "a": 1, "an": 1})
_EN_TENS = {w: 10 * i for i, w in enumerate(
    "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_EN_SCALES = {"thousand": 1000, "million": 10**6, "grand": 1000, "k": 1000}

_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000, "亿": 10**8}
ZH_NUMERAL_CHARS = "".join(_ZH_DIGITS) + "".join(_ZH_UNITS)


def en_words_to_number(words: list[str]) -> int | None:
    """["two", "hundred", "fifty"] → 250; ["fifteen", "hundred"] → 1500; None when not a number."""
    if not words:
        return None
    total = 0
    current = 0
    seen = False
    for word in words:
        if word == "and":
            continue
        if word in _EN_UNITS:
            if word in ("a", "an") and seen:
                return None
            current += _EN_UNITS[word]
        elif word in _EN_TENS:
            current += _EN_TENS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        elif word in _EN_SCALES:
            total += (current or 1) * _EN_SCALES[word]
            current = 0
        elif re.fullmatch(r"\d+(\.\d+)?", word):
            current += int(float(word))
        else:
            return None
        seen = True
    return total + current


def is_en_number_word(word: str) -> bool:
    return (word in _EN_UNITS or word in _EN_TENS or word == "hundred" or word in _EN_SCALES
            or word == "and" or bool(re.fullmatch(r"\d[\d,]*(\.\d+)?", word)))


def zh_numeral_to_number(text: str) -> int | None:
    """一千二百三十四 → 1234, 两万五 → 25000, 一千五 → 1500 (the unit after the last one is implied),
    三百 → 300, 一九八五 → 1985 (digit by digit), 500 → 500."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if all(c in _ZH_DIGITS for c in text):
        return int("".join(str(_ZH_DIGITS[c]) for c in text))
    total = 0        # completed 万/亿 sections
    section = 0      # value below 万
    digit: int | None = None
    last_unit = 1
    for char in text:
        if char in _ZH_DIGITS:
            digit = _ZH_DIGITS[char]
        elif char in ("十", "百", "千"):
            unit = _ZH_UNITS[char]
            section += (1 if digit is None else digit) * unit
            digit = None
            last_unit = unit
        elif char in ("万", "亿"):
            unit = _ZH_UNITS[char]
            section += digit or 0
            total = (total + section) * unit
            section = 0
            digit = None
            last_unit = unit
        elif char.isdigit():
            digit = (digit or 0) * 10 + int(char)
        else:
            return None
    if digit is not None:
        # 一千五 means 1500: a lone trailing digit right after a unit counts in the unit below it;
        # after 零 (一千零五) it is a plain unit.
        after_zero = len(text) >= 2 and text[-2] in "零〇"
        section += digit * (1 if after_zero or last_unit < 100 else last_unit // 10)
    return total + section


def spoken_digits(text: str, language: str) -> str | None:
    """The digit string in a verification answer: "nineteen eighty five" → "1985",
    "four three two one" → "4321", "一九八五年" → "1985", "1985" → "1985"."""
    if language.lower().startswith("zh"):
        # "后四位是6688": a numeral counting positions (四位) is not part of the answer.
        found = re.findall(r"[0-9]+|[" + ZH_NUMERAL_CHARS + "]+", re.sub(r"[" + ZH_NUMERAL_CHARS + r"]+位", "", text))
        out = ""
        for chunk in found:
            if chunk.isdigit():
                out += chunk
            elif all(c in _ZH_DIGITS for c in chunk):
                out += "".join(str(_ZH_DIGITS[c]) for c in chunk)
            else:
                value = zh_numeral_to_number(chunk)
                out += str(value) if value is not None else ""
        return out or None
    words = re.findall(r"[a-z]+|\d+", text.lower().replace("-", " "))
    if any(w in ("thousand", "hundred") for w in words):
        number_words = [w for w in words if is_en_number_word(w)]
        value = en_words_to_number(number_words)
        return str(value) if value is not None else None
    out = ""
    index = 0
    while index < len(words):
        word = words[index]
        if word.isdigit():
            out += word
        elif word in _EN_TENS:
            value = _EN_TENS[word]
            if index + 1 < len(words) and words[index + 1] in _EN_UNITS and 0 < _EN_UNITS[words[index + 1]] < 10 \
                    and words[index + 1] not in ("a", "an"):
                value += _EN_UNITS[words[index + 1]]
                index += 1
            out += str(value)
        elif word in _EN_UNITS and word not in ("a", "an"):
            out += str(_EN_UNITS[word])
        index += 1
    return out or None


def parse_decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except ArithmeticError:
        return None
