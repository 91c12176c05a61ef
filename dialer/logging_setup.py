"""Log lines for production: one JSON object per line, with debtors' phone numbers and money masked.

Logs leave the box (journald, log shippers, support tickets) and are kept longer than the
profile's retention of personal data, so by default (`log.mask_pii`) a log line never carries a
full phone number or an amount owed. Correlate by attempt id instead: it is in every line the
daemon writes about a call.

- The masking is pure text → text (`mask_phone_numbers`, `mask_amounts`, `mask_pii`), tested on
  its own. It errs towards masking: a 10-digit number that looks like a US number is masked
  even when it was something else.
- `PiiMaskingFilter` applies it to a record (message with its arguments, exception text, stack,
  `extra=` fields). Put it on a *handler*: handler filters see records of every logger below.
- `JsonLineFormatter` writes `{"ts", "level", "logger", "msg", ...extra, "exc"}`.
- `configure_logging(...)` wires both on the root logger for `dialer run` / `dialer agi-server`.

What is a phone number here: E.164 (`+8613800138000`, `+86 138 0013 8000`, `+1 (415) 555-2671`)
and the `00` international prefix; national Chinese mobiles (`13800138000`, `138-0013-8000`) and
landlines (`010-12345678`, `0755 1234567`); North American numbers (`(415) 555-2671`,
`415-555-2671`, `1-415-555-2671`, `4155552671`, NANP area and exchange codes start with 2-9).
The country code and the last two digits stay visible; separators are kept.

What is an amount: a number with a currency symbol or code (`¥1,234.50`, `1,234.50 CNY`, `$12`,
`USD 12.00`, `300元`), the value of a money-like key (`amount=`, `"balance": `, `minor=`,
`金额：`) and a number after words people use for money (`promised to pay 200`, `owes 3000`).
The number becomes `***`, so neither digits nor magnitude leak.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

KEEP_LAST_DIGITS = 2
MASK = "*"
AMOUNT_MASK = "***"

# Letters/digits (ASCII only: Chinese text runs straight into numbers, "号码13800138000已拨打",
# and \w would count the CJK characters as word characters and hide the number from the pattern).
_NOT_BEFORE = r"(?<![0-9A-Za-z_+])"
_NOT_AFTER = r"(?![0-9A-Za-z_])"

_INTERNATIONAL = re.compile(
    _NOT_BEFORE + r"(?:\+|00)[1-9]\d{0,2}"
    r"(?:\d{5,13}|(?:[ .\-]?\(?\d{1,5}\)?){2,5})" + _NOT_AFTER)
_CN_MOBILE = re.compile(_NOT_BEFORE + r"1[3-9]\d[ \-]?\d{4}[ \-]?\d{4}" + _NOT_AFTER)
_CN_LANDLINE = re.compile(_NOT_BEFORE + r"0[1-9]\d{1,2}[ \-]?\d{7,8}" + _NOT_AFTER)
_NANP = re.compile(_NOT_BEFORE + r"(?:1[ .\-]?)?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .\-]?)[2-9]\d{2}[ .\-]?\d{4}"
                   + _NOT_AFTER)

_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_CODES = r"CNY|RMB|USD|GBP|EUR|HKD|JPY|KRW|INR|AUD|CAD|SGD"
_SYMBOLS = r"US\$|HK\$|[¥￥$£€₹]"
_AMOUNT_PREFIXED = re.compile(rf"(?P<unit>(?:{_SYMBOLS})\s?|\b(?:{_CODES})\s?)(?P<num>-?{_NUMBER})")
_AMOUNT_SUFFIXED = re.compile(rf"(?<![0-9A-Za-z_.]){_NUMBER}(?P<unit>\s?(?:{_CODES})\b|\s?[元块])")
_MONEY_KEYS = r"amount|balance|debt|owed|owing|principal|payment|arrears|outstanding|minor|fee|interest|金额|欠款|余额|还款|应还"
_AMOUNT_KEYED = re.compile(
    rf"(?P<key>(?:\b[A-Za-z_]*)?(?:{_MONEY_KEYS})[A-Za-z_]*[\"']?\s*[=:：]\s*[\"']?)(?P<num>-?{_NUMBER})"
    # Not a date or a time (payment_due=2026-11-23 stays readable).
    r"(?![\d\-:/])",
    re.IGNORECASE)

# "promised to pay 200", "owes 1200": amounts people say, as the bot logs them.
_AMOUNT_WORDED = re.compile(rf"(?P<key>\b(?:amount|balance|pays?|paid|paying|owes?|owed|owing|promised?(?: to pay)?)\s+)"
                            rf"(?P<num>{_NUMBER})(?![\d\-:/%])", re.IGNORECASE)

# Keys of `extra=` fields whose whole value is personal data, whatever its format.
_SENSITIVE_KEY = re.compile(rf"phone|e164|msisdn|caller|callee|dialled|dialed|^number$|{_MONEY_KEYS}", re.IGNORECASE)


def _mask_digits(text: str, keep_first: int) -> str:
    """Replace digits with MASK, except the first `keep_first` and the last KEEP_LAST_DIGITS."""
    total = sum(ch.isdigit() for ch in text)
    out, seen = [], 0
    for ch in text:
        if ch.isdigit():
            seen += 1
            if seen > keep_first and seen <= total - KEEP_LAST_DIGITS:
                ch = MASK
        out.append(ch)
    return "".join(out)


def _country_code_length(digits: str) -> int:
    """Country codes are prefix-free (ITU-T E.164): at most one of the 1-3 digit prefixes is one."""
    for length in (1, 2, 3):
        if int(digits[:length]) in COUNTRY_CODE_TO_REGION_CODE:
            return length
    return 0


def _mask_international(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if text.startswith("00"):
        digits = digits[2:]
    if not 7 <= len(digits) <= 15:   # E.164: at most 15 digits; fewer than 7 is no subscriber number
        return text
    prefix = 2 if text.startswith("00") else 0
    return _mask_digits(text, prefix + _country_code_length(digits))


def _mask_national(match: re.Match[str]) -> str:
    return _mask_digits(match.group(0), 0)


def mask_phone_numbers(text: str) -> str:
    """`+8613800138000` → `+86*********00`; `(415) 555-2671` → `(***) ***-**71`."""
    text = _INTERNATIONAL.sub(_mask_international, text)
    text = _CN_MOBILE.sub(_mask_national, text)
    text = _CN_LANDLINE.sub(_mask_national, text)
    return _NANP.sub(_mask_national, text)


def mask_amounts(text: str) -> str:
    """`¥1,234.50` → `¥***`; `1,234.50 CNY` → `*** CNY`; `balance=1234.5` → `balance=***`."""
    text = _AMOUNT_KEYED.sub(lambda m: m.group("key") + AMOUNT_MASK, text)
    text = _AMOUNT_WORDED.sub(lambda m: m.group("key") + AMOUNT_MASK, text)
    text = _AMOUNT_PREFIXED.sub(lambda m: m.group("unit") + AMOUNT_MASK, text)
    return _AMOUNT_SUFFIXED.sub(lambda m: AMOUNT_MASK + m.group("unit"), text)


def mask_pii(text: str) -> str:
    """Both: amounts first, so a masked amount can no longer look like a phone number."""
    return mask_phone_numbers(mask_amounts(text))


def mask_field(key: str, value: Any) -> Any:
    """An `extra=` field: text masked; a sensitive key (phone, amount, ...) never shows its value."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        masked = mask_pii(value)
        if masked == value and _SENSITIVE_KEY.search(key) and any(ch.isdigit() for ch in value):
            return AMOUNT_MASK
        return masked
    if isinstance(value, (int, float)):
        return AMOUNT_MASK if _SENSITIVE_KEY.search(key) else value
    return mask_pii(str(value))


# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS and not k.startswith("_")}


class PiiMaskingFilter(logging.Filter):
    """Masks a record in place (message and arguments, exception, stack, extras); never drops one."""

    _exception_formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_pii_masked", False):
            return True   # the same record passing a second handler
        record.msg = mask_pii(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._exception_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_pii(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_pii(record.stack_info)
        for key, value in extra_fields(record).items():
            setattr(record, key, mask_field(key, value))
        record._pii_masked = True
        return True


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ms), level, logger, msg, the record's extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
                  .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            line.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def build_handler(*, mask_pii: bool = True, json_lines: bool = True,
                  stream: IO[str] | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLineFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    if mask_pii:
        handler.addFilter(PiiMaskingFilter())
    return handler


def configure_logging(*, level: int | str = logging.INFO, mask_pii: bool = True, json_lines: bool = True,
                      stream: IO[str] | None = None, logger: logging.Logger | None = None) -> logging.Handler:
    """Install the process's log handler on `logger` (default: root), replacing one installed before.

    Returns the handler (tests remove it with `logger.removeHandler`). Called once from each
    process's command, with `mask_pii=settings["log.mask_pii"]`.
    """
    target = logger or logging.getLogger()
    for old in [h for h in target.handlers if getattr(h, "_dialer_handler", False)]:
        target.removeHandler(old)
    handler = build_handler(mask_pii=mask_pii, json_lines=json_lines, stream=stream)
    handler._dialer_handler = True  # type: ignore[attr-defined]
    target.addHandler(handler)
    target.setLevel(level)
    return handler
