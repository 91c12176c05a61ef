"""Estimators that learn the call population from observable events only, with forgetting.

Each estimator is a decayed histogram on a 1-second grid: every observation adds weight 1 and all
weight decays with time constant `memory_s`, so a drifting answer mix is followed within a few time
constants while a steady one is estimated from thousands of calls (PACING.md, "Building blocks").
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from dialer.pacing.snapshot import Counters, DialResult, ResolvedDial

RESULTS: tuple[DialResult, ...] = tuple(DialResult)
_LIVE = RESULTS.index(DialResult.LIVE)


class _Decay:
    """Shared bookkeeping for time-decayed weights."""

    def __init__(self, memory_s: float) -> None:
        if memory_s <= 0:
            raise ValueError("memory must be positive")
        self.memory_s = memory_s
        self._last: float | None = None

    def factor(self, now: float) -> float:
        if self._last is None or now <= self._last:
            self._last = now if self._last is None else self._last
            return 1.0
        dt, self._last = now - self._last, now
        return math.exp(-dt / self.memory_s)


class OutcomeModel:
    """Joint distribution of (how a dial resolves, after how many seconds of ringing).

    From it: live/machine/busy/no-answer probabilities, the answer-delay distribution of live calls,
    and for a call that has already rung `e` seconds the chance it turns live in each coming second
    (conditioning on survival matters: a call ringing for 20 s is most likely a no-answer).
    """

    def __init__(self, *, memory_s: float = 900.0, max_ring_s: int = 90,
                 min_memory_dials: float = 600.0) -> None:
        self._decay = _Decay(memory_s)
        self.max_ring_s = max_ring_s
        self.min_memory_dials = min_memory_dials
        self.weights = np.zeros((len(RESULTS), max_ring_s + 1))
        self.seen = 0
        self._total = 0.0     # weights.sum() and weights[_LIVE].sum(), kept up to date: read every tick
        self._lives = 0.0

    def observe(self, now: float, resolved: tuple[ResolvedDial, ...]) -> None:
        f = self._decay.factor(now)
        # A small team dials slowly: never forget below `min_memory_dials` of weight, or 15
        # minutes of memory would be a few dozen calls and the estimates would be noise.
        if f != 1.0 and self._total * f >= self.min_memory_dials:
            self.weights *= f
            self._total *= f
            self._lives *= f
        self.seen += len(resolved)
        for dial in resolved:
            b = min(int(dial.ring_seconds), self.max_ring_s)
            self.weights[RESULTS.index(dial.result), b] += 1.0
            self._total += 1.0
            self._lives += dial.result is DialResult.LIVE

    @property
    def effective_dials(self) -> float:
        return self._total

    @property
    def effective_lives(self) -> float:
        return self._lives

    def probability(self, result: DialResult) -> float:
        total = self.effective_dials
        return float(self.weights[RESULTS.index(result)].sum() / total) if total else 0.0

    def live_by(self, horizon: int) -> np.ndarray:
        """For a dial placed now: P(it is live and has answered within t s), t = 0..horizon-1."""
        total = self.effective_dials
        live = np.zeros(horizon)
        if total == 0:
            return live
        cum = np.cumsum(self.weights[_LIVE]) / total
        n = min(horizon, len(cum))
        live[:n] = cum[:n]
        live[n:] = cum[-1]
        return live

    def live_arrivals(self, elapsed: np.ndarray, horizon: int) -> np.ndarray:
        """Per ringing call (rows) P(it answers live within t more seconds), t = 0..horizon-1."""
        if len(elapsed) == 0 or self.effective_dials == 0:
            return np.zeros((len(elapsed), horizon))
        size = self.max_ring_s + 1 + horizon + 1
        live = np.zeros(size)
        live[: self.max_ring_s + 1] = self.weights[_LIVE]
        everything = np.zeros(size)
        everything[: self.max_ring_s + 1] = self.weights.sum(axis=0)
        live_cum = np.concatenate(([0.0], np.cumsum(live)))
        survival = everything[::-1].cumsum()[::-1]     # weight resolving at or after each bin
        e = np.minimum(elapsed.astype(int), self.max_ring_s)
        still = survival[e]
        idx = e[:, None] + np.arange(1, horizon + 1)[None, :]
        got = live_cum[idx] - live_cum[e][:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(still[:, None] > 0, got / still[:, None], 0.0)
        return np.clip(out, 0.0, 1.0)


class DurationModel:
    """Distribution of a duration (talk or wrap-up) with its residual life given the elapsed time.

    Issabel's pacer uses the unconditional distribution for "likely to finish"; conditioning on
    elapsed time is what makes a long call's end predictable (PACING.md, "Others").
    """

    def __init__(self, *, memory_s: float = 3600.0, max_s: int = 3600, horizon_pad: int = 128,
                 min_memory: float = 200.0) -> None:
        self._decay = _Decay(memory_s)
        self.min_memory = min_memory
        self.seen = 0
        self.max_s = max_s
        self._pad = horizon_pad
        self.weights = np.zeros(max_s + 1)
        self._total = 0.0
        self._cdf: np.ndarray | None = None
        self._mean: float | None = None
        self._matrix: tuple[tuple[int, int], np.ndarray] | None = None
        self._version = 0

    def observe(self, now: float, durations: tuple[float, ...]) -> None:
        f = self._decay.factor(now)
        if f != 1.0 and self._total * f >= self.min_memory:
            self.weights *= f
            self._total *= f
        self.seen += len(durations)
        for d in durations:
            self.weights[min(int(d), self.max_s)] += 1.0
            self._total += 1.0
        if durations:
            # Decay alone rescales every bin alike and leaves the distribution unchanged.
            self._cdf = None
            self._mean = None
            self._version += 1

    @property
    def effective_samples(self) -> float:
        return self._total

    @property
    def mean(self) -> float:
        if self._mean is None:
            total = self.weights.sum()
            self._mean = float((self.weights * (np.arange(self.max_s + 1) + 0.5)).sum() / total) if total else 0.0
        return self._mean

    def cdf_grid(self) -> np.ndarray:
        """P(duration < b) for b = 0..max_s+1, padded with the last value for horizon look-ups."""
        if self._cdf is None:
            total = self.weights.sum()
            cum = np.concatenate(([0.0], np.cumsum(self.weights)))
            cdf = cum / total if total else cum
            self._cdf = np.concatenate((cdf, np.full(self._pad + 1, cdf[-1])))
        return self._cdf

    def residual_pmf(self, elapsed: np.ndarray, horizon: int) -> np.ndarray:
        """Rows: P(the activity ends in second s from now | it has lasted `elapsed`), s < horizon."""
        n = len(elapsed)
        if n == 0:
            return np.zeros((0, horizon))
        if horizon > self._pad:
            raise ValueError(f"horizon {horizon} s exceeds the model's padding {self._pad} s")
        cdf = self.cdf_grid()
        e = np.minimum(elapsed.astype(int), self.max_s)
        cum = cdf[e[:, None] + np.arange(horizon + 1)[None, :]]
        remaining = 1.0 - cum[:, 0]
        pmf = cum[:, 1:] - cum[:, :-1]
        beyond = remaining <= 1e-3
        pmf /= np.where(beyond, 1.0, remaining)[:, None]
        if beyond.any():
            # Past everything observed: fall back to a memoryless tail with the observed mean.
            mean = max(self.mean, 1.0)
            pmf[beyond] = np.diff(1.0 - np.exp(-np.arange(horizon + 1) / mean))
        return pmf

    def wrap_matrix(self, horizon: int) -> np.ndarray:
        """M[s, t] = P(duration ≤ t − s): multiplies a pmf of start times into a cdf of end times."""
        key = (horizon, self._version)
        if self._matrix is None or self._matrix[0] != key:
            cdf = self.cdf_within(horizon) if self._total else np.ones(horizon)
            lag = np.arange(horizon)[None, :] - np.arange(horizon)[:, None]
            self._matrix = (key, np.where(lag >= 0, cdf[np.clip(lag, 0, horizon - 1)], 0.0))
        return self._matrix[1]

    def cdf_within(self, horizon: int) -> np.ndarray:
        """Unconditional P(duration ≤ t) for t = 0..horizon-1."""
        cdf = self.cdf_grid()
        out = np.ones(horizon)
        n = min(horizon, self.max_s + 1)
        out[:n] = cdf[1 : n + 1]
        return out


def agents_free_by(talk: DurationModel, wrap: DurationModel, talking: np.ndarray,
                   wrapping: np.ndarray, horizon: int) -> np.ndarray:
    """Rows: P(busy agent is ready again within t s), t = 0..horizon-1; talkers then wrappers.

    A talking agent is free after the residual talk plus a whole wrap-up: the convolution of the
    residual-talk pmf with the wrap-up cdf (a Toeplitz matrix product).
    """
    rows = []
    if len(talking):
        pmf = talk.residual_pmf(talking, horizon)
        rows.append(np.minimum(pmf @ wrap.wrap_matrix(horizon), 1.0))
    if len(wrapping):
        rows.append(np.minimum(np.cumsum(wrap.residual_pmf(wrapping, horizon), axis=1), 1.0))
    if not rows:
        return np.zeros((0, horizon))
    return rows[0] if len(rows) == 1 else np.vstack(rows)


@dataclass(frozen=True, slots=True)
class WindowCount:
    lives: int
    abandons: int
    span_s: float        # how much of the window has data

    @property
    def rate(self) -> float:
        return self.abandons / self.lives if self.lives else 0.0


class RollingAbandonment:
    """Abandoned ÷ live answers over trailing windows, from the running counters of each tick."""

    def __init__(self, *, keep_s: float = 3600.0) -> None:
        self.keep_s = keep_s
        self._ticks: deque[tuple[float, int, int]] = deque()
        self._first: float | None = None
        self._last = Counters()
        self._lives = 0
        self._abandons = 0

    def record(self, now: float, counters: Counters) -> None:
        if self._first is None:
            self._first = now
            self._last = counters
        d_live = counters.live_answers - self._last.live_answers
        d_ab = counters.abandons - self._last.abandons
        self._last = counters
        if d_live or d_ab:
            self._ticks.append((now, d_live, d_ab))
            self._lives += d_live
            self._abandons += d_ab
        while self._ticks and self._ticks[0][0] <= now - self.keep_s:
            _, lv, ab = self._ticks.popleft()
            self._lives -= lv
            self._abandons -= ab

    def trailing(self, now: float) -> WindowCount:
        """The window of `keep_s` seconds ending now."""
        span = 0.0 if self._first is None else min(self.keep_s, now - self._first)
        return WindowCount(self._lives, self._abandons, span)

    @property
    def overall(self) -> WindowCount:
        return WindowCount(self._last.live_answers, self._last.abandons, 0.0)


class DecayedAbandonment:
    """Abandonment rate with exponential forgetting: the feedback signal of the predictive pacer.

    A sliding window turns a single old abandon leaving the window into a jump in the signal; an
    exponentially weighted rate changes smoothly, which keeps the integral loop from oscillating.
    """

    def __init__(self, *, memory_s: float = 2400.0) -> None:
        self._decay = _Decay(memory_s)
        self._last: Counters | None = None
        self.lives = 0.0
        self.abandons = 0.0

    def record(self, now: float, counters: Counters) -> None:
        f = self._decay.factor(now)
        last = self._last or counters
        self.lives = self.lives * f + (counters.live_answers - last.live_answers)
        self.abandons = self.abandons * f + (counters.abandons - last.abandons)
        self._last = counters

    @property
    def rate(self) -> float:
        return self.abandons / self.lives if self.lives > 0 else 0.0


class DecayedRate:
    """Events per second of a running counter, with exponential forgetting."""

    def __init__(self, *, memory_s: float = 60.0) -> None:
        self._decay = _Decay(memory_s)
        self._last: int | None = None
        self._count = 0.0
        self._span = 0.0
        self._t: float | None = None

    def record(self, now: float, total: int) -> None:
        f = self._decay.factor(now)
        dt = 0.0 if self._t is None else max(0.0, now - self._t)
        self._t = now
        self._count = self._count * f + (total - (self._last if self._last is not None else total))
        self._span = self._span * f + dt
        self._last = total

    @property
    def per_second(self) -> float:
        return self._count / self._span if self._span > 0 else 0.0
