"""VICIdial's adaptive pacing (AST_VDadapt.pl + AST_VDauto_dial.pl), re-implemented as a baseline.

From its documented behaviour (reference/PACING.md), not from its code:
- every 2.5 s: agents = ready + in-call; goal = round(dial_level × agents); place goal − live calls
  (ringing + waiting + connected), within trunk and calls-per-second limits;
- every 1 s: sample ready agents and answered calls waiting; every 15 s compare the 15-sample means,
  differential = mean(ready) − mean(waiting), level ← level × (1 + (differential + diff_target) /
  mean(agents)), clamped to [1.0, max_level]; `adaptive_intensity` −40…+40 scales rises or falls;
- every 60 s: drops ÷ answered *since midnight*; above the limit with more than 50 calls:
  ADAPT_HARD_LIMIT holds the level at 1.0 until the ratio is back under the limit (VICIdial manual:
  "will not go over 1.0 dial level until the percentage drops"); ADAPT_TAPERED lets the first half of
  the shift run over the limit, then caps the level at 1 + (max − 1) × the remaining share of the
  second half (our reading of "gets more strict as the shift goes on"); a last-minute spike (>50 %
  dropped of >20 calls) halves the level.
It ignores our `guaranteed_agent_only` flag on purpose: it is VICIdial's own behaviour.
"""

from __future__ import annotations

import math
from collections import deque

from dialer.pacing.pacers.base import CallRateLimiter
from dialer.pacing.snapshot import PacingSnapshot


class VicidialAdaptPacer:
    def __init__(self, *, method: str = "ADAPT_HARD_LIMIT", drop_limit: float = 0.03,
                 max_level: float = 3.0, diff_target: float = 0.0, intensity: int = 0,
                 shift_s: float = 8 * 3600.0, place_every_s: float = 2.5,
                 start_level: float = 1.0) -> None:
        if method not in ("ADAPT_HARD_LIMIT", "ADAPT_TAPERED"):
            raise ValueError(method)
        self.method = method
        self.drop_limit, self.max_level = drop_limit, max_level
        self.diff_target, self.intensity = diff_target, intensity
        self.shift_s, self.place_every_s = shift_s, place_every_s
        self.level = start_level
        self._cap = max_level     # lowered while the since-midnight drop ratio is over the limit
        self._rate = CallRateLimiter()
        self._samples: deque[tuple[int, int, int]] = deque(maxlen=15)
        self._start: float | None = None
        self._last_place = self._last_adapt = self._last_drop = -math.inf
        self._minute: deque[tuple[float, int, int]] = deque()

    def calls_to_place(self, s: PacingSnapshot) -> int:
        if self._start is None:
            self._start = s.now
        ready, waiting, incall = s.free_agents, len(s.waiting), len(s.talking)
        self._samples.append((ready, waiting, ready + incall))
        self._minute.append((s.now, s.counters.live_answers, s.counters.abandons))
        while self._minute and self._minute[0][0] < s.now - 60:
            self._minute.popleft()
        if s.now - self._last_adapt >= 15 and len(self._samples) == 15:
            self._adapt()
            self._last_adapt = s.now
        if s.now - self._last_drop >= 60:
            self._drop_check(s)
            self._last_drop = s.now
        tokens = self._rate.available(s)
        if s.now - self._last_place < self.place_every_s - 1e-9:
            return 0
        self._last_place = s.now
        goal = round(self.level * (ready + incall))
        live = len(s.ringing) + waiting + incall
        room = s.limits.channel_limit - s.limits.lines_in_use
        calls = max(0, min(goal - live, tokens, room))
        self._rate.spend(calls)
        return calls

    def _adapt(self) -> None:
        ready = sum(x[0] for x in self._samples) / 15
        waiting = sum(x[1] for x in self._samples) / 15
        agents = sum(x[2] for x in self._samples) / 15
        if agents <= 0:
            return
        change = (ready - waiting + self.diff_target) / agents
        # adaptive_intensity: positive makes rises faster, negative makes falls faster (±40 → ±40 %)
        if change > 0:
            change *= 1 + self.intensity / 100
        else:
            change *= 1 - self.intensity / 100
        self.level = min(self._cap, max(1.0, self.level * (1 + change)))

    def _drop_check(self, s: PacingSnapshot) -> None:
        answered, drops = s.counters.live_answers, s.counters.abandons
        if self._minute:
            _, a0, d0 = self._minute[0]
            recent_answered, recent_drops = answered - a0, drops - d0
            if recent_answered > 20 and recent_drops > 0.5 * recent_answered:
                self.level = max(1.0, self.level / 2)
        # "since midnight": the run starts at the start of the day
        if answered <= 50 or drops / answered <= self.drop_limit:
            self._cap = self.max_level
            return
        if self.method == "ADAPT_HARD_LIMIT":
            self._cap = 1.0
        else:
            elapsed = (s.now - (self._start or 0.0)) / self.shift_s
            if elapsed < 0.5:
                return
            remaining = max(0.0, 1.0 - (elapsed - 0.5) / 0.5)
            self._cap = 1.0 + (self.max_level - 1.0) * remaining
        self.level = min(self.level, self._cap)
