"""Abandonment rate as each regulator measures it, and whether the campaign's budget is spent.

US (47 CFR 64.1200(a)(7)): abandoned live answers / all live answers, per campaign, over each
30-day period; machine, busy and no-answer calls are in neither count.
UK (Ofcom, as VICIdial and UK vendors implement it): with L live calls connected, Ag calls that
agents marked as answering machines and D drops, D' = D - D*Ag/(Ag+L), rate = D'/(D'+L), per
campaign per calendar day.

A live answer that no agent takes within 2 s is abandoned even if the bot then talks to the
person, unless the profile says the bot counts as the live representative
(`abandonment.bot_counts_as_live`, default false: an open legal question).
"""

from __future__ import annotations

import enum
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dialer.compliance import localtime as lt
from dialer.compliance.profiles import AbandonmentPolicy, PolicyProfile
from dialer.domain import Outcome, Route

THIRTY_DAYS = timedelta(days=30)
ONE_DAY = timedelta(days=1)
ONE_HOUR = timedelta(hours=1)


class AnswerKind(str, enum.Enum):
    AGENT = "agent"                              # live answer connected to an agent within 2 s
    BOT = "bot"                                  # live answer taken only by the voice robot
    DROPPED = "dropped"                          # live answer not connected: abandoned
    AGENT_MARKED_MACHINE = "agent_marked_machine"  # reached an agent who found a machine (UK Ag)
    NOT_LIVE = "not_live"                        # machine, busy, no answer, failure


@dataclass(frozen=True)
class AnsweredCall:
    at: datetime          # when the call was answered (or ended, for not-live calls), UTC
    kind: AnswerKind


def classify(outcome: Outcome | None, route: Route, *, agent_marked_machine: bool = False) -> AnswerKind:
    """Map a finished attempt onto the measurement's categories."""
    if agent_marked_machine:
        return AnswerKind.AGENT_MARKED_MACHINE
    if outcome is Outcome.ABANDONED or route is Route.SAFE_HARBOUR:
        return AnswerKind.DROPPED
    if outcome is Outcome.HUMAN:
        if route is Route.QUEUE:
            return AnswerKind.AGENT
        if route is Route.BOT:
            return AnswerKind.BOT
        return AnswerKind.DROPPED          # a person answered and nobody took the call
    return AnswerKind.NOT_LIVE


@dataclass(frozen=True)
class Tally:
    live: int                 # L: live answers connected to a live representative
    dropped: int              # D
    agent_marked_machine: int = 0   # Ag

    def rate(self, formula: str) -> float:
        if formula == "uk":
            d, l, ag = self.dropped, self.live, self.agent_marked_machine
            d_prime = d - d * ag / (ag + l) if ag + l else float(d)
            return d_prime / (d_prime + l) if d_prime + l else 0.0
        answers = self.live + self.dropped
        return self.dropped / answers if answers else 0.0


@dataclass(frozen=True)
class WindowRate:
    start: datetime
    end: datetime
    tally: Tally
    rate: float


@dataclass(frozen=True)
class AbandonmentReport:
    formula: str
    ceiling: float
    rolling_24h: WindowRate
    calendar_day: WindowRate
    rolling_30d: WindowRate
    worst_hour: WindowRate | None      # worst rolling hour of the last 30 days
    profile_window: WindowRate         # the window the profile's ceiling applies to
    budget_spent: bool


class _Series:
    """Calls sorted by time with prefix counts, so any window's tally is two bisections."""

    def __init__(self, calls: Sequence[AnsweredCall], policy: AbandonmentPolicy) -> None:
        ordered = sorted(calls, key=lambda c: c.at)
        self.times = [c.at for c in ordered]
        self.live, self.dropped, self.ag = [0], [0], [0]
        for c in ordered:
            bot_live = c.kind is AnswerKind.BOT and policy.bot_counts_as_live
            bot_dropped = c.kind is AnswerKind.BOT and not policy.bot_counts_as_live
            self.live.append(self.live[-1] + (c.kind is AnswerKind.AGENT or bot_live))
            self.dropped.append(self.dropped[-1] + (c.kind is AnswerKind.DROPPED or bot_dropped))
            self.ag.append(self.ag[-1] + (c.kind is AnswerKind.AGENT_MARKED_MACHINE))

    def tally(self, after: datetime, upto: datetime) -> Tally:
        """Calls with after < at <= upto."""
        i, j = bisect_right(self.times, after), bisect_right(self.times, upto)
        return Tally(self.live[j] - self.live[i], self.dropped[j] - self.dropped[i], self.ag[j] - self.ag[i])


def rolling(calls: Sequence[AnsweredCall], policy: AbandonmentPolicy, now: datetime,
            width: timedelta) -> WindowRate:
    t = _Series(calls, policy).tally(now - width, now)
    return WindowRate(now - width, now, t, t.rate(policy.formula))


def calendar_day(calls: Sequence[AnsweredCall], policy: AbandonmentPolicy, now: datetime) -> WindowRate:
    """Today so far, in the profile's `day_zone`."""
    start = lt.from_epoch(lt.local_day_start(policy.day_zone, lt.local_date(policy.day_zone, lt.epoch(now))))
    t = _Series(calls, policy).tally(start - timedelta(microseconds=1), now)
    return WindowRate(start, now, t, t.rate(policy.formula))


def worst_window(calls: Sequence[AnsweredCall], policy: AbandonmentPolicy, start: datetime,
                 end: datetime, width: timedelta = ONE_HOUR) -> WindowRate | None:
    """The worst rate over every window (t - width, t] with t in [start, end]; None without calls.

    A window's tally only changes when a call enters (t = at) or leaves (t = at + width), so
    those instants are the only candidates.
    """
    series = _Series(calls, policy)
    lo, hi = bisect_left(series.times, start - width), bisect_right(series.times, end)
    candidates = {t for t in series.times[lo:hi] if start <= t <= end}
    candidates |= {t + width for t in series.times[lo:hi] if start <= t + width <= end}
    worst: WindowRate | None = None
    for t in sorted(candidates):
        tally = series.tally(t - width, t)
        rate = tally.rate(policy.formula)
        if worst is None or rate > worst.rate:
            worst = WindowRate(t - width, t, tally, rate)
    return worst


def profile_window(calls: Sequence[AnsweredCall], policy: AbandonmentPolicy, now: datetime) -> WindowRate:
    if policy.window == "calendar_day":
        return calendar_day(calls, policy, now)
    return rolling(calls, policy, now, THIRTY_DAYS if policy.window == "rolling_30d" else ONE_DAY)


def budget_spent(calls: Sequence[AnsweredCall], profile: PolicyProfile, now: datetime) -> bool:
    """True when the profile window's measured rate has reached the ceiling: from now on only
    guaranteed-agent modes (progressive, preview, manual) may dial for this campaign."""
    return profile_window(calls, profile.abandonment, now).rate >= profile.abandonment.ceiling


def budget_restored_at(calls: Sequence[AnsweredCall], profile: PolicyProfile, now: datetime) -> datetime | None:
    """When the rate falls back under the ceiling if no new call is placed; None if not spent.

    This is `DialRequest.abandonment_budget_restored_at`. A calendar day restores at the next
    local midnight; a rolling window when enough old drops have aged out of it.
    """
    policy = profile.abandonment
    if not budget_spent(calls, profile, now):
        return None
    if policy.window == "calendar_day":
        return lt.from_epoch(lt.next_local_midnight(policy.day_zone, lt.epoch(now)))
    width = THIRTY_DAYS if policy.window == "rolling_30d" else ONE_DAY
    series = _Series([c for c in calls if c.at <= now], policy)
    for t in sorted({at + width for at in series.times if at + width > now}):
        if series.tally(t - width, t).rate(policy.formula) < policy.ceiling:
            return t
    raise AssertionError("an empty window has rate 0")   # pragma: no cover


def report(calls: Sequence[AnsweredCall], profile: PolicyProfile, now: datetime) -> AbandonmentReport:
    policy = profile.abandonment
    window = profile_window(calls, policy, now)
    return AbandonmentReport(
        formula=policy.formula, ceiling=policy.ceiling,
        rolling_24h=rolling(calls, policy, now, ONE_DAY),
        calendar_day=calendar_day(calls, policy, now),
        rolling_30d=rolling(calls, policy, now, THIRTY_DAYS),
        worst_hour=worst_window(calls, policy, now - THIRTY_DAYS, now),
        profile_window=window,
        budget_spent=window.rate >= policy.ceiling,
    )
