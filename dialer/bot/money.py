"""Numbers and amounts as words, the way a collector says them on the phone.

Text-to-speech engines read digits badly (Debian's espeak-ng 1.51 reads digits inside Mandarin text
in English), so every number the bot speaks is turned into words here first.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_ZH_DIGITS = "零一二三四五六七八九"
_ZH_SMALL_UNITS = ("", "十", "百", "千")
_ZH_BIG_UNITS = ("", "万", "亿", "万亿")

_EN_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
            "fifteen sixteen seventeen eighteen nineteen").split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_EN_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))

# Spoken currency names: (major unit, minor unit) per language.
_CURRENCY_WORDS: dict[str, dict[str, tuple[str, str, str, str]]] = {
    # code: language: (major singular, major plural, minor singular, minor plural)
    "USD": {"en": ("dollar", "dollars", "cent", "cents"), "zh": ("美元", "美元", "美分", "美分")},
    "CNY": {"en": ("yuan", "yuan", "fen", "fen"), "zh": ("元", "元", "分", "分")},
    "GBP": {"en": ("pound", "pounds", "penny", "pence"), "zh": ("英镑", "英镑", "便士", "便士")},
    "EUR": {"en": ("euro", "euros", "cent", "cents"), "zh": ("欧元", "欧元", "欧分", "欧分")},
}


def _lang(language: str) -> str:
    return "zh" if language.lower().startswith("zh") else "en"


def _zh_below_10000(n: int) -> str:
    """0 < n < 10000, with 零 for inner gaps (1005 → 一千零五) and 一十 kept inside larger numbers."""
    digits = [int(d) for d in f"{n:04d}"]
    out: list[str] = []
    zero_pending = False
    started = False
    for position, digit in enumerate(digits):
        unit = _ZH_SMALL_UNITS[3 - position]
        if digit == 0:
            if started:
                zero_pending = True
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(_ZH_DIGITS[digit] + unit)
        started = True
    return "".join(out)


def zh_integer(n: int) -> str:
    """Mandarin reading of a non-negative integer: 1234 → 一千二百三十四, 10 → 十, 20005 → 二万零五."""
    if n < 0:
        return "负" + zh_integer(-n)
    if n == 0:
        return "零"
    groups: list[int] = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out = ""
    need_zero = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or group < 1000):
            out += "零"
        out += _zh_below_10000(group) + _ZH_BIG_UNITS[index]
        need_zero = False
    # Spoken Mandarin says 十二, not 一十二, when the number starts with the tens.
    if out.startswith("一十"):
        out = out[1:]
    return out


def zh_digits(text: str) -> str:
    """Read digit by digit (phone numbers, card tails, years): 1985 → 一九八五."""
    return "".join(_ZH_DIGITS[int(c)] if c.isdigit() else c for c in text)


def en_integer(n: int) -> str:
    """English reading without 'and': 1234 → one thousand two hundred thirty-four."""
    if n < 0:
        return "minus " + en_integer(-n)
    if n < 20:
        return _EN_ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_EN_ONES[hundreds]} hundred" + (f" {en_integer(rest)}" if rest else "")
    for scale, word in _EN_SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            return f"{en_integer(high)} {word}" + (f" {en_integer(rest)}" if rest else "")
    raise AssertionError("unreachable")


def integer_words(n: int, language: str) -> str:
    return zh_integer(n) if _lang(language) == "zh" else en_integer(n)


def speak_amount(amount: Decimal | int | float | str, currency: str, language: str) -> str:
    """An amount of money as it is said: rounded to the minor unit, zero parts left out.

    CNY in Mandarin uses 元/角/分 (1234.50 → 一千二百三十四元五角), the way Chinese banks' robots say it.
    """
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value < 0:
        raise ValueError(f"negative amount {value}: an amount owed is never spoken as negative")
    major = int(value)
    minor = int((value - major) * 100)
    lang = _lang(language)
    code = currency.upper()
    if lang == "zh" and code == "CNY":
        return _zh_cny(major, minor)
    words = _CURRENCY_WORDS.get(code, {}).get(lang)
    if words is None:
        words = (code, code, "", "") if lang == "en" else (code, code, "", "")
    major_sg, major_pl, minor_sg, minor_pl = words
    if lang == "zh":
        text = f"{zh_integer(major)}{major_sg}"
        if minor:
            text += f"{zh_integer(minor)}{minor_sg}"
        return text
    parts = []
    if major or not minor:
        parts.append(f"{en_integer(major)} {major_sg if major == 1 else major_pl}")
    if minor:
        parts.append(f"{en_integer(minor)} {minor_sg if minor == 1 else minor_pl}")
    return " and ".join(parts)


def _zh_cny(yuan: int, fen_total: int) -> str:
    jiao, fen = divmod(fen_total, 10)
    text = f"{zh_integer(yuan)}元" if yuan or not fen_total else ""
    if jiao:
        text += f"{_ZH_DIGITS[jiao]}角"
    if fen:
        if yuan and not jiao:
            text += "零"
        text += f"{_ZH_DIGITS[fen]}分"
    return text
