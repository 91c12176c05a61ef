"""The clock the core reads.

Every rule that depends on time takes a `Clock` so tests and the simulator can run the same code
on a fixed or simulated time. Times are aware datetimes in UTC; local time is derived per contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class FixedClock:
    """A clock that only moves when told to (tests, the simulator)."""

    current: datetime

    def __post_init__(self) -> None:
        self.current = ensure_utc(self.current)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> datetime:
        self.current = self.current + timedelta(seconds=seconds)
        return self.current

    def set(self, instant: datetime) -> None:
        self.current = ensure_utc(instant)


def ensure_utc(instant: datetime) -> datetime:
    """Reject naive datetimes: a naive time in a dialer is a window violation waiting to happen."""
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant!r}: pass an aware datetime (UTC)")
    return instant.astimezone(timezone.utc)


@dataclass
class OffsetClock:
    """Real time shifted by a fixed offset: a rehearsal of a campaign at another hour of the day,
    with time still flowing (used by the demo and multi-process tests)."""

    offset: timedelta

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset
