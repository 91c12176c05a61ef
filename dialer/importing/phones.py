"""Phone numbers: E.164 normalisation, validity and candidate time zones, via `phonenumbers`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from phonenumbers import PhoneNumber
from phonenumbers import timezone as number_zones

_UNKNOWN_ZONE = "Etc/Unknown"

# The shapes nearly every row of a real file carries: Chinese mobiles as 13812345678,
# +8613812345678, +86 138 1234 5678 or 138-1234-5678, and North American numbers as +1 312 555 0101.
# libphonenumber's `parse` spends ~20 µs on each (punctuation scan, IDD and national-prefix
# stripping by regex) to reach a number whose country code and national number can be read off
# these shapes directly. Only the parse is skipped: validity and zones below come from the same
# library calls as for any other number. Equality with `parse` for every number these patterns
# accept is tested (tests/importing/test_import_fast_paths.py). ASCII digits only: anything else
# (full-width digits, extensions, letters, brackets) takes the full parse.
#   CN: mobiles start 1[3-9]; 11 digits starting with 1 are never cut by CN's national prefix
#   rule `(1(?:[12]\d|79)\d\d)|0` because what would remain is no possible CN number.
#   NANP: an area code never starts with 0 or 1, so the national prefix '1' cannot apply.
_CN_MOBILE = re.compile(r"(\+86[ -]?)?(1[3-9][0-9])[ -]?([0-9]{4})[ -]?([0-9]{4})", re.ASCII)
_NANP = re.compile(r"\+1[ -]?([2-9][0-9]{2})[ -]?([0-9]{3})[ -]?([0-9]{4})", re.ASCII)


class PhoneError(ValueError):
    pass


@dataclass(frozen=True)
class NormalisedPhone:
    e164: str
    time_zones: tuple[str, ...]   # every candidate zone of the number (may be several)


def normalise(raw: str, *, region: str) -> NormalisedPhone:
    """Parse a number as dialled in `region` (ISO 3166 alpha-2) unless it carries a + prefix."""
    text = raw.strip()
    if not text:
        raise PhoneError("empty phone number")
    result = _normalise_text(text, region)
    if isinstance(result, NormalisedPhone):
        return result
    problem, detail = result
    if problem == "parse":
        raise PhoneError(f"{raw!r} is not a phone number ({detail})")
    raise PhoneError(f"{raw!r} is not a valid phone number for region {region}")


# A debtor with several accounts repeats the same number on each row, and third parties recur:
# one parse per distinct text. Errors are cached as (problem, detail) so the message can still
# quote the row's own raw text. Bounded: ~200 bytes an entry.
@lru_cache(maxsize=1 << 17)
def _normalise_text(text: str, region: str) -> NormalisedPhone | tuple[str, str]:
    parsed = fast_parse(text, region)
    if parsed is None:
        try:
            parsed = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException as exc:
            return ("parse", exc._msg)
    # `is_valid_number` and `time_zones_for_number` each compute the number type (~20 µs, a third
    # of the cost of a number); compute it once. Valid <=> type known (that is how the library
    # defines it), and the zone look-up below is the library's own for a type already known.
    kind = phonenumbers.number_type(parsed)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        return ("invalid", "")
    if phonenumbers.is_number_type_geographical(kind, parsed.country_code or 0):
        candidates = number_zones.time_zones_for_geographical_number(parsed)
    else:
        candidates = number_zones.time_zones_for_number(parsed)
    zones = tuple(z for z in candidates if z != _UNKNOWN_ZONE)
    return NormalisedPhone(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), zones)


def fast_parse(text: str, region: str) -> PhoneNumber | None:
    """What `phonenumbers.parse(text, region)` returns, for the common shapes above; else None."""
    if (cn := _CN_MOBILE.fullmatch(text)) is not None:
        international, *groups = cn.groups()
        if international is None and region != "CN":
            return None   # a national number of another region: the full parse decides
        return PhoneNumber(country_code=86, national_number=int("".join(groups)))
    if (nanp := _NANP.fullmatch(text)) is not None:
        return PhoneNumber(country_code=1, national_number=int("".join(nanp.groups())))
    return None


def parse_zones(text: str) -> tuple[str, ...]:
    """'Asia/Shanghai' or 'America/Chicago|America/New_York' -> validated IANA names."""
    zones = tuple(z.strip() for z in text.replace(";", "|").split("|") if z.strip())
    for zone in zones:
        if not _is_zone(zone):
            raise PhoneError(f"unknown time zone {zone!r} (use IANA names like Asia/Shanghai)")
    return zones


@lru_cache(maxsize=1024)
def _is_zone(name: str) -> bool:
    if name not in _known_zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())
