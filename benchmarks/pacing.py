"""Pacing benchmark: every pacer on the same pre-drawn populations, against a clairvoyant bound.

Run: python -m benchmarks.pacing            (full grid, ~1 h on 2 shared cores)
     python -m benchmarks.pacing --quick    (smoke run, a few minutes)
Writes benchmarks/results/pacing.md (or pacing_quick.md) and pacing_*.png.

Grid (issue 4): agents {5, 20, 50, 100} × live-answer probability {0.10, 0.15, 0.35, 0.50} × talk
{60, 120, 300 s}, plus a drifting answer mix (drift50) and agents logging in, out and pausing
(team50_shifts). Each (scenario, seed) is one population; every pacer faces it (common random
numbers). Occupancy is reported as a ratio to the oracle's in the same (scenario, seed).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path
from typing import Any

from benchmarks.vicidial import VicidialAdaptPacer
from dialer.sim.oracle import ClairvoyantOracle
from dialer.sim.rules import rules_for
from dialer.sim.runner import simulate
from dialer.sim.scenario import Duration, Mix, MixPoint, Scenario, load_scenario

RESULTS = Path(__file__).parent / "results"
SCENARIO_DIR = Path(__file__).parents[1] / "dialer" / "sim" / "scenarios"
PACERS = ("predictive", "progressive", "vicidial_hard", "vicidial_tapered", "oracle")
TARGETS = {5: 0.85, 20: 0.93, 50: 0.97, 100: 0.97}


def grid_scenario(agents: int, p_live: float, talk: float, duration_s: float) -> Scenario:
    return Scenario(
        name=f"a{agents}_p{p_live:.2f}_t{int(talk)}", duration_s=duration_s, agents=agents,
        mix=(MixPoint(0.0, Mix(p_live)),), talk=Duration(talk, 0.8),
        channel_limit=agents * 8 + 20, max_lines_per_agent=8.0,
        calls_per_second=max(5.0, 0.3 * agents),
    )


def occupancy_target(agents: int) -> float:
    if agents >= 50:
        return 0.97
    return 0.93 if agents >= 20 else 0.85


def scenarios(quick: bool) -> list[Scenario]:
    if quick:
        grid = [(a, p, 120.0) for a in (5, 20, 100) for p in (0.15, 0.35)]
        duration = 2 * 3600.0
    else:
        grid = [(a, p, t) for a in (5, 20, 50, 100) for p in (0.10, 0.15, 0.35, 0.50)
                for t in (60.0, 120.0, 300.0)]
        duration = 2.5 * 3600.0
    out = [grid_scenario(a, p, t, duration) for a, p, t in grid]
    out.append(load_scenario(SCENARIO_DIR / "drift50.yaml"))
    if not quick:
        out.append(load_scenario(SCENARIO_DIR / "team50_shifts.yaml"))
    return out


def make(pacer: str, scenario: Scenario) -> Any:
    if pacer == "oracle":
        return ClairvoyantOracle()
    if pacer.startswith("vicidial"):
        method = "ADAPT_HARD_LIMIT" if pacer.endswith("hard") else "ADAPT_TAPERED"
        return VicidialAdaptPacer(method=method, shift_s=scenario.duration_s)
    return None   # the registry builds production pacers by name


def run_one(task: tuple[Scenario, str, int, str]) -> dict[str, Any]:
    scenario, pacer, seed, profile = task
    start = time.process_time()
    rules = rules_for(profile)
    if pacer == "blended_bot_counts":
        # The cn profile counts a bot that greets within 2 s as the live representative.
        rules = rules_for("cn")
        assert rules.bot_counts_as_live
        summary = simulate(scenario, "blended", seed=seed, rules=rules,
                           pacer_params={"overflow_target": 0.08})
    else:
        summary = simulate(scenario, pacer, seed=seed, rules=rules, pacer=make(pacer, scenario))
    m = summary.metrics()
    m["pacer"] = pacer
    m["cpu_s"] = time.process_time() - start
    m["agents"] = scenario.agents
    return m


def run_all(tasks: list[tuple[Scenario, str, int, str]], jobs: int) -> list[dict[str, Any]]:
    # Longest first keeps both workers busy until the end.
    tasks = sorted(tasks, key=lambda t: -(t[0].agents * t[0].duration_s) / max(t[0].mix[0].mix.live, 0.1))
    if jobs <= 1:
        return [run_one(t) for t in tasks]
    results = []
    with Pool(jobs) as pool:
        for done, result in enumerate(pool.imap_unordered(run_one, tasks, chunksize=1), start=1):
            results.append(result)
            if done % 25 == 0 or done == len(tasks):
                print(f"{done}/{len(tasks)} runs", file=sys.stderr, flush=True)
    return results


def summarise(results: list[dict[str, Any]]) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[tuple[str, int], float]]:
    bound = {(r["scenario"], r["seed"]): r["occupancy_talk"] for r in results if r["pacer"] == "oracle"}
    table: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        grouped[(r["scenario"], r["pacer"])].append(r)
    for (scenario, pacer), runs in grouped.items():
        ratios = [r["occupancy_talk"] / bound[(scenario, r["seed"])] for r in runs
                  if bound.get((scenario, r["seed"]))]
        lives = sum(r["live_answers"] for r in runs)
        table[scenario][pacer] = {
            "agents": runs[0]["agents"],
            "occupancy": sum(r["occupancy_talk"] for r in runs) / len(runs),
            "ratio": sum(ratios) / len(ratios) if ratios else float("nan"),
            "overall_pooled": sum(r["abandons"] for r in runs) / lives if lives else 0.0,
            "overall_max": max(r["abandonment"]["overall"] for r in runs),
            "worst_hour": max(r["abandonment"]["worst_rolling_hour"] for r in runs),
            "seeds": len(runs),
            "cpu_s": sum(r["cpu_s"] for r in runs),
            "ring_floor": sum(r["violations"]["ring_floor"] for r in runs),
            "channel": sum(r["violations"]["channel_limit"] + r["violations"]["trunk_refusals"] for r in runs),
            "scenario": scenario,
            "dial_level": sum(r["diagnostics"]["dial_level"] for r in runs) / len(runs),
            "modes": _mode_shares(runs),
        }
    return table, bound


def _mode_shares(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Share of pacer ticks per mode, averaged over seeds (empty for pacers without modes)."""
    shares: dict[str, float] = defaultdict(float)
    for r in runs:
        modes = r["diagnostics"]["pacer_modes"]
        total = sum(modes.values())
        for mode, ticks in modes.items():
            shares[mode] += ticks / total / len(runs) if total else 0.0
    return dict(shares)


def passes(row: dict[str, Any], *, occupancy: bool = True) -> bool:
    ok = row["worst_hour"] <= 0.03 + 1e-12 and row["overall_max"] <= 0.02 + 1e-12
    return ok and (not occupancy or row["ratio"] >= occupancy_target(row["agents"]))


def pct(x: float) -> str:
    return f"{100 * x:.2f}"


def markdown(table: dict[str, dict[str, dict[str, Any]]], command: str, seeds: list[int],
             wall_s: float, blended: list[dict[str, Any]]) -> str:
    lines = [
        "# Pacing benchmark",
        "",
        f"Produced by `{command}` (git {git_head()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())},"
        f" seeds {seeds}, {wall_s / 60:.1f} min wall clock).",
        "",
        "Occupancy = talk time ÷ logged-in agent time; *ratio* = occupancy ÷ the clairvoyant oracle's on the",
        "same population and seed (mean over seeds). Abandonment = abandoned ÷ live answers, recomputed from",
        "the call log by the independent checker: *overall* = worst seed's whole-run rate, *worst hour* = worst",
        "rolling 1-hour window over all seeds. Targets (issue 4): worst hour ≤ 3 %, overall ≤ 2 %; ratio ≥ 0.97",
        "at 50–100 agents, ≥ 0.93 at 20, ≥ 0.85 at 5 (`team50_shifts` starts at 30 agents: 0.93).",
        "The oracle reads the future and is an upper bound, not a pacer.",
        "",
        "## Summary per team size",
        "",
        "| pacer | agents | scenarios | abandonment targets met | occupancy target met | both met | mean ratio | min ratio | max worst hour % | max overall % |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    by_team: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for scenario, pacers in table.items():
        for pacer, row in pacers.items():
            if pacer != "oracle":
                by_team[(pacer, row["agents"])].append(row)
    for (pacer, agents), rows in sorted(by_team.items(), key=lambda kv: (PACERS.index(kv[0][0]) if kv[0][0] in PACERS else 9, kv[0][1])):
        ab_ok = sum(passes(r, occupancy=False) for r in rows)
        occ_ok = sum(r["ratio"] >= occupancy_target(r["agents"]) for r in rows)
        both = sum(passes(r) for r in rows)
        lines.append(
            f"| {pacer} | {agents} | {len(rows)} | {ab_ok} | {occ_ok} | {both} | "
            f"{sum(r['ratio'] for r in rows) / len(rows):.3f} | {min(r['ratio'] for r in rows):.3f} | "
            f"{pct(max(r['worst_hour'] for r in rows))} | {pct(max(r['overall_max'] for r in rows))} |")
    lines += ["", "## Why: where the predictive pacer spent its ticks (share of ticks, mean over scenarios)", "",
              "cold = warm-up (dialling progressively until the answer mix is learnt); guard = the rolling-hour",
              "guard had no room (progressive); gate = the compliance gate said the budget is spent; model =",
              "overdialling on the forecast. Dial level = mean lines in use ÷ logged-in agents.", "",
              "| agents | cold % | guard % | gate % | model % | dial level | oracle dial level | pooled abandonment % |",
              "|---|---|---|---|---|---|---|---|"]
    for (pacer, agents), rows in sorted(by_team.items(), key=lambda kv: kv[0][1]):
        if pacer != "predictive":
            continue
        share = {m: sum(r["modes"].get(m, 0.0) for r in rows) / len(rows) for m in ("cold", "guard", "gate", "model")}
        oracle_level = [table[r["scenario"]]["oracle"]["dial_level"] for r in rows if "oracle" in table[r["scenario"]]]
        lines.append(f"| {agents} | {100 * share['cold']:.1f} | {100 * share['guard']:.1f} | {100 * share['gate']:.1f} | "
                     f"{100 * share['model']:.1f} | {sum(r['dial_level'] for r in rows) / len(rows):.2f} | "
                     f"{sum(oracle_level) / max(len(oracle_level), 1):.2f} | "
                     f"{pct(sum(r['overall_pooled'] for r in rows) / len(rows))} |")
    lines += ["", "## Every scenario", "",
              "Cells: ratio / overall % / worst-hour %. ✔ = all targets met for that scenario.", "",
              "| scenario | oracle occupancy | predictive | progressive | vicidial_hard | vicidial_tapered |",
              "|---|---|---|---|---|---|"]
    for scenario in sorted(table, key=_scenario_key):
        pacers = table[scenario]
        cells = []
        for pacer in PACERS[:-1]:
            row = pacers.get(pacer)
            if row is None:
                cells.append("–")
                continue
            mark = " ✔" if passes(row) else ""
            cells.append(f"{row['ratio']:.3f} / {pct(row['overall_max'])} / {pct(row['worst_hour'])}{mark}")
        oracle = pacers.get("oracle", {}).get("occupancy", float("nan"))
        lines.append(f"| {scenario} | {oracle:.3f} | " + " | ".join(cells) + " |")
    if blended:
        lines += ["", "## Blended mode: the bot takes answers no agent can take within 2 s", "",
                  "| run | occupancy | regulatory abandonment % (worst hour %) | silent abandons | answers the bot took |",
                  "|---|---|---|---|---|"]
        for b in blended:
            lines.append(f"| {b['label']} | {b['occupancy_talk']:.3f} | {pct(b['abandonment']['overall'])} "
                         f"({pct(b['abandonment']['worst_rolling_hour'])}) | "
                         f"{b['abandonment']['silent_abandons']} | {b['bot_answers']} of {b['live_answers']} |")
    lines += ["", "Plots: `pacing_frontier.png` (occupancy ratio vs worst-hour abandonment), "
              "`pacing_ratio_by_team.png` (ratio by team size).", ""]
    return "\n".join(lines)


def _scenario_key(name: str) -> tuple[int, str]:
    if name.startswith("a") and "_p" in name:
        return (int(name[1:name.index("_")]), name)
    return (1000, name)


def plots(table: dict[str, dict[str, dict[str, Any]]], out: Path, suffix: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"predictive": "tab:green", "progressive": "tab:blue", "vicidial_hard": "tab:orange",
               "vicidial_tapered": "tab:red"}
    fig, ax = plt.subplots(figsize=(8, 5))
    for pacer, colour in colours.items():
        xs = [max(rows[pacer]["worst_hour"], 1e-3) * 100 for rows in table.values() if pacer in rows]
        ys = [rows[pacer]["ratio"] for rows in table.values() if pacer in rows]
        ax.scatter(xs, ys, s=18, alpha=0.7, label=pacer, color=colour)
    ax.axvline(3.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("worst rolling-hour abandonment, % (log; 0 plotted at 0.1)")
    ax.set_ylabel("talk occupancy ÷ clairvoyant bound")
    ax.set_title("Occupancy vs abandonment, every scenario (mean over seeds)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / f"pacing_frontier{suffix}.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 5))
    teams = sorted({row["agents"] for rows in table.values() for row in rows.values()})
    width = 0.8 / len(colours)
    for i, (pacer, colour) in enumerate(colours.items()):
        data = [[rows[pacer]["ratio"] for rows in table.values()
                 if pacer in rows and rows[pacer]["agents"] == team] for team in teams]
        positions = [k + i * width for k in range(len(teams))]
        box = ax.boxplot([d or [float("nan")] for d in data], positions=positions, widths=width * 0.9,
                         patch_artist=True, manage_ticks=False)
        for patch in box["boxes"]:
            patch.set_facecolor(colour)
        ax.plot([], [], color=colour, linewidth=8, label=pacer)
    for k, team in enumerate(teams):
        target = occupancy_target(team)
        ax.hlines(target, k - 0.1, k + 0.8, colors="black", linestyles=":")
    ax.set_xticks([k + 0.3 for k in range(len(teams))], [str(t) for t in teams])
    ax.set_xlabel("agents at the start of the shift")
    ax.set_ylabel("talk occupancy ÷ clairvoyant bound")
    ax.set_title("Occupancy ratio by team size (dotted: target)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out / f"pacing_ratio_by_team{suffix}.png", dpi=110)
    plt.close(fig)


def git_head() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Pacing benchmark (issue 4).")
    parser.add_argument("--quick", action="store_true", help="small grid, one seed, 2-hour shifts")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per scenario (default 3; quick 1)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    seeds = list(range(1, (args.seeds or (1 if args.quick else 3)) + 1))
    command = "python -m benchmarks.pacing" + (" --quick" if args.quick else "") + (
        f" --seeds {args.seeds}" if args.seeds else "")
    started = time.time()
    tasks = [(s, p, seed, "us") for s in scenarios(args.quick) for p in PACERS for seed in seeds]
    blended_scenarios = [load_scenario(SCENARIO_DIR / f"{name}.yaml") for name in ("blended20", "blended5")]
    if args.quick:
        blended_scenarios = [b.with_overrides(duration_s=2 * 3600.0) for b in blended_scenarios]
    blended_tasks = [(b, p, seeds[0], "us") for b in blended_scenarios
                     for p in ("predictive", "blended", "blended_bot_counts", "oracle")]
    results = run_all(tasks + blended_tasks, args.jobs)
    blended_names = {b.name for b in blended_scenarios}
    blended_results = [r for r in results if r["scenario"] in blended_names]
    results = [r for r in results if r["scenario"] not in blended_names]
    labels = {"predictive": "predictive (no bot), us profile",
              "blended": "blended, us profile: a bot answer still counts as abandoned",
              "blended_bot_counts": "blended, cn profile: the bot counts as live; overflow target 8 %",
              "oracle": "oracle bound"}
    for b in blended_results:
        b["label"] = f"{b['scenario']}: {labels[b['pacer']]}"
    blended_results.sort(key=lambda b: (b["scenario"], list(labels).index(b["pacer"])))
    table, _ = summarise(results)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "_quick" if args.quick else ""
    text = markdown(table, command, seeds, time.time() - started, blended_results)
    (args.out / f"pacing{suffix}.md").write_text(text, encoding="utf-8")
    plots(table, args.out, suffix)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
