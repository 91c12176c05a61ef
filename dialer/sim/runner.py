"""Run one scenario with one pacer and summarise it: the service behind `dialer simulate`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialer.domain import CampaignMode
from dialer.pacing.pacers import make_pacer
from dialer.pacing.pacers.base import Pacer
from dialer.sim.checker import CheckReport, check
from dialer.sim.engine import BudgetRule, Gate, SimOutput, Simulator
from dialer.sim.population import ContactSource
from dialer.sim.rules import SimRules, rules_for
from dialer.sim.scenario import Scenario


@dataclass(frozen=True)
class RunSummary:
    pacer: str
    scenario: str
    seed: int
    output: SimOutput
    check: CheckReport
    pacer_modes: dict[str, int] | None = None   # ticks per pacer mode (predictive family only)

    def metrics(self) -> dict[str, Any]:
        out, chk = self.output, self.check
        agent_hours = out.agent_seconds / 3600.0
        connects = sum(1 for r in out.log if r.connected_at is not None and r.resolved_at <= out.scenario.duration_s)
        end = out.scenario.duration_s
        bot_answers = sum(1 for r in out.log if r.bot_at is not None and r.resolved_at <= end)
        bot_seconds = sum(min(r.ended_at if r.ended_at is not None else end, end) - r.bot_at
                          for r in out.log if r.bot_at is not None and r.bot_at <= end)
        return {
            "scenario": self.scenario,
            "pacer": self.pacer,
            "profile": out.rules.profile,
            "seed": self.seed,
            "duration_s": out.scenario.duration_s,
            "agent_hours": round(agent_hours, 3),
            "occupancy_talk": _ratio(out.talk_seconds, out.agent_seconds),
            "occupancy_talk_wrap": _ratio(out.talk_seconds + out.wrap_seconds, out.agent_seconds),
            "abandonment": {
                "overall": round(chk.abandon_rate, 5),
                "worst_rolling_hour": round(chk.worst_hour_rate, 5),
                "worst_hour_lives": chk.worst_hour_lives,
                "per_24h": [round(x, 5) for x in chk.day_rates],
                "silent_abandons": chk.silent_abandons,
            },
            "dials": len(out.log),
            "live_answers": chk.live_answers,
            "bot_answers": bot_answers,
            "bot_occupancy": _ratio(bot_seconds, out.scenario.bot_channels * end),
            "abandons": chk.abandons,
            "live_connects_per_agent_hour": _ratio(connects, agent_hours),
            "dials_per_agent_hour": _ratio(len(out.log), agent_hours),
            "mean_wait_to_agent_s": round(chk.mean_wait_to_agent_s, 3),
            "lines": {
                "mean": _ratio(out.line_seconds, out.scenario.duration_s),
                "max": chk.max_concurrent_lines,
                "channel_limit": out.scenario.channel_limit,
            },
            "violations": {
                "hours_over_abandon_limit": chk.hours_over_limit,
                "overall_over_abandon_limit": chk.abandon_rate > out.rules.abandon_limit,
                "ring_floor": chk.ring_floor_violations,
                "channel_limit": chk.channel_limit_violations,
                "trunk_refusals": out.limit_refusals,
                "max_dials_in_a_second": chk.max_dials_in_a_second,
            },
            "gate_denials": out.gate_denials,
            "guaranteed_agent_only_ticks": out.guaranteed_ticks,
            # Why a pacer did what it did: ticks spent warming up (cold), held back by the
            # rolling-hour guard (guard), overdialling on its model (model), or told by the
            # gate that the budget is spent (gate); the dial level is lines per logged-in agent.
            "diagnostics": {
                "pacer_modes": dict(self.pacer_modes or {}),
                "budget_spent_share": _ratio(out.guaranteed_ticks, out.pacer_ticks),
                "dial_level": _ratio(out.line_seconds, out.agent_seconds),
            },
        }


def mode_of(pacer_name: str) -> CampaignMode:
    try:
        return CampaignMode(pacer_name.replace("-", "_"))
    except ValueError:
        return CampaignMode.PREDICTIVE   # benchmark baselines and the oracle dial like predictive


def simulate(scenario: Scenario, pacer_name: str, *, seed: int = 1, profile: str = "us",
             pacer: Pacer | None = None, rules: SimRules | None = None, gate: Gate | None = None,
             contacts: ContactSource | None = None, budget_spent: BudgetRule | None = None,
             pacer_params: dict[str, Any] | None = None) -> RunSummary:
    """Run `scenario` with the named pacer (or the given pacer object) and check the call log."""
    rules = rules or rules_for(profile)
    mode = mode_of(pacer_name)
    pacer = pacer or make_pacer(pacer_name, **(pacer_params or {}))
    sim = Simulator(scenario, pacer, seed=seed, rules=rules, mode=mode, gate=gate,
                    contacts=contacts, budget_spent=budget_spent)
    output = sim.run()
    report = check(output.log, rules, duration_s=scenario.duration_s,
                   channel_limit=scenario.channel_limit,
                   bot_is_representative=mode is CampaignMode.BOT_ONLY)
    modes = getattr(pacer, "mode_ticks", None)
    return RunSummary(pacer_name, scenario.name, seed, output, report,
                      dict(modes) if isinstance(modes, dict) else None)


def _ratio(a: float, b: float) -> float:
    return round(a / b, 5) if b else 0.0
