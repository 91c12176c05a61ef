"""Benchmark: originations per second and concurrent calls through the real Asterisk, ARI vs AMI.

    python -m benchmarks.originate [--burst 300] [--rate 10] [--seconds 20] [--adapters ari,ami]

Runs its own harness instance ("bench", ports +20000) and stops it at the end. Two phases per
adapter, each call a real originate of a gate permit (redeemed, as in production) to a Local-
channel callee of extensions.conf [callee-sim]:

- burst: `--burst` calls to a busy callee, as fast as the adapter accepts them (at most 50
  originates in flight): the signalling throughput of adapter + Asterisk (calls/s accepted and
  calls/s completed with their BUSY outcome).
- sustained: `--rate` calls/s for `--seconds` to a callee that answers at once and talks, routed
  through MixMonitor + AMD to the bot (not running: Asterisk falls back to the safe-harbour
  message, ~6 s), so calls pile up: peak concurrent calls, originate latency, and the CPU of
  this process (the dialer side) against Asterisk's.

Writes benchmarks/results/originate.md. Not a test (never collected by pytest, not run in CI).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from dialer.clock import SystemClock
from dialer.compliance.permit import PermitAuthority
from dialer.domain import Outcome
from dialer.telephony.ami import AmiSettings, AmiTelephony
from dialer.telephony.ari import AriSettings, AriTelephony
from dialer.telephony.interface import CallEvent, CallEventKind, RoutePlan
from dialer.telephony.lifecycle import CallLifecycle

REPO = Path(__file__).resolve().parents[1]
HARNESS = REPO / "scripts" / "asterisk-harness"
RESULTS = REPO / "benchmarks" / "results" / "originate.md"
PORTS = {"DIALER_ARI_PORT": "38088", "DIALER_AMI_PORT": "35038", "DIALER_SIP_PORT": "35060",
         "DIALER_CARRIER_PORT": "35070", "DIALER_AGI_PORT": "34573"}
ENV = {**os.environ, "DIALER_ASTERISK_INSTANCE": "bench", **PORTS}


def harness(*args: str) -> str:
    return subprocess.run([str(HARNESS), *args], env=ENV, check=True, text=True,
                          capture_output=True, timeout=300).stdout


def asterisk_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Tracker:
    """Follows every attempt's lifecycle and the number of calls in progress."""

    lifecycles: dict[int, CallLifecycle] = field(default_factory=dict)
    in_progress: int = 0
    peak: int = 0
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0
    errors: list[str] = field(default_factory=list)

    def started(self, attempt_id: int) -> None:
        lifecycle = CallLifecycle(attempt_id)
        lifecycle.originating(datetime.now(timezone.utc))
        self.lifecycles[attempt_id] = lifecycle
        self.in_progress += 1
        self.peak = max(self.peak, self.in_progress)

    def on_event(self, event: CallEvent) -> None:
        lifecycle = self.lifecycles.get(event.attempt_id)
        if lifecycle is None:
            return
        try:
            lifecycle.apply(event)
        except Exception as exc:  # recorded, reported: a benchmark must not hide contract breaks
            self.errors.append(f"{event.attempt_id}: {exc}")
        if event.kind in (CallEventKind.ENDED, CallEventKind.FAILED):
            self.in_progress -= 1
            if sum(1 for c in self.lifecycles.values() if c.is_over) >= self.expected:
                self.ended.set()

    def outcomes(self) -> Counter[str]:
        return Counter(c.outcome.value if c.outcome else "open" for c in self.lifecycles.values())


async def run_phase(telephony: AriTelephony | AmiTelephony, authority: PermitAuthority, *,
                    calls: int, rate: float | None, callee: str, route: RoutePlan,
                    asterisk_pid: int) -> dict[str, object]:
    clock = SystemClock()
    tracker = Tracker(expected=calls)
    unsubscribe = telephony.subscribe(tracker.on_event)
    latencies: list[float] = []
    in_flight = asyncio.Semaphore(50)
    next_id = int(time.time() * 1000) % 10**9 * 1000

    async def one(i: int) -> None:
        async with in_flight:
            permit = authority.issue(attempt_id=next_id + i, campaign_id=1, contact_id=i,
                                     e164=f"+1555{i:07d}", ring_timeout_s=15,
                                     live_agent_required=False, now=clock.now())
            tracker.started(permit.attempt_id)
            t0 = time.perf_counter()
            await telephony.originate(permit, route=route, dial=f"Local/{callee}@callee-sim")
            latencies.append(time.perf_counter() - t0)

    cpu0, ast0, wall0 = time.process_time(), asterisk_cpu_s(asterisk_pid), time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for i in range(calls):
            group.create_task(one(i))
            if rate:
                await asyncio.sleep(1 / rate)
    accepted_s = time.perf_counter() - wall0
    await asyncio.wait_for(tracker.ended.wait(), 120)
    wall = time.perf_counter() - wall0
    cpu, ast = time.process_time() - cpu0, asterisk_cpu_s(asterisk_pid) - ast0
    unsubscribe()
    latencies.sort()
    return {
        "calls": calls, "accepted_per_s": calls / accepted_s, "completed_per_s": calls / wall,
        "wall_s": wall, "peak_concurrent": tracker.peak,
        "latency_p50_ms": 1000 * statistics.median(latencies),
        "latency_p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "dialer_cpu_pct": 100 * cpu / wall, "asterisk_cpu_pct": 100 * ast / wall,
        "outcomes": dict(tracker.outcomes()), "contract_errors": len(tracker.errors),
    }


async def bench_adapter(name: str, exports: dict[str, str], pid: int, args: argparse.Namespace
                        ) -> dict[str, dict[str, object]]:
    authority = PermitAuthority()
    clock = SystemClock()
    telephony: AriTelephony | AmiTelephony
    if name == "ari":
        telephony = AriTelephony(settings=AriSettings(exports["DIALER_ARI_URL"],
                                                      exports["DIALER_ARI_USER"],
                                                      exports["DIALER_ARI_PASSWORD"]),
                                 authority=authority, clock=clock)
    else:
        telephony = AmiTelephony(settings=AmiSettings(exports["DIALER_AMI_HOST"],
                                                      int(exports["DIALER_AMI_PORT"]),
                                                      exports["DIALER_AMI_USER"],
                                                      exports["DIALER_AMI_PASSWORD"]),
                                 authority=authority, clock=clock)
    await telephony.start()
    try:
        burst = await run_phase(telephony, authority, calls=args.burst, rate=None, callee="busy",
                                route=RoutePlan.to_bot(), asterisk_pid=pid)
        assert burst["outcomes"] == {Outcome.BUSY.value: args.burst}, burst["outcomes"]
        sustained = await run_phase(telephony, authority, calls=int(args.rate * args.seconds),
                                    rate=args.rate, callee="answer-0", route=RoutePlan.to_bot(),
                                    asterisk_pid=pid)
    finally:
        await telephony.close()
    return {"burst (busy callee)": burst, "sustained (answered, ~8 s calls)": sustained}


def report(results: dict[str, dict[str, dict[str, object]]], args: argparse.Namespace,
           version: str) -> str:
    lines = [
        "# Originate throughput through the real Asterisk (ARI vs AMI)",
        "",
        f"`python -m benchmarks.originate --burst {args.burst} --rate {args.rate} "
        f"--seconds {args.seconds}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores shared with other work (load average "
        f"{os.getloadavg()[0]:.1f} at the end), {version.strip()}.",
        "Each call: gate permit redeemed, originate of `Local/<n>@dialer-outbound` to a "
        "`[callee-sim]` callee, every event fed through the lifecycle state machine.",
        "",
        "| adapter | phase | calls | accepted/s | completed/s | peak concurrent | originate p50 / p95 ms "
        "| dialer CPU % | Asterisk CPU % | outcomes | contract errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for adapter, phases in results.items():
        for phase, r in phases.items():
            lines.append(
                f"| {adapter} | {phase} | {r['calls']} | {r['accepted_per_s']:.1f} | "
                f"{r['completed_per_s']:.1f} | {r['peak_concurrent']} | "
                f"{r['latency_p50_ms']:.1f} / {r['latency_p95_ms']:.1f} | "
                f"{r['dialer_cpu_pct']:.0f} | {r['asterisk_cpu_pct']:.0f} | "
                f"{json.dumps(r['outcomes'])} | {r['contract_errors']} |")
    lines += [
        "",
        "CPU % is of one core over the phase's wall time (this process = the dialer side; "
        "Asterisk = its process). 'completed/s' runs until the last call ended, so for the "
        "sustained phase it includes the tail of the last calls.",
        "",
        "Reading it: in the sustained phase (100+ calls up at once, each with MixMonitor and AMD) "
        "Asterisk does the work and the dialer side stays at a few % of a core, so the dialer is "
        "not the bottleneck. In the burst, ARI costs the dialer more CPU per originate than AMI "
        "(one HTTP request per call, and `subscribeAll` streams every channel's dialplan steps and "
        "variable sets as JSON). ARI originates must pass `formats` (AriSettings.formats): "
        "without it Asterisk 22 gave the Local channels every audio format and transcoded each "
        "frame, ~7x the Asterisk CPU per answered call of the same originate over AMI.",
        "",
    ]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> None:
    harness("start")
    try:
        exports = {}
        for line in harness("env").splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            exports[key] = value
        status = json.loads(harness("status", "--json"))
        version = harness("cli", "core show version")
        results = {name: await bench_adapter(name, exports, int(status["pid"]), args)
                   for name in args.adapters.split(",")}
    finally:
        harness("stop", "--purge")
    text = report(results, args, version)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--adapters", default="ari,ami")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
