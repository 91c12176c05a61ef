"""`dialer simulate`: a pacer on a scenario file (`--scenario`), or a real campaign dry-run for N
days (`dialer simulate campaign NAME`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click

from dialer.commands.common import open_app, print_json, print_mapping, print_table, user_errors
from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import load_profiles
from dialer.money import exponent
from dialer.pacing.pacers import pacer_names
from dialer.sim.campaign.scratch import ScratchError
from dialer.sim.campaign.service import SimulationRequest, SimulationResult, simulate_campaign
from dialer.sim.campaign.simulation import Order
from dialer.sim.rules import PROFILES
from dialer.sim.runner import simulate as run_simulation
from dialer.sim.scenario import ScenarioError, load_scenario


@click.group("simulate", invoke_without_command=True)
@click.option("--scenario", "scenario_path", type=click.Path(exists=True, dir_okay=False),
              help="Scenario YAML (docs/simulator.md).")
@click.option("--pacer", "pacer_name", type=click.Choice(pacer_names()), help="Dialing mode to run.")
@click.option("--profile", default="us", show_default=True, type=click.Choice(sorted(PROFILES)),
              help="Compliance profile: grace period, abandonment limit and windows, ring floor.")
@click.option("--seed", default=1, show_default=True, type=int,
              help="Population seed: same seed, same people (common random numbers across pacers).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of metrics.")
@click.pass_context
def simulate(ctx: click.Context, scenario_path: str | None, pacer_name: str | None, profile: str, seed: int,
             as_json: bool) -> None:
    """Simulate one pacing shift, or dry-run a campaign (`dialer simulate campaign --help`).

    \b
    Examples:
      dialer simulate --scenario dialer/sim/scenarios/team20.yaml --pacer predictive --json
      dialer simulate campaign spring-m1 --days 5 --out var/sim/spring-m1.sqlite3
    """
    if ctx.invoked_subcommand is not None:
        return
    if scenario_path is None or pacer_name is None:
        raise click.UsageError("pass --scenario FILE and --pacer NAME, or use `dialer simulate campaign NAME`")
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


@simulate.command("campaign")
@click.argument("name")
@click.option("--days", default=5, show_default=True, type=click.IntRange(1, 60), help="Simulated days.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Scratch SQLite file (replaced). Default: var/sim/NAME.sqlite3.")
@click.option("--seed", default=1, show_default=True, type=int, help="Debtor population seed.")
@click.option("--order", type=click.Choice([o.value for o in Order]), default=Order.PRIORITY.value,
              show_default=True,
              help="Hopper order: priority (expected recovery x answer chance now), recovery, best-time, "
                   "or oldest (longest waiting first).")
@click.option("--channels", type=click.IntRange(1, 10_000),
              help="Concurrent bot channels. Default: the campaign's channel limit.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of figures.")
@click.pass_context
@user_errors
def simulate_campaign_command(ctx: click.Context, name: str, days: int, out: Path | None, seed: int, order: str,
                              channels: int | None, as_json: bool) -> None:
    """Dry-run campaign NAME for N days: its accounts, contacts, profile and strategy, copied into a
    scratch SQLite file, dialled through the real hopper, gate and retry rules against a seeded
    model of debtors (docs/campaign-simulation.md). The source database is only read.

    \b
    Examples:
      dialer simulate campaign spring-m1 --days 5 --out var/sim/spring-m1.sqlite3
      dialer simulate campaign spring-m1 --order oldest --seed 2 --json
      dialer --db-url sqlite:///var/sim/spring-m1.sqlite3 report spring-m1 --html sim.html
    """
    with open_app(ctx) as app:
        book = ProfileBook(load_profiles(app.settings["profile.custom_file"] or None))
        source_url = app.settings.database_url
        out = out or Path("var/sim") / f"{name}.sqlite3"
        out.parent.mkdir(parents=True, exist_ok=True)
        progress = None if as_json else _print_day
        try:
            result = simulate_campaign(SimulationRequest(source_url=source_url, campaign=name, out=out, days=days,
                                                         seed=seed, order=Order(order), channels=channels),
                                       book=book, clock=app.clock, progress=progress)
        except (ScratchError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        print_json(result.as_dict())
        return
    _print_result(result)


def _print_day(day: dict[str, object]) -> None:
    click.echo(f"day {day['day']}: {day['dials']} dials, {day['denied']} gate denials, "
               f"{day['payments']} payments so far")


def _print_result(result: SimulationResult) -> None:
    f = result.figures
    money = _money_formatter(result)
    print_mapping(f"simulated campaign {result.campaign} ({result.order.value}, seed {result.seed})", {
        "period": f"{result.start.isoformat()} .. {result.end.isoformat()} ({result.days} days, {result.zone})",
        "accounts": result.accounts, "bot channels": result.channels, "dials": f.dials, "connects": f.connects,
        "right-party contacts": f"{f.right_party_contacts} ({f.accounts_reached} accounts)",
        "promises": f.promises, "promised": money(f.promised_minor),
        "kept / broken / open": f"{f.promises_kept} / {f.promises_broken} / {f.promises_open}",
        "recovered": money(f.recovered_minor), "recovery rate": f.recovery_rate, "accounts paid": f.accounts_paid,
        "stage moves": f.stage_moves,
        "callbacks asked / honoured / early": f"{f.callbacks_requested} / {f.callbacks_honoured} / {f.callbacks_early}",
        "channel utilisation": f.channel_utilisation, "violations (re-check)": f.violations})
    print_table("gate denials by reason", ["reason", "count"], list(f.denials_by_reason.items()))
    click.echo(f"read it: dialer --db-url {result.scratch_url} report {result.campaign} [--html FILE]")


def _money_formatter(result: SimulationResult) -> Callable[[int], str]:
    places = exponent(result.currency)

    def fmt(minor: int) -> str:
        return f"{minor / 10 ** places:,.{places}f} {result.currency}"

    return fmt
