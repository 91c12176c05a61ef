"""When a text may go out: the sending window in every candidate zone, and per-debtor caps.

The window and caps come from the policy profile (e.g. cn: no contact 22:00–08:00 local, GB/T
45251—2025); they are plain parameters here so this module does not depend on the profile loader.
As for calls, a number whose zone is uncertain may be texted only when the window is open in all
candidate zones (the rule of 12 CFR 1006.6(b)(1)(i), applied to texts as well).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from dialer.clock import ensure_utc
from dialer.compliance import windows as calling
from dialer.compliance.profiles import CallingWindows

_SEARCH_DAYS = 8


class TextWindow(Protocol):
    """When texts may go out to one contact."""

    def is_open(self, instant: datetime) -> bool: ...

    def next_open(self, instant: datetime) -> datetime: ...


@dataclass(frozen=True)
class SendingWindow:
    """Local [window_start, window_end) in each zone; start > end wraps past midnight."""

    window_start: time
    window_end: time
    zones: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.zones:
            raise ValueError("a sending window needs at least one zone")
        if self.window_start == self.window_end:
            raise ValueError("window_start equals window_end: say which hours are open")
        for zone in self.zones:
            ZoneInfo(zone)  # fail at configuration time on a typo, not at 3 a.m.

    def is_open(self, instant: datetime) -> bool:
        instant = ensure_utc(instant)
        return all(self._open_in(instant, zone) for zone in self.zones)

    def next_open(self, instant: datetime) -> datetime:
        """The earliest instant at or after `instant` open in every zone.

        The intersection of the zones' windows opens either now or at some zone's local
        window_start, so those are the only candidates to check.
        """
        instant = ensure_utc(instant)
        if self.is_open(instant):
            return instant
        candidates: set[datetime] = set()
        for zone in self.zones:
            tz = ZoneInfo(zone)
            first_day = instant.astimezone(tz).date() - timedelta(days=1)
            for offset in range(_SEARCH_DAYS + 1):
                local = datetime.combine(first_day + timedelta(days=offset), self.window_start,
                                         tzinfo=tz)
                # a start inside a spring-forward gap maps past the gap: still a real instant
                candidates.add(ensure_utc(local))
        for candidate in sorted(c for c in candidates if c > instant):
            if self.is_open(candidate):
                return candidate
        raise ValueError(f"the windows of {self.zones} never overlap: no time to send a text")

    def _open_in(self, instant: datetime, zone: str) -> bool:
        local = instant.astimezone(ZoneInfo(zone)).time()
        if self.window_start < self.window_end:
            return self.window_start <= local < self.window_end
        return local >= self.window_start or local < self.window_end


@dataclass(frozen=True)
class ProfileSendingWindow:
    """The policy profile's calling windows (weekdays, holidays, the debtor's agreements and named
    inconvenient times, every candidate zone) also bound texts, optionally narrowed further by the
    campaign's own sending hours."""

    windows: CallingWindows
    hours: calling.ContactHours
    campaign: SendingWindow | None = None

    def is_open(self, instant: datetime) -> bool:
        instant = ensure_utc(instant)
        if not calling.is_open(self.windows, self.hours, instant):
            return False
        return self.campaign is None or self.campaign.is_open(instant)

    def next_open(self, instant: datetime) -> datetime:
        candidate = ensure_utc(instant)
        for _ in range(64):   # alternate until both agree; two or three rounds in practice
            opening = calling.next_open(self.windows, self.hours, candidate)
            if opening is None:
                raise ValueError(f"the profile's window never opens for zones {self.hours.zones}")
            if self.campaign is not None:
                opening = self.campaign.next_open(opening)
            if opening == candidate:
                return candidate
            candidate = opening
        raise ValueError("the profile's window and the campaign's sending hours never overlap")


@dataclass(frozen=True)
class SmsCaps:
    """At most this many collection texts to one debtor per rolling day / week (None: no cap)."""

    per_day: int | None = 1
    per_week: int | None = 3


def earliest_send(now: datetime, window: TextWindow, caps: SmsCaps,
                  sent_to_debtor: Iterable[datetime]) -> datetime:
    """The first instant at or after `now` that is inside the window and under both caps.

    `sent_to_debtor` holds texts sent and texts queued (at their planned time). The check is
    conservative for caps above one: it may wait longer than strictly needed, never less.
    """
    sent = sorted(ensure_utc(at) for at in sent_to_debtor)
    candidate = ensure_utc(now)
    for _ in range(64):   # each pass moves forward; a few suffice, the bound guards a bad config
        moved = candidate
        for limit, span in ((caps.per_day, timedelta(days=1)), (caps.per_week, timedelta(days=7))):
            if limit is None:
                continue
            if limit < 1:
                raise ValueError("an SMS cap must be at least 1, or None for no cap")
            # texts already queued for later count too: a send at t must leave every rolling
            # span that contains t under the cap, and all such spans lie within (t-span, t+span)
            near = [at for at in sent if moved - span < at < moved + span]
            if len(near) >= limit:
                moved = near[len(near) - limit] + span
        moved = window.next_open(moved)
        if moved == candidate:
            return candidate
        candidate = moved
    raise ValueError("could not find a send time satisfying the window and caps")
