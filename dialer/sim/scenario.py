"""Scenario files: the call population, the team and the limits of one simulated shift.

The format is documented in docs/simulator.md; every field has a default so a scenario only states
what it changes. Validation happens once, here, with messages that name the offending field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml


class ScenarioError(ValueError):
    """A scenario file is malformed; the message names the field."""


@dataclass(frozen=True, slots=True)
class Duration:
    """A positive duration: lognormal with a mean and coefficient of variation (cv = sd / mean)."""

    mean_s: float
    cv: float = 0.8

    @property
    def sigma(self) -> float:
        return math.sqrt(math.log1p(self.cv * self.cv))

    @property
    def mu(self) -> float:
        return math.log(self.mean_s) - self.sigma * self.sigma / 2.0

    def quantile_from_normal(self, z: float) -> float:
        sigma2 = math.log1p(self.cv * self.cv)
        return self.mean_s * math.exp(math.sqrt(sigma2) * z - sigma2 / 2.0)


@dataclass(frozen=True, slots=True)
class Mix:
    """Shares of dial results; no-answer takes what is left."""

    live: float
    machine: float = 0.15
    busy: float = 0.08
    failed: float = 0.05

    @property
    def no_answer(self) -> float:
        return 1.0 - self.live - self.machine - self.busy - self.failed


@dataclass(frozen=True, slots=True)
class MixPoint:
    at_s: float
    mix: Mix


@dataclass(frozen=True, slots=True)
class TeamChange:
    at_s: float
    count: int


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str = "unnamed"
    duration_s: float = 4 * 3600.0
    tick_s: float = 1.0
    agents: int = 20
    team_changes: tuple[TeamChange, ...] = ()
    pauses_per_agent_hour: float = 0.0
    pause: Duration = Duration(300.0, 0.5)
    preview_s: float = 8.0
    manual_dial_s: float = 20.0
    mix: tuple[MixPoint, ...] = (MixPoint(0.0, Mix(0.35)),)
    live_delay: Duration = Duration(9.0, 0.5)
    machine_delay: Duration = Duration(12.0, 0.4)
    busy_delay: Duration = Duration(4.0, 0.4)
    failed_delay: Duration = Duration(2.0, 0.5)
    ring_timeout_s: float = 25.0
    talk: Duration = Duration(120.0, 0.8)
    wrap: Duration = Duration(10.0, 0.5)
    bot_channels: int = 0
    bot_talk: Duration = Duration(60.0, 0.6)
    channel_limit: int = 1000
    max_lines_per_agent: float = 4.0
    calls_per_second: float = 25.0
    contacts: int | None = None        # size of the list; None = never runs out
    extra: dict[str, Any] = field(default_factory=dict)

    def mix_at(self, t: float) -> Mix:
        """Piecewise-linear drift between the mix points."""
        points = self.mix
        if t <= points[0].at_s or len(points) == 1:
            return points[0].mix
        for a, b in zip(points, points[1:]):
            if t <= b.at_s:
                w = (t - a.at_s) / (b.at_s - a.at_s)
                return Mix(*(getattr(a.mix, f.name) * (1 - w) + getattr(b.mix, f.name) * w
                             for f in fields(Mix)))
        return points[-1].mix

    def with_overrides(self, **changes: Any) -> Scenario:
        return replace(self, **changes)


def load_scenario(path: str | Path) -> Scenario:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: the top level must be a mapping")
    return scenario_from_dict(data, default_name=Path(path).stem)


def scenario_from_dict(data: dict[str, Any], *, default_name: str = "unnamed") -> Scenario:
    known = {"name", "duration_s", "tick_s", "agents", "population", "limits", "bot", "contacts"}
    unknown = set(data) - known
    if unknown:
        raise ScenarioError(f"unknown top-level field(s): {', '.join(sorted(unknown))}")
    agents = data.get("agents", {})
    pop = data.get("population", {})
    limits = data.get("limits", {})
    bot = data.get("bot", {})
    base = Scenario()
    mix_points = _mix_points(pop)
    scenario = Scenario(
        name=str(data.get("name", default_name)),
        duration_s=_positive(data, "duration_s", base.duration_s),
        tick_s=_positive(data, "tick_s", base.tick_s),
        agents=int(agents.get("count", base.agents)),
        team_changes=tuple(TeamChange(float(c["at_s"]), int(c["count"]))
                           for c in agents.get("changes", [])),
        pauses_per_agent_hour=float(agents.get("pauses_per_hour", 0.0)),
        pause=_duration(agents, "pause", base.pause),
        preview_s=float(agents.get("preview_s", base.preview_s)),
        manual_dial_s=float(agents.get("manual_dial_s", base.manual_dial_s)),
        mix=mix_points,
        live_delay=_duration(pop, "live_delay", base.live_delay),
        machine_delay=_duration(pop, "machine_delay", base.machine_delay),
        busy_delay=_duration(pop, "busy_delay", base.busy_delay),
        failed_delay=_duration(pop, "failed_delay", base.failed_delay),
        ring_timeout_s=float(pop.get("ring_timeout_s", base.ring_timeout_s)),
        talk=_duration(pop, "talk", base.talk),
        wrap=_duration(pop, "wrap", base.wrap),
        bot_channels=int(bot.get("channels", 0)),
        bot_talk=_duration(bot, "talk", base.bot_talk),
        channel_limit=int(limits.get("channel_limit", base.channel_limit)),
        max_lines_per_agent=float(limits.get("max_lines_per_agent", base.max_lines_per_agent)),
        calls_per_second=float(limits.get("calls_per_second", base.calls_per_second)),
        contacts=None if data.get("contacts") is None else int(data["contacts"]),
    )
    validate(scenario)
    return scenario


def validate(s: Scenario) -> None:
    if s.agents < 0 or any(c.count < 0 for c in s.team_changes):
        raise ScenarioError("agents.count and agents.changes[].count must be ≥ 0")
    for point in s.mix:
        m = point.mix
        if min(m.live, m.machine, m.busy, m.failed) < 0 or m.no_answer < -1e-9:
            raise ScenarioError(f"population mix at {point.at_s}s: shares must be ≥ 0 and sum ≤ 1")
    if any(b.at_s <= a.at_s for a, b in zip(s.mix, s.mix[1:])):
        raise ScenarioError("population.drift: at_s must increase")
    if s.ring_timeout_s <= 0 or s.channel_limit <= 0 or s.calls_per_second <= 0:
        raise ScenarioError("ring_timeout_s, limits.channel_limit and limits.calls_per_second must be > 0")


def _mix_points(pop: dict[str, Any]) -> tuple[MixPoint, ...]:
    def mix_of(d: dict[str, Any]) -> Mix:
        base = Mix(0.35)
        return Mix(float(d.get("p_live", base.live)), float(d.get("p_machine", base.machine)),
                   float(d.get("p_busy", base.busy)), float(d.get("p_failed", base.failed)))

    if "drift" in pop:
        return tuple(MixPoint(float(p["at_s"]), mix_of(p)) for p in pop["drift"])
    return (MixPoint(0.0, mix_of(pop)),)


def _duration(section: dict[str, Any], key: str, default: Duration) -> Duration:
    if key not in section:
        return default
    d = section[key]
    try:
        out = Duration(float(d["mean_s"]), float(d.get("cv", default.cv)))
    except (KeyError, TypeError, ValueError) as exc:
        raise ScenarioError(f"{key}: needs mean_s (and optional cv): {exc}") from exc
    if out.mean_s <= 0 or out.cv < 0:
        raise ScenarioError(f"{key}: mean_s must be > 0 and cv ≥ 0")
    return out


def _positive(data: dict[str, Any], key: str, default: float) -> float:
    value = float(data.get(key, default))
    if value <= 0:
        raise ScenarioError(f"{key} must be > 0")
    return value
