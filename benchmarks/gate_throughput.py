"""Benchmark: compliance-gate decisions per second on a production-sized database.

    python -m benchmarks.gate_throughput [--contacts 1000000] [--db postgresql|sqlite] [--workers 4]
                                         [--seconds 30] [--durable/--no-durable] [--batch 1 [20 ...]]

Target (issue 3): >= 2,000 decisions/s on PostgreSQL. Builds the database described in
`benchmarks/gate_data.py` (schema by the migrations, rows by SQLAlchemy Core), then calls the
real `CallGate.decide` as a dialer process would, on contacts a hopper could hand it (every
contact of the file, shuffled; each process its own slice, as leases with SKIP LOCKED give), with
a clock that starts at Tue 2026-11-24 01:00 UTC: 09:00 in Shanghai and 17:00-20:00 in the US
zones, so every window is open and denials come from the rules (DNC, third-party lock, caps,
calls in flight), not from the hour. Measured: single process, then K processes in parallel
(PostgreSQL only: SQLite serialises writers by design), for each `--batch` size (targets per
transaction: `decide` for 1, `decide_many` above). Not a test; never collected by pytest.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, event, make_url, text

from benchmarks.gate_data import Shape, build, existing_targets
from benchmarks.import_accounts import RESULTS, report
from dialer.clock import OffsetClock
from dialer.compliance.book import ProfileBook
from dialer.compliance.gate import CallGate, DialTarget
from dialer.compliance.permit import PermitAuthority
from dialer.compliance.profiles import load_profiles
from dialer.db import migrate
from dialer.db.session import make_engine, make_sessionmaker

INSTANT = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)


@dataclass
class Run:
    label: str
    processes: int
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    client_cpu_s: float = 0.0     # CPU time of the dialer processes (Python, SQLAlchemy, driver)
    server_cpu_s: float | None = None  # CPU time of all PostgreSQL processes during the run
    statements: int = 0           # SQL statements sent, BEGIN and COMMIT not counted

    @property
    def decisions(self) -> int:
        return len(self.latencies_ms)

    def row(self) -> str:
        lat = sorted(self.latencies_ms)
        p50, p99 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        allowed = self.outcomes["allow"]
        mix = ", ".join(f"{k} {v / self.decisions:.1%}" for k, v in self.outcomes.most_common() if k != "allow")
        return (f"| {self.label} | {self.processes} | {self.decisions:,} | {self.decisions / self.seconds:,.0f} "
                f"| {p50:.1f} | {p99:.1f} | {statistics.fmean(lat):.1f} "
                f"| {self.client_cpu_s / self.decisions * 1000:.2f} "
                f"| {'' if self.server_cpu_s is None else f'{self.server_cpu_s / self.decisions * 1000:.2f}'} "
                f"| {self.statements / self.decisions:.1f} "
                f"| {allowed / self.decisions:.1%} | {mix} |")


@dataclass
class Sample:
    seconds: float
    latencies_ms: list[float]
    outcomes: Counter[str]
    cpu_s: float
    statements: int


def hammer(db_url: str, offset_s: float, targets: list[tuple[int, int, int]], seconds: float, node: str,
           batch: int = 1) -> Sample:
    """One dialer process: decide on its targets, in order, for `seconds`; `batch` targets per
    transaction (`CallGate.decide_many`, as a runner tick asking for many permits would), or one
    at a time (`decide`). A decision's latency is its batch's: the permit comes with the commit."""
    engine = make_engine(db_url)
    statements = [0]
    event.listen(engine, "before_cursor_execute", lambda *_args: statements.__setitem__(0, statements[0] + 1))
    sessions = make_sessionmaker(engine)
    gate = CallGate(sessions=sessions, profile_for=ProfileBook(load_profiles()).for_campaign,
                    authority=PermitAuthority(), clock=OffsetClock(timedelta(seconds=offset_s)), node=node)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    cpu_started, statements[0] = time.process_time(), 0
    started = time.perf_counter()
    deadline = started + seconds
    for start in range(0, len(targets), batch):
        chunk = [DialTarget(*t) for t in targets[start:start + batch]]
        t0 = time.perf_counter()
        results = [gate.decide(chunk[0])] if batch == 1 else gate.decide_many(chunk)
        t1 = time.perf_counter()
        latencies += [(t1 - t0) * 1000] * len(results)
        for result in results:
            outcomes["allow" if result.allowed else _reason(result)] += 1
        if t1 >= deadline:
            break
    sample = Sample(time.perf_counter() - started, latencies, outcomes, time.process_time() - cpu_started,
                    statements[0])
    engine.dispose()
    return sample


def _reason(result) -> str:  # type: ignore[no-untyped-def]
    reason = result.decision.reason
    return getattr(reason, "value", None) or result.decision.detail[:40] or "deny"


def measure(db_url: str, targets: list[tuple[int, int, int]], processes: int, seconds: float,
            at: datetime, label: str, batch: int = 1) -> Run:
    offset = (at - datetime.now(timezone.utc)).total_seconds()
    run = Run(label, processes)
    server_before = _postgres_cpu_s(db_url)
    share = len(targets) // processes
    slices = [targets[i * share:(i + 1) * share] for i in range(processes)]
    if processes == 1:
        results = [hammer(db_url, offset, slices[0], seconds, "bench-0", batch)]
    else:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(processes) as pool:
            results = pool.starmap(hammer, [(db_url, offset, s, seconds, f"bench-{i}", batch)
                                            for i, s in enumerate(slices)])
    time.sleep(1.0)  # let the postmaster reap the benchmark's backends: their CPU lands in its cutime then
    server_after = _postgres_cpu_s(db_url)
    if server_before is not None and server_after is not None:
        run.server_cpu_s = server_after - server_before
    run.seconds = max(r.seconds for r in results)
    for r in results:
        run.latencies_ms += r.latencies_ms
        run.outcomes += r.outcomes
        run.client_cpu_s += r.cpu_s
        run.statements += r.statements
    return run


def _postgres_cpu_s(db_url: str) -> float | None:
    """User + system CPU of our PostgreSQL server (the postmaster listening on the URL's port and
    its children; exited backends count in the postmaster's cutime/cstime once reaped). Other
    engineers' clusters on the machine are not counted. None for SQLite."""
    url = make_url(db_url)
    if url.get_backend_name() != "postgresql":
        return None
    stats: dict[int, list[str]] = {}
    postmaster = None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        stats[int(entry.name)] = fields
        if argv and argv[0].endswith(b"/postgres") and b"-p" in argv and \
                str(url.port).encode() in argv[argv.index(b"-p") + 1:argv.index(b"-p") + 2]:
            postmaster = int(entry.name)
    if postmaster is None:
        return None
    ticks = sum(int(f) for f in stats[postmaster][11:15])  # utime stime cutime cstime
    ticks += sum(int(f[11]) + int(f[12]) for f in stats.values() if int(f[1]) == postmaster)
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Postgres:
    url: str
    stop: Callable[[], None]
    settings: str


def start_postgres(workdir: Path, *, durable: bool) -> Postgres:
    # The test fixture's cluster runs with fsync off; a benchmark of commits per second must say
    # which it measured, so durability is an option here (default on, as in production).
    from tests.fixtures.postgres import _as_postgres, _bin_dir, _free_port

    bin_dir, port = _bin_dir(), _free_port()
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(workdir, pw.pw_uid, pw.pw_gid)
    data = workdir / "pg"
    subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "bench", "--auth=trust",
                                 "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
    settings = ("-c shared_buffers=1GB -c max_connections=100 -c max_wal_size=4GB "
                + ("-c fsync=on -c synchronous_commit=on" if durable else
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"))
    subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-o",
                                 f"-c listen_addresses=127.0.0.1 -p {port} -k {workdir} {settings}",
                                 "-l", str(workdir / "pg.log"), "-w", "start"]), check=True, capture_output=True)
    admin = create_engine(f"postgresql+psycopg://bench@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE bench"))
    admin.dispose()

    def stop() -> None:
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                       capture_output=True, check=False)

    return Postgres(f"postgresql+psycopg://bench@127.0.0.1:{port}/bench", stop, settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--workers", type=int, default=4, help="parallel dialer processes (PostgreSQL)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each measured run")
    parser.add_argument("--durable", action=argparse.BooleanOptionalAction, default=True,
                        help="PostgreSQL with fsync and synchronous_commit on (default) or off")
    parser.add_argument("--keep", action="store_true", help="keep the database (and server) for EXPLAIN")
    parser.add_argument("--reuse", metavar="URL", help="measure on a database kept by an earlier --keep run "
                        "(upgraded to the current migrations first) instead of building one")
    parser.add_argument("--out", type=Path, default=RESULTS / "gate_throughput.latest.md",
                        help="where the table is written too (the analysis lives in results/gate.md)")
    parser.add_argument("--batch", type=int, nargs="+", default=[1], metavar="N",
                        help="targets per gate transaction: 1 = CallGate.decide, more = decide_many; "
                        "each size is measured with 1 and with --workers processes")
    args = parser.parse_args(argv)
    if args.reuse:
        return _remeasure(args.reuse, args.workers, args.seconds, args.batch, args.out)

    workdir = Path(tempfile.mkdtemp(prefix="dialer-bench-gate-"))
    server = None
    try:
        if args.db == "postgresql":
            server = start_postgres(workdir, durable=args.durable)
            db_url = server.url
        else:
            db_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        migrate.upgrade(db_url)
        engine = make_engine(db_url)
        started = time.perf_counter()
        built = build(engine, Shape(contacts=args.contacts), INSTANT,
                      log=lambda m: print(f"[{time.perf_counter() - started:6.0f} s] {m}", file=sys.stderr))
        engine.dispose()
        build_s = time.perf_counter() - started
        print(f"built in {build_s:.0f} s: {built.debtors:,} debtors, {built.contacts:,} contacts, "
              f"{built.attempts:,} attempts", file=sys.stderr)
        workers = args.workers if args.db == "postgresql" else 1
        runs = _runs(db_url, built.targets, workers, args.seconds, args.batch, INSTANT)
        report([f"{args.db}, {built.contacts:,} contacts, {built.debtors:,} debtors, {built.attempts:,} attempts "
                f"over 365 days; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
                f"build {build_s:.0f} s" + (f"; server: {server.settings}" if server else ""), "", *_table(runs)],
               args.out)
        if args.keep:
            print(f"\nkept: {db_url} (data in {workdir})", file=sys.stderr)
    finally:
        if server is not None and not args.keep:
            server.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _runs(db_url: str, targets: list[tuple[int, int, int]], workers: int, seconds: float, batches: list[int],
          first_at: datetime) -> list[Run]:
    """For each batch size, one process then `workers` processes, 5 minutes after the previous run,
    each on its own share of the debtors: the benchmark never ends a call, so a run sharing debtors
    with an earlier one would find their calls still in flight and measure more (cheaper) denials."""
    plan = [(batch, processes) for batch in batches for processes in ([1, workers] if workers > 1 else [1])]
    shares: list[list[tuple[int, int, int]]] = [[] for _ in plan]
    for target in targets:
        shares[target[1] % len(plan)].append(target)   # by account: one account per debtor in gate_data
    runs = []
    for i, (batch, processes) in enumerate(plan):
        label = ("single process" if processes == 1 else f"{processes} processes") + \
            ("" if batch == 1 else f", batches of {batch}")
        runs.append(measure(db_url, shares[i], processes, seconds, first_at + timedelta(minutes=5 * i), label, batch))
        print(runs[-1].row(), file=sys.stderr)
    return runs


def _remeasure(db_url: str, workers: int, seconds: float, batches: list[int], out: Path) -> int:
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    targets = existing_targets(engine)
    with engine.connect() as conn:
        attempts = conn.scalar(text("SELECT count(*) FROM attempts"))
    engine.dispose()
    # Later instants than a build run on this database, still inside every window.
    runs = _runs(db_url, targets, workers, seconds, batches, INSTANT + timedelta(minutes=20))
    report([f"reused {db_url}: {len(targets):,} undialled contacts, {attempts:,} attempts; {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.1f}", "", *_table(runs)], out)
    return 0


def _table(runs: list[Run]) -> list[str]:
    return ["| run | processes | decisions | decisions/s | p50 ms | p99 ms | mean ms | client CPU ms/decision "
            "| server CPU ms/decision | statements/decision | allowed | denials |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|", *(run.row() for run in runs)]


if __name__ == "__main__":
    raise SystemExit(main())
