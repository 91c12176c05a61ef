"""The simulator: reproducible, common random numbers, seams for the gate and the budget."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dialer.pacing.pacers import make_pacer
from dialer.pacing.snapshot import DialResult, PacingSnapshot
from dialer.sim.oracle import ClairvoyantOracle
from dialer.sim.population import PopulationStream, fate_of
from dialer.sim.runner import simulate
from dialer.sim.scenario import Duration, Mix, MixPoint, Scenario

SHORT = Scenario(name="short", duration_s=1800.0, agents=8, mix=(MixPoint(0.0, Mix(0.3)),),
                 talk=Duration(60.0, 0.8), channel_limit=80, calls_per_second=5.0)


def test_given_the_same_seed_when_run_twice_then_the_metrics_are_identical() -> None:
    assert simulate(SHORT, "predictive", seed=3).metrics() == simulate(SHORT, "predictive", seed=3).metrics()


def test_given_two_pacers_when_they_dial_the_same_contact_then_it_has_the_same_fate() -> None:
    a, b = PopulationStream(5), PopulationStream(5)
    first = [fate_of(a.next_contact(0.0), SHORT, 10.0) for _ in range(50)]   # type: ignore[arg-type]
    second = [fate_of(b.next_contact(0.0), SHORT, 10.0) for _ in range(50)]  # type: ignore[arg-type]
    assert first == second
    assert 5 < sum(f.result is DialResult.LIVE for f in first) < 30


def test_given_progressive_dialing_when_checked_then_no_call_is_abandoned() -> None:
    metrics = simulate(SHORT, "progressive", seed=1).metrics()
    assert metrics["live_answers"] > 50
    assert metrics["abandonment"]["overall"] == 0.0
    assert metrics["violations"]["ring_floor"] == 0


def test_given_predictive_and_the_oracle_when_run_on_one_population_then_ordering_is_sane() -> None:
    progressive = simulate(SHORT, "progressive", seed=1).metrics()["occupancy_talk"]
    predictive = simulate(SHORT, "predictive", seed=1).metrics()
    oracle = simulate(SHORT, "oracle", seed=1, pacer=ClairvoyantOracle()).metrics()
    assert progressive < predictive["occupancy_talk"] < oracle["occupancy_talk"]
    assert oracle["abandons"] == 0


def test_given_a_gate_denying_even_contacts_when_simulating_then_only_odd_contacts_are_dialled() -> None:
    summary = simulate(SHORT, "progressive", seed=1, gate=lambda contact, now: contact.contact_id % 2 == 1)
    assert summary.output.gate_denials > 0
    assert all(r.contact_id % 2 == 1 for r in summary.output.log)


def test_given_the_budget_is_spent_when_the_pacer_is_asked_then_the_snapshot_says_so() -> None:
    seen: list[bool] = []
    inner = make_pacer("predictive")

    class Spy:
        def calls_to_place(self, snapshot: PacingSnapshot) -> int:
            seen.append(snapshot.guaranteed_agent_only)
            return inner.calls_to_place(snapshot)

    metrics = simulate(SHORT, "predictive", seed=1, pacer=Spy(), budget_spent=lambda stats, now: now >= 900).metrics()
    assert seen[0] is False and seen[-1] is True
    assert metrics["guaranteed_agent_only_ticks"] == 900


def test_given_a_ring_timeout_under_the_floor_when_checked_then_violations_are_reported() -> None:
    short_ring = SHORT.with_overrides(ring_timeout_s=10.0, duration_s=600.0)
    assert simulate(short_ring, "progressive", seed=1).metrics()["violations"]["ring_floor"] > 0


def test_given_agents_logging_in_and_out_when_simulating_then_agent_hours_follow_the_schedule() -> None:
    from dialer.sim.scenario import TeamChange

    shifting = SHORT.with_overrides(team_changes=(TeamChange(900.0, 4),), pauses_per_agent_hour=2.0)
    hours = simulate(shifting, "progressive", seed=1).metrics()["agent_hours"]
    assert 8 * 0.25 + 4 * 0.25 <= hours < 8 * 0.5


def test_given_bot_only_when_simulating_then_the_bot_answers_and_nobody_is_abandoned_while_it_has_room() -> None:
    bots = SHORT.with_overrides(agents=0, bot_channels=10, duration_s=900.0)
    metrics = simulate(bots, "bot_only", seed=1).metrics()
    assert metrics["bot_answers"] > 20
    assert metrics["abandonment"]["overall"] < 0.05


def test_given_a_scenario_file_when_running_the_cli_with_json_then_it_prints_the_metrics(tmp_path: Path) -> None:
    from cli import main

    path = tmp_path / "tiny.yaml"
    path.write_text("duration_s: 600\nagents: {count: 4}\npopulation: {p_live: 0.3}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", "--scenario", str(path), "--pacer", "progressive", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"occupancy_talk", "abandonment", "dials_per_agent_hour", "violations"} <= set(data)
    assert data["abandonment"]["per_24h"] == [0.0]


def test_given_five_agents_on_a_poor_list_when_predictive_then_it_overdials_and_keeps_every_hour() -> None:
    # The old hour guard locked such a team into progressive dialling for the whole shift.
    poor = Scenario(name="poor5", duration_s=2 * 3600.0, agents=5, mix=(MixPoint(0.0, Mix(0.10)),),
                    talk=Duration(120.0, 0.8), channel_limit=60, max_lines_per_agent=8.0, calls_per_second=5.0)
    progressive = simulate(poor, "progressive", seed=1).metrics()
    predictive = simulate(poor, "predictive", seed=1).metrics()
    modes = predictive["diagnostics"]["pacer_modes"]
    assert modes.get("model", 0) > 0.8 * sum(modes.values())
    assert predictive["occupancy_talk"] > 1.3 * progressive["occupancy_talk"]
    assert predictive["abandonment"]["worst_rolling_hour"] <= 0.03
    assert predictive["abandonment"]["overall"] <= 0.02
