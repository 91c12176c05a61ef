"""The model-based predictive pacer, and the blended variant that lets the bot absorb overflow.

Each tick: forecast, second by second over the next `horizon_s`, how many agents will be ready
(free now, plus each busy agent's chance to finish talk and wrap-up given its elapsed time) and how
many live answers will arrive (each ringing call's chance to turn live given how long it has rung,
plus p_live·P(answer delay ≤ t) per new dial). The stock "ready agents minus answers" at each second
is a sum of independent Bernoullis, approximated as normal; an answer arriving in second t is
abandoned when the stock is exhausted then, i.e. finds nobody within the 2-second grace (PACING.md,
"Per-tick decision"). Dial the most calls that keep expected abandons ≤ τ · expected answers.

τ is set from the team size so that the worst hour, not only the average, stays under the ceiling,
and an integral controller on the measured rolling abandonment corrects the model's bias. A guard on
the trailing hour and the gate's `guaranteed_agent_only` flag fall back to progressive dialing; so does
a cold start, until the estimators have seen enough calls to be trusted.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from dialer.pacing.estimators import (
    DecayedAbandonment,
    DurationModel,
    OutcomeModel,
    RollingAbandonment,
    agents_free_by,
)
from dialer.pacing.pacers.base import LimitedPacer, line_room, progressive_calls
from dialer.pacing.snapshot import PacingSnapshot

def rate_with_margin(limit: float, lives: float, z: float) -> float:
    """Largest mean abandon rate r whose realised rate over `lives` answers stays ≤ limit with margin z·sd.

    Abandons ≈ Poisson(r·lives), so the window's rate has sd ≈ sqrt(r/lives): solve r + z·sqrt(r/lives) = limit.
    """
    if lives <= 0:
        return 0.0
    b = z / math.sqrt(lives)
    root = (-b + math.sqrt(b * b + 4.0 * limit)) / 2.0
    return root * root


def team_target(lives_per_hour: float, *, ceiling: float, overall: float, z: float,
                overall_z: float = 1.5, shift_hours: float = 3.0) -> float:
    """The mean abandon rate to aim for: the worst hour under `ceiling`, the shift under `overall`.

    Small teams get a lower target: 5 agents answer ~250 calls an hour, where 3 % is 7 people.
    """
    return min(rate_with_margin(ceiling, lives_per_hour, z),
               rate_with_margin(overall, lives_per_hour * shift_hours, overall_z))


class PredictivePacer(LimitedPacer):
    def __init__(self, *, ceiling: float = 0.03, overall_target: float = 0.02,
                 hour_margin_z: float = 2.0, target: float | None = None, grace_s: int = 2,
                 horizon_s: int = 30, outcome_memory_s: float = 900.0,
                 duration_memory_s: float = 3600.0, min_dials: int = 150, min_lives: int = 20,
                 min_talks: int = 15, feedback_gain: float = 1.0 / 1800.0,
                 feedback_memory_s: float = 2400.0, guard_fraction: float = 0.9,
                 guard_reserve: float = 2.5,
                 model_bias: float = 0.25, max_calls_per_tick: int = 400,
                 continuity: float = 0.0) -> None:
        super().__init__()
        self.continuity = continuity
        self.ceiling = ceiling
        self.overall_target = overall_target
        self.hour_margin_z = hour_margin_z
        self.fixed_target = target
        self.grace_s = grace_s
        self.horizon_s = horizon_s
        self.min_dials, self.min_lives, self.min_talks = min_dials, min_lives, min_talks
        self.feedback_gain = feedback_gain
        self.guard_fraction = guard_fraction
        self.guard_reserve = guard_reserve
        self.max_calls_per_tick = max_calls_per_tick
        self.outcomes = OutcomeModel(memory_s=outcome_memory_s)
        self.talk = DurationModel(memory_s=duration_memory_s)
        self.wrap = DurationModel(memory_s=duration_memory_s, max_s=600)
        self.hour = RollingAbandonment(keep_s=3600.0)
        self.shift = RollingAbandonment(keep_s=math.inf)
        self.feedback = DecayedAbandonment(memory_s=feedback_memory_s)
        # Integral term: τ = target · exp(log_scale). It starts at the bias measured in simulation:
        # each tick's forecast ignores the dials later ticks will add, so it under-counts by 2.5–3.5×.
        self.log_scale = math.log(model_bias)
        self._service_mean = 0.0
        self._last_now: float | None = None
        self.last_mode = "cold"

    # -- learning -----------------------------------------------------------------------------
    def observe(self, snapshot: PacingSnapshot) -> None:
        now = snapshot.now
        self.outcomes.observe(now, snapshot.recent.resolved)
        self.talk.observe(now, snapshot.recent.talk_seconds)
        self.wrap.observe(now, snapshot.recent.wrap_seconds)
        self.hour.record(now, self.guarded(snapshot))
        self.shift.record(now, self.guarded(snapshot))
        self.feedback.record(now, snapshot.counters)
        self._service_mean = self.talk.mean + self.wrap.mean
        dt = 0.0 if self._last_now is None else max(0.0, now - self._last_now)
        self._last_now = now
        self._integrate(snapshot, dt)

    def guarded(self, snapshot: PacingSnapshot):  # noqa: ANN201 - Counters, overridden by blended
        """The abandons the hour and shift guards count (all of them, unless the bot is live)."""
        return snapshot.counters

    @property
    def trustworthy(self) -> bool:
        return (self.outcomes.seen >= self.min_dials
                and self.outcomes.effective_lives >= self.min_lives
                and self.talk.seen >= self.min_talks)

    def lives_per_hour(self, snapshot: PacingSnapshot) -> float:
        service = self._service_mean
        return snapshot.active_agents * 3600.0 / service if service > 0 else 0.0

    def target(self, snapshot: PacingSnapshot) -> float:
        if self.fixed_target is not None:
            return self.fixed_target
        return team_target(self.lives_per_hour(snapshot), ceiling=self.ceiling,
                           overall=self.overall_target, z=self.hour_margin_z)

    def _integrate(self, snapshot: PacingSnapshot, dt: float) -> None:
        window = self.feedback
        if dt == 0.0 or window.lives < 30 or not self.trustworthy:
            return
        goal = self.target(snapshot)
        if goal <= 0:
            return
        # Relative error, so the loop has the same speed at 1 % and at 3 %; clamped (anti-windup).
        error = (goal - window.rate) / goal
        # Asymmetric: back off three times faster than it presses on; overshooting costs a
        # rolling hour, undershooting only a little occupancy.
        gain = self.feedback_gain * (3.0 if error < 0 else 1.0)
        self.log_scale = min(1.5, max(-4.0, self.log_scale + gain * dt * max(-2.0, error)))

    def tolerance(self, snapshot: PacingSnapshot) -> float:
        headroom = min(self.hour_headroom(snapshot), self.shift_headroom(snapshot))
        return self.target(snapshot) * math.exp(self.log_scale) * headroom

    # -- deciding -----------------------------------------------------------------------------
    def hour_headroom(self, snapshot: PacingSnapshot) -> float:
        """1 while the trailing hour has room under the ceiling, falling to 0 as the room runs out.

        The hour that is still filling up is judged on its projected lives: the regulator's window
        that starts at the top of the shift will contain them. At 0 the pacer dials progressively:
        a couple more abandons could put a rolling hour over the ceiling. Every rolling window is
        the trailing window at its own end, so guarding the trailing hour guards them all.
        """
        hour = self.hour.trailing(snapshot.now)
        # Project the unfilled part of the hour at the live-answer rate actually achieved, never
        # at more than a fully busy team could take, nor below a quarter of it (else a progressive
        # stretch, with its few answers, would keep the guard closed).
        full = self.lives_per_hour(snapshot)
        measured = hour.lives / max(hour.span_s, 60.0) * 3600.0
        rate = min(full, max(measured, 0.25 * full))
        projected = hour.lives + rate * max(0.0, 3600.0 - hour.span_s) / 3600.0
        # The reserve stands for abandons already in flight when the guard closes: the calls
        # ringing now were dialled under the old tolerance.
        guard = self.guard_fraction * self.ceiling
        return self._headroom(hour.abandons, projected, guard, (guard + self.target(snapshot)) / 2.0)

    def shift_headroom(self, snapshot: PacingSnapshot) -> float:
        """The same guard on everything since the start, against the overall limit."""
        shift = self.shift.trailing(snapshot.now)
        if shift.lives < 1000:   # early in the shift its rate is mostly noise; the hour guard holds
            return 1.0
        guard = 0.97 * self.overall_target
        return self._headroom(shift.abandons, float(shift.lives), guard, guard - 0.005, reserve=0.0)

    def _headroom(self, abandons: float, lives: float, guard: float, soft: float,
                  reserve: float | None = None) -> float:
        """1 below `soft`, falling linearly to 0 at `guard` (rates counting the reserve)."""
        if lives <= 0:
            return 0.0
        rate = (abandons + (self.guard_reserve if reserve is None else reserve)) / lives
        if rate >= guard:
            return 0.0
        return min(1.0, (guard - rate) / max(guard - soft, 1e-9))

    def wanted(self, snapshot: PacingSnapshot) -> int:
        if not self.trustworthy:
            self.last_mode = "cold"
            return progressive_calls(snapshot)
        tolerance = self.tolerance(snapshot)
        if tolerance <= 0:
            self.last_mode = "guard"
            return progressive_calls(snapshot)
        self.last_mode = "model"
        room = min(line_room(snapshot, per_agent_cap=self.per_agent_cap), self.max_calls_per_tick,
                   self.tokens_now)
        return max(progressive_calls(snapshot), self.model_calls(snapshot, room, tolerance))

    def supply(self, snapshot: PacingSnapshot, horizon: int) -> tuple[float, np.ndarray, np.ndarray]:
        """(ready now, mean and variance of agents ready again within t + grace seconds)."""
        span = horizon + self.grace_s
        talking, t_counts = _grouped(snapshot.talking)
        wrapping, w_counts = _grouped(snapshot.wrapping)
        probs = agents_free_by(self.talk, self.wrap, talking, wrapping, span)
        counts = np.concatenate((t_counts, w_counts))
        mean = counts @ probs if len(counts) else np.zeros(span)
        var = counts @ (probs * (1.0 - probs)) if len(counts) else np.zeros(span)
        return float(snapshot.free_agents), mean[self.grace_s:], var[self.grace_s:]

    def model_calls(self, snapshot: PacingSnapshot, room: int, tolerance: float) -> int:
        if room <= 0:
            return 0
        horizon = self.horizon_s
        free, rel_mean, rel_var = self.supply(snapshot, horizon)
        ringing, r_counts = _grouped(snapshot.ringing)
        arrivals = self.outcomes.live_arrivals(ringing, horizon)
        arr_mean = r_counts @ arrivals if len(r_counts) else np.zeros(horizon)
        arr_var = r_counts @ (arrivals * (1.0 - arrivals)) if len(r_counts) else np.zeros(horizon)
        waiting = float(len(snapshot.waiting))
        per_dial = self.outcomes.live_by(horizon)

        base_stock = free - waiting + rel_mean - arr_mean
        base_var = rel_var + arr_var
        dial_var = per_dial * (1.0 - per_dial)
        base_arrivals = arr_mean.copy()
        base_arrivals[1:] -= arr_mean[:-1]
        dial_arrivals = per_dial.copy()
        dial_arrivals[1:] -= per_dial[:-1]

        def acceptable(n: int) -> bool:
            # Expected answers arriving in each second, and the chance the ready-agent stock is
            # exhausted then: abandons ≈ Σ_t arrivals_t · P(stock_t < 0). The unreflected stock
            # over-counts a little (an abandoned caller frees nothing), erring on the safe side.
            # Continuity correction: the stock is a whole number of agents, short means ≤ −1.
            stock = base_stock - n * per_dial
            p_short = ndtr((-self.continuity - stock) / np.sqrt(np.maximum(base_var + n * dial_var, 1e-9)))
            abandons = waiting * p_short[0] + float((base_arrivals + n * dial_arrivals) @ p_short)
            answers = waiting + arr_mean[-1] + n * per_dial[-1]
            return abandons <= tolerance * max(answers, 1e-9)

        if not acceptable(0):
            return 0
        # The abandon share grows with n: binary search for the largest acceptable n.
        low, high = 0, room
        if acceptable(high):
            return high
        while high - low > 1:
            mid = (low + high) // 2
            if acceptable(mid):
                low = mid
            else:
                high = mid
        return low


class BlendedPacer(PredictivePacer):
    """Predictive dialing where the bot takes any live answer no agent can take within 2 s.

    Nobody hears silence while a bot channel is free. Whether such a call is still an abandoned call
    is the profile's decision (COMPLIANCE.md: by default it is). By default, therefore, this pacer
    dials exactly like the predictive one and the bot only changes what the caller hears. A campaign
    whose profile counts the bot as a live representative sets `overflow_target`: the pacer then
    aims for that share of answers overflowing to free bot channels, and its hour and shift guards
    watch *silent* abandons (nobody at all) instead.
    """

    def __init__(self, *, overflow_target: float | None = None, **params: float) -> None:
        super().__init__(target=overflow_target, **params)  # type: ignore[arg-type]
        self.overflow_target = overflow_target

    def guarded(self, snapshot: PacingSnapshot):  # noqa: ANN201
        c = snapshot.counters
        if self.overflow_target is None:
            return c
        return type(c)(c.dials, c.live_answers, c.abandons - c.bot_rescues, 0)

    def model_calls(self, snapshot: PacingSnapshot, room: int, tolerance: float) -> int:
        if self.overflow_target is not None and snapshot.bot_free <= 0:
            tolerance *= 0.25   # no bot channel free: an overflow now would be heard as silence
        return super().model_calls(snapshot, room, tolerance)


def _grouped(values: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Group elapsed times by whole second: 1,000 agents cost what ~300 distinct seconds cost."""
    if not values:
        return np.zeros(0, dtype=int), np.zeros(0)
    whole = np.asarray(values, dtype=float).astype(int)
    if len(whole) < 64:   # grouping small teams costs more than it saves
        return whole, np.ones(len(whole))
    unique, counts = np.unique(whole, return_counts=True)
    return unique, counts.astype(float)
