"""An independent compliance checker: recomputes abandonment from the call log alone.

It never reads the simulator's or the pacer's own counters: a live answer is abandoned when the log
shows no live agent within the grace period (47 CFR 64.1200(a)(7); Ofcom), and the bot counts as a
live representative only in bot-only campaigns (the call *is* the artificial-voice call) or when the
profile says so (COMPLIANCE.md, "Measuring abandonment"). Windows are those a regulator uses: every
rolling hour inside the shift, each 24 h window, and the whole run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dialer.pacing.snapshot import DialResult
from dialer.sim.engine import CallRecord
from dialer.sim.rules import SimRules

HOUR = 3600.0
DAY = 86400.0


@dataclass(frozen=True)
class CheckReport:
    live_answers: int
    abandons: int
    silent_abandons: int                 # nobody at all, not even the bot
    abandon_rate: float
    worst_hour_rate: float
    worst_hour_lives: int
    hours_over_limit: int                # distinct clock hours whose rolling window started over
    day_rates: tuple[float, ...]
    ring_floor_violations: int
    max_concurrent_lines: int
    channel_limit_violations: int        # dials placed while the limit was already reached
    max_dials_in_a_second: int
    mean_wait_to_agent_s: float

    def as_dict(self) -> dict[str, object]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def check(log: Sequence[CallRecord], rules: SimRules, *, duration_s: float, channel_limit: int,
          bot_is_representative: bool = False) -> CheckReport:
    bot_ok = bot_is_representative or rules.bot_counts_as_live
    grace = rules.grace_s + 1e-6
    answered: list[float] = []
    abandoned: list[bool] = []
    silent = 0
    waits: list[float] = []
    floor_violations = 0
    for r in log:
        if r.result is DialResult.NO_ANSWER and r.resolved_at - r.dialled_at < rules.ring_floor_s:
            floor_violations += 1
        if r.result is not DialResult.LIVE or r.resolved_at > duration_s:
            continue
        agent_in_time = r.connected_at is not None and r.connected_at - r.resolved_at <= grace
        bot_in_time = bot_ok and r.bot_at is not None and r.bot_at - r.resolved_at <= grace
        answered.append(r.resolved_at)
        abandoned.append(not (agent_in_time or bot_in_time))
        if r.connected_at is None and r.bot_at is None:
            silent += 1
        if r.connected_at is not None:
            waits.append(r.connected_at - r.resolved_at)
    times = np.asarray(answered)
    flags = np.asarray(abandoned, dtype=float)
    order = np.argsort(times, kind="stable")
    times, flags = times[order], flags[order]
    worst, worst_lives, hours_over = _rolling_worst(times, flags, duration_s, rules.abandon_limit)
    days = []
    for start in np.arange(0.0, max(duration_s, 1.0), DAY):
        sel = (times >= start) & (times < start + DAY)
        days.append(float(flags[sel].mean()) if sel.any() else 0.0)
    lines, over = _lines(log, duration_s, channel_limit)
    dial_seconds = np.floor(np.asarray([r.dialled_at for r in log]))
    per_second = int(np.unique(dial_seconds, return_counts=True)[1].max()) if len(log) else 0
    return CheckReport(
        live_answers=len(times), abandons=int(flags.sum()), silent_abandons=silent,
        abandon_rate=float(flags.mean()) if len(flags) else 0.0,
        worst_hour_rate=worst, worst_hour_lives=worst_lives, hours_over_limit=hours_over,
        day_rates=tuple(days), ring_floor_violations=floor_violations,
        max_concurrent_lines=lines, channel_limit_violations=over,
        max_dials_in_a_second=per_second,
        mean_wait_to_agent_s=float(np.mean(waits)) if waits else 0.0,
    )


def _rolling_worst(times: np.ndarray, flags: np.ndarray, duration_s: float,
                   limit: float) -> tuple[float, int, int]:
    """Worst abandonment over every 1-hour window lying inside the run (starting or ending at a call)."""
    if len(times) == 0:
        return 0.0, 0, 0
    if duration_s <= HOUR:
        return float(flags.mean()), len(times), int(flags.mean() > limit)
    cum = np.concatenate(([0.0], np.cumsum(flags)))
    starts = np.concatenate(([0.0], times[times <= duration_s - HOUR]))
    ends = np.concatenate((times[times >= HOUR], [duration_s]))
    lo = np.concatenate((np.searchsorted(times, starts, "left"), np.searchsorted(times, ends - HOUR, "right")))
    hi = np.concatenate((np.searchsorted(times, starts + HOUR, "left"), np.searchsorted(times, ends, "right")))
    lives = hi - lo
    ab = cum[hi] - cum[lo]
    rates = np.where(lives > 0, ab / np.maximum(lives, 1), 0.0)
    k = int(np.argmax(rates))
    anchor = np.concatenate((starts, ends - HOUR))
    over_hours = len(np.unique(np.floor(anchor[rates > limit + 1e-12] / HOUR)))
    return float(rates[k]), int(lives[k]), over_hours


def _lines(log: Sequence[CallRecord], duration_s: float, limit: int) -> tuple[int, int]:
    """Peak concurrent channels, and how many dials went out with the limit already reached."""
    if not log:
        return 0, 0
    starts = np.asarray([r.dialled_at for r in log])
    ends = np.asarray([duration_s + 1e9 if r.ended_at is None else r.ended_at for r in log])
    stamps = np.concatenate((starts, ends))
    deltas = np.concatenate((np.ones(len(starts)), -np.ones(len(ends))))
    # ends before starts at the same instant: a line freed this instant can be reused at once
    order = np.lexsort((deltas, stamps))
    level = np.cumsum(deltas[order])
    over = int(((deltas[order] > 0) & (level > limit)).sum())
    return int(level.max()), over
