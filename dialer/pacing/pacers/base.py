"""What every pacer shares: the interface and the limits no mode may exceed."""

from __future__ import annotations

import abc
import math
from typing import Protocol

from dialer.pacing.snapshot import PacingSnapshot


class Pacer(Protocol):
    def calls_to_place(self, snapshot: PacingSnapshot) -> int:
        """How many new calls to originate now. Called once per tick, in time order."""
        ...


class CallRateLimiter:
    """Token bucket for the calls-per-second limit of a trunk or carrier.

    A rate below one call per tick still dials (one call every few ticks) instead of rounding to 0.
    """

    def __init__(self) -> None:
        self._tokens: float | None = None
        self._last: float | None = None

    def available(self, snapshot: PacingSnapshot) -> int:
        rate = snapshot.limits.calls_per_second
        burst = max(1.0, rate * snapshot.limits.tick_seconds)
        if self._tokens is None or self._last is None:
            self._tokens = burst
        else:
            self._tokens = min(burst, self._tokens + rate * max(0.0, snapshot.now - self._last))
        self._last = snapshot.now
        return int(math.floor(self._tokens + 1e-9))

    def spend(self, calls: int) -> None:
        if self._tokens is not None:
            self._tokens -= calls


def line_room(snapshot: PacingSnapshot, *, per_agent_cap: bool = True) -> int:
    """Calls that still fit under the channel limit and the line cap (lines per active agent)."""
    limits = snapshot.limits
    room = limits.channel_limit - limits.lines_in_use
    if per_agent_cap:
        cap = math.floor(limits.max_lines_per_agent * snapshot.active_agents + 1e-9)
        room = min(room, cap - snapshot.in_flight)
    return max(0, room)


def progressive_calls(snapshot: PacingSnapshot) -> int:
    """One call per free agent: every ringing or waiting call already has an agent reserved."""
    return max(0, snapshot.free_agents - snapshot.in_flight)


class LimitedPacer(abc.ABC):
    """Base class: subclasses say what they want; this clamps it to every limit, in one place."""

    per_agent_cap = True

    def __init__(self) -> None:
        self._rate = CallRateLimiter()
        self.tokens_now = 0   # calls the rate limit allows this tick (a model need not look further)

    def calls_to_place(self, snapshot: PacingSnapshot) -> int:
        self.observe(snapshot)
        tokens = self._rate.available(snapshot)
        self.tokens_now = tokens
        if snapshot.guaranteed_agent_only:
            # The gate says the abandonment budget is spent: no call without a free agent for it.
            wanted = self.guaranteed_calls(snapshot)
        else:
            wanted = self.wanted(snapshot)
        calls = max(0, min(wanted, tokens, line_room(snapshot, per_agent_cap=self.per_agent_cap)))
        self._rate.spend(calls)
        return calls

    def observe(self, snapshot: PacingSnapshot) -> None:
        """Learn from the snapshot; runs every tick, whatever mode the tick ends up in."""

    @abc.abstractmethod
    def wanted(self, snapshot: PacingSnapshot) -> int:
        """Calls this mode wants now, before the rate limit and line cap; each mode defines it."""

    def guaranteed_calls(self, snapshot: PacingSnapshot) -> int:
        return progressive_calls(snapshot)
