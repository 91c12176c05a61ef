"""The rolling-hour guard: how much abandonment the coming minutes can afford, every rolling hour kept.

The regulator's figure is a long window (30 days, a calendar day); the one people feel, and issue 4's
invariant, is every rolling hour ≤ the ceiling. A rolling hour that ends Δ seconds from now keeps what
the trailing hour holds after its first Δ seconds (known exactly: it is the past) and adds the answers
of the next Δ seconds. So for a few Δ the guard knows how many more abandons, k, that window can hold,
and allows the largest mean μ of abandons with P(Poisson(μ) > k) ≤ ε. Divided by the answers expected
in Δ it is a rate cap on the pacer's tolerance.

A hard switch to progressive dialing at a fixed distance from the ceiling (the previous guard) has a
trap: progressive dialing at a low answer rate brings few answers, few answers make one abandon a big
share, and the guard never reopens. Here the cap falls smoothly with the room left and rises again as
answers arrive, so the pacer ramps back instead of locking itself out.
"""

from __future__ import annotations

import math
from bisect import bisect_right

import numpy as np
from scipy.special import gammainccinv, ndtri

from dialer.pacing.snapshot import Counters

HOUR = 3600.0
# The windows ending this far ahead are checked; short ones bind when the hour is nearly spent, long
# ones when the hour so far had few answers.
CHECKPOINTS_S = (60.0, 180.0, 600.0, 1800.0, 3600.0)


def poisson_room(max_k: int, epsilon: float) -> np.ndarray:
    """room[k] = the largest mean μ with P(Poisson(μ) > k) ≤ ε, for k = 0..max_k.

    P(N ≤ k) = Q(k + 1, μ) (regularised upper incomplete gamma), so μ = Q⁻¹(k + 1, 1 − ε).
    """
    return np.asarray([gammainccinv(k + 1, 1.0 - epsilon) for k in range(max_k + 1)])


class HourLedger:
    """Cumulative live answers and abandons at every tick that changed them, over the trailing hour.

    Counts between two instants are two bisections away, which keeps the guard O(log n) per tick at
    1,000 agents (an hour of ticks is 3,600 entries).
    """

    def __init__(self, *, keep_s: float = HOUR) -> None:
        self.keep_s = keep_s
        self.first: float | None = None
        self._times: list[float] = []
        self._lives: list[int] = []
        self._abandons: list[int] = []
        self._head = 0                       # first entry still inside the window
        self._base = (0, 0)                  # totals just before the head entry

    def record(self, now: float, counters: Counters) -> None:
        if self.first is None:
            self.first = now
            self._base = (counters.live_answers, counters.abandons)
        last = (self._lives[-1], self._abandons[-1]) if len(self._times) > self._head else self._base
        if (counters.live_answers, counters.abandons) != last:
            self._times.append(now)
            self._lives.append(counters.live_answers)
            self._abandons.append(counters.abandons)
        while self._head < len(self._times) and self._times[self._head] <= now - self.keep_s:
            self._base = (self._lives[self._head], self._abandons[self._head])
            self._head += 1
        if self._head > 4096 and self._head * 2 > len(self._times):
            del self._times[: self._head], self._lives[: self._head], self._abandons[: self._head]
            self._head = 0

    def _totals_at(self, t: float) -> tuple[int, int]:
        i = bisect_right(self._times, t, lo=self._head) - 1
        if i < self._head:
            return self._base
        return self._lives[i], self._abandons[i]

    def between(self, start: float, end: float) -> tuple[int, int]:
        """(live answers, abandons) recorded in (start, end]; start no earlier than the window."""
        lo, hi = self._totals_at(start), self._totals_at(end)
        return hi[0] - lo[0], hi[1] - lo[1]


class HourGuard:
    def __init__(self, *, ceiling: float, epsilon: float = 0.05, max_k: int = 400) -> None:
        self.ceiling = ceiling
        self.epsilon = epsilon
        self.ledger = HourLedger()
        self._room = poisson_room(max_k, epsilon)
        self._z = float(ndtri(1.0 - epsilon))

    def record(self, now: float, counters: Counters) -> None:
        self.ledger.record(now, counters)

    def room_for(self, k: int) -> float:
        if k < len(self._room):
            return float(self._room[k])
        # Normal approximation beyond the table: μ + z·√μ = k.
        z = self._z
        root = (-z + math.sqrt(z * z + 4.0 * k)) / 2.0
        return root * root

    def allowed_rate(self, now: float, lives_per_s: float, in_flight_abandons: float) -> float:
        """The largest mean abandon rate of the coming answers that keeps every rolling hour safe.

        `lives_per_s` is the answer rate expected meanwhile; `in_flight_abandons` the abandons the
        calls already dialled are expected to bring (they land in every window checked).
        """
        first = self.ledger.first
        if first is None or lives_per_s <= 0:
            return 0.0
        best = math.inf
        for dt in CHECKPOINTS_S:
            # Only whole hours are judged: before the first hour is over, the window that ends at
            # its end is the first one a checker sees.
            end = max(now + dt, first + HOUR)
            kept_lives, kept_abandons = self.ledger.between(end - HOUR, now)
            new_lives = lives_per_s * (end - now)
            holdable = self.ceiling * (kept_lives + new_lives) - kept_abandons
            if holdable < 0:
                return 0.0
            mu = self.room_for(int(math.floor(holdable + 1e-9))) - in_flight_abandons
            if mu <= 0:
                return 0.0
            best = min(best, mu / new_lives)
            if end >= now + HOUR:
                break
        return best
