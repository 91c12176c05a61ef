"""`dialer simulate`: run a pacer on a scenario file in the discrete-event simulator."""

from __future__ import annotations

import json

import click

from dialer.pacing.pacers import pacer_names
from dialer.sim.rules import PROFILES
from dialer.sim.runner import simulate as run_simulation
from dialer.sim.scenario import ScenarioError, load_scenario


@click.command("simulate")
@click.option("--scenario", "scenario_path", required=True,
              type=click.Path(exists=True, dir_okay=False), help="Scenario YAML (docs/simulator.md).")
@click.option("--pacer", "pacer_name", required=True, type=click.Choice(pacer_names()),
              help="Dialing mode to run.")
@click.option("--profile", default="us", show_default=True, type=click.Choice(sorted(PROFILES)),
              help="Compliance profile: grace period, abandonment limit and windows, ring floor.")
@click.option("--seed", default=1, show_default=True, type=int,
              help="Population seed: same seed, same people (common random numbers across pacers).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of metrics.")
def simulate(scenario_path: str, pacer_name: str, profile: str, seed: int, as_json: bool) -> None:
    """Simulate one shift. Example: dialer simulate --scenario dialer/sim/scenarios/team20.yaml --pacer predictive --json"""
    try:
        scenario = load_scenario(scenario_path)
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from None
    metrics = run_simulation(scenario, pacer_name, seed=seed, profile=profile).metrics()
    if as_json:
        click.echo(json.dumps(metrics, indent=2))
        return
    ab = metrics["abandonment"]
    rows = [
        ("scenario", metrics["scenario"]), ("pacer", pacer_name), ("agent hours", metrics["agent_hours"]),
        ("occupancy (talk)", metrics["occupancy_talk"]),
        ("occupancy (talk+wrap)", metrics["occupancy_talk_wrap"]),
        ("abandonment overall", ab["overall"]), ("worst rolling hour", ab["worst_rolling_hour"]),
        ("per 24 h", ", ".join(str(x) for x in ab["per_24h"])),
        ("live connects / agent hour", metrics["live_connects_per_agent_hour"]),
        ("dials / agent hour", metrics["dials_per_agent_hour"]),
        ("mean wait to agent (s)", metrics["mean_wait_to_agent_s"]),
        ("lines mean / max", f"{metrics['lines']['mean']} / {metrics['lines']['max']}"),
        ("violations", ", ".join(f"{k}={v}" for k, v in metrics["violations"].items())),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        click.echo(f"{key:<{width}}  {value}")
