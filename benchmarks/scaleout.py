"""Scale-out throughput: completed calls per minute of one daemon on one Asterisk against three
daemons on two Asterisk servers, one PostgreSQL, one campaign (docs/scale-out.md).

    python -m benchmarks.scaleout [--accounts 160] [--channels 8] [--json]

Both runs use the same campaign shape (far ends played by the `[demo-carrier]` dialplan: busy, ring
15 s unanswered, rejected, in turn; nobody answers, since no bot listens and an answered call would
be abandoned), the same per-server channel limit
and `dialer run` processes exactly as deployed (subprocesses, real ARI). Each server's channel
limit is the binding constraint by design, so the cluster's two servers should carry about twice
the calls; what it really carries on this machine (2 cores shared by both Asterisk servers, three
daemons, PostgreSQL and other work) is what the table says.

Results: benchmarks/results/scaleout.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, text

from dialer.db import migrate
from dialer.db.session import make_engine, make_sessionmaker
from tests.daemon.campaign_setup import make_far_end_campaign, zone_at_local_hour
from tests.fixtures.asterisk import HARNESS, AsteriskInstance, _read_exports, free_test_ports
from tests.fixtures.postgres import start_cluster
from tests.scaleout.cluster_run import Cluster, NodeSpec, peak_concurrency, spans

RESULTS = Path(__file__).resolve().parent / "results" / "scaleout.md"


def start_asterisk(name: str) -> AsteriskInstance:
    env = {**os.environ, "DIALER_ASTERISK_INSTANCE": f"bench-{os.getpid()}-{name}", **free_test_ports()}
    subprocess.run([str(HARNESS), "start"], env=env, check=True, timeout=300, capture_output=True)
    return AsteriskInstance(env=env, exports=_read_exports(env))


def stop_asterisk(instance: AsteriskInstance) -> None:
    subprocess.run([str(HARNESS), "stop", "--purge"], env=instance.env, check=False, timeout=60,
                   capture_output=True)


def run_once(label: str, specs: list[NodeSpec], db_url: str, accounts: int, workdir: Path) -> dict[str, object]:
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    # No far end answers as a person: no bot listens in the benchmark, so answered calls would be
    # abandoned and the gate (rightly) stop dialling once the abandonment budget is spent.
    make_far_end_campaign(sessions, accounts=accounts, zone=zone_at_local_hour(range(9, 20)), name=label,
                          digits=(5, 6, 8))
    cluster = Cluster(db_url=db_url, workdir=workdir, lease_s=2.0, exit_when_idle_s=8.0)
    started = time.monotonic()
    try:
        for spec in specs:
            cluster.start(spec)
        cluster.wait(timeout_s=900)
    finally:
        cluster.stop_all()
    wall = time.monotonic() - started
    with sessions() as session:
        calls = spans(session)
    engine.dispose()
    ended = [c.ended_at for c in calls if c.ended_at is not None]
    first = min(c.placed_at for c in calls)
    last = max(ended)
    minutes = (last - first).total_seconds() / 60
    servers = sorted({c.server or "?" for c in calls})
    return {
        "setup": label, "daemons": len(specs), "asterisk_servers": len({s.server for s in specs}),
        "channels_per_server": specs[0].channel_limit, "accounts": accounts, "attempts": len(calls),
        "completed": len(ended), "dialling_minutes": round(minutes, 2),
        "completed_per_minute": round(len(ended) / minutes, 1) if minutes else None,
        "wall_s_with_start_and_idle_exit": round(wall, 1),
        "peak_by_server": {s: peak_concurrency([c for c in calls if c.server == s]) for s in servers},
        # How full each server's channels were kept: channel-seconds used / channel-seconds offered.
        "occupancy_by_server": {s: round(100 * sum((c.ended_at - c.placed_at).total_seconds()
                                                   for c in calls if c.server == s and c.ended_at)
                                         / (specs[0].channel_limit * minutes * 60)) for s in servers},
        "calls_by_node": {n: sum(c.node == n for c in calls) for n in sorted({c.node or "?" for c in calls})},
        "exit_codes": {n: node.proc.returncode for n, node in cluster.nodes.items()},
    }


def render(rows: list[dict[str, object]], command: str) -> str:
    load = os.getloadavg()[0]
    lines = ["# Scale-out throughput: 1 daemon / 1 Asterisk vs 3 daemons / 2 Asterisk", "",
             f"`{command}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, 2 cores shared with other work "
             f"(load average {load:.1f} at the end). One PostgreSQL 15 (throwaway cluster), Asterisk 22 harness "
             "instances, `dialer run` subprocesses (ARI), `[demo-carrier]` Local-channel far ends "
             "(busy, no answer after 15 s, reject in turn: a third of the calls hold a channel for 15 s), channel limit per server as shown.", "",
             "| setup | daemons | Asterisk servers | channels per server | attempts | completed | dialling minutes "
             "| completed calls / minute | peak concurrent by server | channel occupancy % by server | calls by node |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['setup']} | {r['daemons']} | {r['asterisk_servers']} | {r['channels_per_server']} | "
                     f"{r['attempts']} | {r['completed']} | {r['dialling_minutes']} | {r['completed_per_minute']} | "
                     f"{json.dumps(r['peak_by_server'])} | {json.dumps(r['occupancy_by_server'])} | "
                     f"{json.dumps(r['calls_by_node'])} |")
    if len(rows) == 2 and rows[0]["completed_per_minute"] and rows[1]["completed_per_minute"]:
        ratio = float(rows[1]["completed_per_minute"]) / float(rows[0]["completed_per_minute"])  # type: ignore[arg-type]
        lines += ["", f"Scale-out / single: **{ratio:.2f}x** completed calls per minute (ideal 2x: twice the channels)."]
    lines += ["", "'dialling minutes' runs from the first attempt's decision to the last call's end; daemon start-up "
              "and the idle wait before exit are not in it."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=160)
    parser.add_argument("--channels", type=int, default=8, help="channel limit of each Asterisk server")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    command = f"python -m benchmarks.scaleout --accounts {args.accounts} --channels {args.channels}"
    server, pg = start_cluster()
    ast_a = start_asterisk("a")
    ast_b = start_asterisk("b")
    rows = []
    try:
        admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in ("bench_single", "bench_scaled"):
                conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        with tempfile.TemporaryDirectory(prefix="scaleout-") as tmp:
            work = Path(tmp)
            rows.append(run_once("single", [NodeSpec("solo", ast_a, "ast-a", args.channels)],
                                 server.url("bench_single"), args.accounts, work / "single"))
            rows.append(run_once("scaled", [NodeSpec("a1", ast_a, "ast-a", args.channels),
                                            NodeSpec("a2", ast_a, "ast-a", args.channels),
                                            NodeSpec("b", ast_b, "ast-b", args.channels)],
                                 server.url("bench_scaled"), args.accounts, work / "scaled"))
    finally:
        stop_asterisk(ast_a)
        stop_asterisk(ast_b)
        pg.stop()
    report = render(rows, command)
    RESULTS.write_text(report, encoding="utf-8")
    print(json.dumps(rows, indent=2) if args.json else report)


if __name__ == "__main__":
    main()
