"""Lift study: how much priority by expected recovery and best time to call lift connects and
promises against plain oldest-first order, in the campaign simulator (issue 7).

One generated book of accounts; for each seed, the same debtors (common random numbers, see
dialer/sim/campaign/behaviour.py) are worked by four hopper orders: oldest-first, recovery only,
best-time only, and both. The bot's channels are deliberately scarce: when every account can be
called as often as the rules allow, order cannot matter.

    .venv/bin/python -m benchmarks.priority_lift --accounts 400 --days 3 --channels 1 --seeds 1 2 --jobs 2

Writes benchmarks/results/priority_lift.md (and .json).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from statistics import mean
from typing import Any

from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import load_profiles
from dialer.sim.campaign.service import SimulationRequest, simulate_campaign
from dialer.sim.campaign.simulation import Order
from dialer.sim.campaign.synthetic import SyntheticBook, create_synthetic_campaign

RESULTS = Path(__file__).parent / "results"
FIGURES = ("dials", "connects", "right_party_contacts", "accounts_reached", "promises", "promised_minor",
           "promises_kept", "recovered_minor", "recovery_rate", "violations", "channel_utilisation")
ORDERS = (Order.OLDEST, Order.RECOVERY, Order.BEST_TIME, Order.PRIORITY)


def _run(args: tuple[str, str, int, Order, int, int]) -> dict[str, Any]:
    source, workdir, seed, order, days, channels = args
    started = time.perf_counter()
    result = simulate_campaign(
        SimulationRequest(source_url=source, campaign="lift", out=Path(workdir) / f"{order.value}-{seed}.sqlite3",
                          days=days, seed=seed, order=order, channels=channels),
        book=ProfileBook(load_profiles()))
    return {"seed": seed, "order": order.value, "seconds": round(time.perf_counter() - started, 1),
            **{k: result.figures.as_dict()[k] for k in FIGURES}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=400)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--jobs", type=int, default=2, help="Runs in parallel (processes).")
    parser.add_argument("--out", type=Path, default=RESULTS / "priority_lift.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="priority-lift-") as workdir:
        source = f"sqlite:///{workdir}/source.sqlite3"
        create_synthetic_campaign(source, "lift", today=date.today(), book=SyntheticBook(accounts=args.accounts))
        runs = [(source, workdir, seed, order, args.days, args.channels) for seed in args.seeds for order in ORDERS]
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            rows = list(pool.map(_run, runs))
    command = "python -m benchmarks.priority_lift " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    args.out.write_text(render(rows, args, command), encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print(args.out.read_text(encoding="utf-8"))
    return 0


def render(rows: list[dict[str, Any]], args: argparse.Namespace, command: str) -> str:
    by_order = {o.value: [r for r in rows if r["order"] == o.value] for o in ORDERS}
    base = {k: mean(r[k] or 0 for r in by_order[Order.OLDEST.value]) for k in FIGURES}
    lines = [
        "# Priority and best-time-to-call lift (campaign simulator)", "",
        f"`{command}`", "",
        f"{args.accounts} generated accounts (cn profile, Beijing time, days past due 1-12), {args.days} simulated "
        f"days, {args.channels} bot channel(s), seeds {', '.join(map(str, args.seeds))}; same debtors and common "
        "random numbers in every arm. Money in CNY. Means over seeds; lift is relative to oldest-first.", "",
        "| order | dials | channel busy | connects | RPC | accounts reached | promises | promised | kept | "
        "recovered | recovery | violations |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for order, runs in by_order.items():
        m = {k: mean(r[k] or 0 for r in runs) for k in FIGURES}
        lines.append(
            f"| {order} | {m['dials']:.0f} | {100 * m['channel_utilisation']:.0f}% | "
            f"{m['connects']:.0f} {_lift(m, base, 'connects')} | "
            f"{m['right_party_contacts']:.0f} {_lift(m, base, 'right_party_contacts')} | "
            f"{m['accounts_reached']:.0f} | {m['promises']:.1f} {_lift(m, base, 'promises')} | "
            f"{m['promised_minor'] / 100:,.0f} {_lift(m, base, 'promised_minor')} | "
            f"{m['promises_kept']:.1f} {_lift(m, base, 'promises_kept')} | "
            f"{m['recovered_minor'] / 100:,.0f} {_lift(m, base, 'recovered_minor')} | "
            f"{100 * m['recovery_rate']:.2f}% | {m['violations']:.0f} |")
    lines += ["", "Per seed:", "", "| seed | order | dials | connects | RPC | promises | promised | kept | recovered | "
              "run s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["seed"], [o.value for o in ORDERS].index(r["order"]))):
        lines.append(f"| {r['seed']} | {r['order']} | {r['dials']} | {r['connects']} | {r['right_party_contacts']} | "
                     f"{r['promises']} | {r['promised_minor'] / 100:,.0f} | {r['promises_kept']} | "
                     f"{r['recovered_minor'] / 100:,.0f} | {r['seconds']} |")
    return "\n".join(lines) + "\n"


def _lift(m: dict[str, float], base: dict[str, float], key: str) -> str:
    if not base[key]:
        return ""
    return f"({100 * (m[key] / base[key] - 1):+.1f}%)"


if __name__ == "__main__":
    raise SystemExit(main())
