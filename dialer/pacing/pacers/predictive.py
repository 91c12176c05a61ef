"""The model-based predictive pacer, and the blended variant that lets the bot absorb overflow.

Each tick: forecast, second by second over the next `horizon_s`, how many agents will be ready
(free now, plus each busy agent's chance to finish talk and wrap-up given its elapsed time) and how
many live answers will arrive (each ringing call's chance to turn live given how long it has rung,
plus p_live·P(answer delay ≤ t) per new dial). The stock "ready agents minus answers" at each second
is a sum of independent Bernoullis, approximated as normal; an answer arriving in second t is
abandoned when the stock is exhausted then, i.e. finds nobody within the 2-second grace (PACING.md,
"Per-tick decision"). Dial the most calls that keep expected abandons ≤ τ · expected answers.

τ is set from the team size so that the shift stays under the overall target, an integral controller
on the measured abandonment corrects the model's bias, and the rolling-hour guard (`guard.py`) caps τ
so that every hour ending in the coming minutes keeps room under the ceiling. No room, the gate's
`guaranteed_agent_only` flag, or a cold start (too few dials seen to trust the answer mix) mean
progressive dialing.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from dialer.pacing.estimators import (
    DecayedAbandonment,
    DecayedRate,
    DurationModel,
    OutcomeModel,
    RollingAbandonment,
    agents_free_by,
)
from dialer.pacing.guard import HourGuard
from dialer.pacing.pacers.base import LimitedPacer, line_room, progressive_calls
from dialer.pacing.snapshot import DialResult, PacingSnapshot

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
                 duration_memory_s: float = 3600.0, min_dials: int = 40, min_lives: int = 4,
                 min_talks: int = 8, caution_z: float = 1.5, feedback_gain: float = 1.0 / 1800.0,
                 feedback_memory_s: float = 2400.0, hour_epsilon: float = 0.02,
                 hour_trust: float = 0.5, ramp_floor: float = 0.25,
                 model_bias: float = 0.5, max_calls_per_tick: int = 400,
                 continuity: float = 0.0, future_dials: float = 0.5,
                 dial_rate_memory_s: float = 60.0) -> None:
        super().__init__()
        self.continuity = continuity
        self.ceiling = ceiling
        self.overall_target = overall_target
        self.hour_margin_z = hour_margin_z
        self.fixed_target = target
        self.grace_s = grace_s
        self.horizon_s = horizon_s
        self.min_dials, self.min_lives, self.min_talks = min_dials, min_lives, min_talks
        self.caution_z = caution_z
        self.feedback_gain = feedback_gain
        self.ramp_floor = ramp_floor
        self.hour_trust = hour_trust
        self.max_calls_per_tick = max_calls_per_tick
        self.outcomes = OutcomeModel(memory_s=outcome_memory_s)
        self.talk = DurationModel(memory_s=duration_memory_s)
        self.wrap = DurationModel(memory_s=duration_memory_s, max_s=600)
        self.hour = HourGuard(ceiling=ceiling, epsilon=hour_epsilon)
        self.shift = RollingAbandonment(keep_s=math.inf)
        self.feedback = DecayedAbandonment(memory_s=feedback_memory_s)
        # Integral term: τ = target · exp(log_scale), the model's bias learnt from the measured
        # rate. It starts at the bias measured in simulation with half the later ticks' dials in
        # the forecast (`future_dials`): the model then over-counts a little on good lists and
        # under-counts on poor ones.
        self.log_scale = math.log(model_bias)
        # Dials per second lately: later ticks will keep dialling at about this rate, and their
        # answers compete for the same agents (ignoring them was most of the model's bias).
        self.future_dials = future_dials
        self._dial_rate = DecayedRate(memory_s=dial_rate_memory_s)
        self._service_mean = 0.0
        self._last_now: float | None = None
        self.last_mode = "cold"
        # Ticks per mode (cold, guard, model, gate): the diagnostics `dialer simulate` reports.
        self.mode_ticks: dict[str, int] = {}

    # -- learning -----------------------------------------------------------------------------
    def observe(self, snapshot: PacingSnapshot) -> None:
        now = snapshot.now
        self.outcomes.observe(now, snapshot.recent.resolved)
        self.talk.observe(now, snapshot.recent.talk_seconds)
        self.wrap.observe(now, snapshot.recent.wrap_seconds)
        self.hour.record(now, self.guarded(snapshot))
        if snapshot.guaranteed_agent_only:
            self._count("gate")
        self.shift.record(now, self.guarded(snapshot))
        self.feedback.record(now, snapshot.counters)
        self._dial_rate.record(now, snapshot.counters.dials)
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
                and self.wrap.seen + self.talk.seen >= 1)

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
        self.log_scale = min(3.0, max(-7.0, self.log_scale + gain * dt * max(-2.0, error)))

    def tolerance(self, snapshot: PacingSnapshot) -> float:
        """The model's abandon tolerance this tick (model units: the real rate × the learned bias)."""
        real = self.target(snapshot) * self.shift_headroom(snapshot)
        return real * math.exp(self.log_scale) if real > 1e-4 else 0.0

    # -- deciding -----------------------------------------------------------------------------
    def hour_allowance(self, snapshot: PacingSnapshot, in_flight: float) -> float:
        """The largest real abandon rate every rolling hour ending in the coming minutes can afford.

        Answers are expected at the rate the trailing hour actually achieved, never more than a
        fully busy team takes, nor less than `ramp_floor` of it (a progressive stretch at a low
        answer rate would otherwise keep the allowance near zero for an hour). The abandons the
        calls in flight may still bring (`in_flight`, real units) are counted as already spent.
        """
        now = snapshot.now
        full = self.lives_per_hour(snapshot) / 3600.0
        first = self.hour.ledger.first if self.hour.ledger.first is not None else now
        lives, _ = self.hour.ledger.between(now - 3600.0, now)
        measured = lives / max(min(3600.0, now - first), 60.0)
        rate = min(full, max(measured, self.ramp_floor * full))
        # The realised rate strays from the planned one by the model's error until the feedback
        # loop catches up (minutes): plan with a share `hour_trust` of what the hour could afford.
        return self.hour_trust * self.hour.allowed_rate(now, rate, in_flight)

    def shift_headroom(self, snapshot: PacingSnapshot) -> float:
        """The same guard on everything since the start, against the overall limit."""
        shift = self.shift.trailing(snapshot.now)
        if shift.lives < 200:   # early in the shift its rate is mostly noise; the hour guard holds
            return 1.0
        guard = 0.97 * self.overall_target
        return self._headroom(shift.abandons, float(shift.lives), guard, guard - 0.005)

    @staticmethod
    def _headroom(abandons: float, lives: float, guard: float, soft: float) -> float:
        """1 below `soft`, falling linearly to 0 at `guard`."""
        if lives <= 0:
            return 0.0
        rate = abandons / lives
        if rate >= guard:
            return 0.0
        return min(1.0, (guard - rate) / max(guard - soft, 1e-9))

    def _count(self, mode: str) -> None:
        self.mode_ticks[mode] = self.mode_ticks.get(mode, 0) + 1

    def wanted(self, snapshot: PacingSnapshot) -> int:
        if not self.trustworthy:
            self.last_mode = "cold"
            self._count("cold")
            return progressive_calls(snapshot)
        tolerance = self.tolerance(snapshot)
        if tolerance <= 0:
            self.last_mode = "guard"
            self._count("guard")
            return progressive_calls(snapshot)
        self.last_mode = "model"
        room = min(line_room(snapshot, per_agent_cap=self.per_agent_cap), self.max_calls_per_tick,
                   self.tokens_now)
        calls = max(progressive_calls(snapshot), self.model_calls(snapshot, room, tolerance))
        self._count(self.last_mode)   # model_calls says "guard" when the rolling hour has no room
        return calls

    def live_caution(self) -> float:
        """Factor from the estimated live-answer share to its Wilson upper bound (z = `caution_z`).

        Under-estimating the share over-dials, so a short warm-up plans with a share it is fairly
        sure is not lower: after 40 dials with 4 live that is ×1.9, after 2,000 dials ×1.1.
        """
        n = self.outcomes.effective_dials
        p = self.outcomes.probability(DialResult.LIVE)
        if n <= 0 or p <= 0:
            return 1.0
        z2 = self.caution_z * self.caution_z
        upper = (p + z2 / (2 * n) + self.caution_z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))) / (1 + z2 / n)
        return upper / p

    def supply(self, snapshot: PacingSnapshot, horizon: int) -> tuple[float, np.ndarray, np.ndarray]:
        """(ready now, mean and variance of agents ready again within t + grace seconds)."""
        span = horizon + self.grace_s
        if self.talk.seen < max(self.min_talks, snapshot.active_agents):
            # The first conversations to end are the short ones: until about one per agent has
            # ended, a residual-talk forecast would see agents freeing far too soon. Meanwhile
            # the pacer overdials only for agents already free (the answer mix is learnt by then).
            zeros = np.zeros(horizon)
            return float(snapshot.free_agents), zeros, zeros
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
        caution = self.live_caution()
        arrivals = np.minimum(self.outcomes.live_arrivals(ringing, horizon) * caution, 1.0)
        arr_mean = r_counts @ arrivals if len(r_counts) else np.zeros(horizon)
        arr_var = r_counts @ (arrivals * (1.0 - arrivals)) if len(r_counts) else np.zeros(horizon)
        waiting = float(len(snapshot.waiting))
        per_dial = np.minimum(self.outcomes.live_by(horizon) * caution, 1.0)

        # Answers of the dials later ticks will place, at the recent dial rate (Poisson).
        later = self.future_dials * self._dial_rate.per_second * np.concatenate(([0.0], np.cumsum(per_dial)[:-1]))
        arr_mean = arr_mean + later
        arr_var = arr_var + later
        base_stock = free - waiting + rel_mean - arr_mean
        base_var = rel_var + arr_var
        dial_var = per_dial * (1.0 - per_dial)
        base_arrivals = arr_mean.copy()
        base_arrivals[1:] -= arr_mean[:-1]
        dial_arrivals = per_dial.copy()
        dial_arrivals[1:] -= per_dial[:-1]

        def expected(n: int) -> tuple[float, float]:
            # Expected answers arriving in each second, and the chance the ready-agent stock is
            # exhausted then: abandons ≈ Σ_t arrivals_t · P(stock_t < 0). The unreflected stock
            # over-counts a little (an abandoned caller frees nothing), erring on the safe side.
            # Continuity correction: the stock is a whole number of agents, short means ≤ −1.
            stock = base_stock - n * per_dial
            p_short = ndtr((-self.continuity - stock) / np.sqrt(np.maximum(base_var + n * dial_var, 1e-9)))
            abandons = waiting * p_short[0] + float((base_arrivals + n * dial_arrivals) @ p_short)
            return abandons, waiting + arr_mean[-1] + n * per_dial[-1]

        def acceptable(n: int) -> bool:
            abandons, answers = expected(n)
            return abandons <= tolerance * max(answers, 1e-9)

        # The rolling-hour cap, counting the abandons the calls in flight already carry (the model
        # under- or over-counts by its learned bias, so both sides are in real units).
        bias = math.exp(self.log_scale)
        cap = self.hour_allowance(snapshot, expected(0)[0] / bias) * bias
        tolerance = min(tolerance, cap)
        if tolerance <= 1e-4 * bias:
            self.last_mode = "guard"
            return 0
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

    def hour_allowance(self, snapshot: PacingSnapshot, in_flight: float) -> float:
        if self.overflow_target is not None and snapshot.bot_free > 0:
            return math.inf   # an overflow goes to the bot, a live representative: no abandon
        return super().hour_allowance(snapshot, in_flight)

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
