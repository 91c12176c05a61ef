"""How long one predictive-pacer tick takes at 100 and 1,000 agents (target < 1 ms and < 10 ms).

Run: python -m benchmarks.pacing_tick
The pacer is warmed with a realistic history (answer mix, answer delays, talk and wrap times), then
asked repeatedly about a busy contact centre: most agents talking at various elapsed times, some in
wrap-up, a few free, and the ringing calls a 15 % live-answer list needs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from dialer.pacing.pacers import make_pacer
from dialer.pacing.snapshot import (
    Counters,
    DialLimits,
    DialResult,
    Observations,
    PacingSnapshot,
    ResolvedDial,
)


def warmed_pacer(rng: np.random.Generator):  # noqa: ANN201
    pacer = make_pacer("predictive")
    results = [DialResult.LIVE, DialResult.MACHINE, DialResult.BUSY, DialResult.NO_ANSWER]
    resolved = tuple(ResolvedDial(results[int(rng.choice(4, p=[0.15, 0.2, 0.1, 0.55]))],
                                  float(rng.uniform(2, 25))) for _ in range(3000))
    talks = tuple(float(x) for x in rng.lognormal(4.5, 0.7, 500))
    wraps = tuple(float(x) for x in rng.lognormal(2.2, 0.5, 500))
    pacer.calls_to_place(PacingSnapshot(now=0.0, free_agents=0, counters=START,
                                        recent=Observations(resolved, talks, wraps)))
    return pacer


START = Counters(dials=10_000, live_answers=1_500, abandons=20)


def snapshot(agents: int, now: float, rng: np.random.Generator, ringing_share: float = 0.6) -> PacingSnapshot:
    talking = tuple(float(x) for x in rng.uniform(0, 400, int(agents * 0.85)))
    wrapping = tuple(float(x) for x in rng.uniform(0, 15, int(agents * 0.1)))
    free = agents - len(talking) - len(wrapping)
    ringing = tuple(float(x) for x in rng.uniform(0, 25, int(agents * ringing_share)))
    return PacingSnapshot(
        now=now, free_agents=free, talking=talking, wrapping=wrapping, ringing=ringing,
        # Counters grow as a busy floor's do (130 s per call and 15 % live: ~0.05 dials and
        # 0.0077 answers per agent-second), so the dial-rate and rolling-hour bookkeeping run;
        # the dial rate is what keeps that many calls ringing (~12 s each).
        counters=Counters(dials=START.dials + int(now * agents * ringing_share / 12.0),
                          live_answers=START.live_answers + int(now * agents * 0.0077),
                          abandons=START.abandons + int(now * agents * 0.0001)),
        limits=DialLimits(channel_limit=agents * 6, lines_in_use=len(ringing) + len(talking),
                          max_lines_per_agent=6, calls_per_second=agents),
    )


def measure(agents: int, ticks: int, ringing_share: float = 0.6) -> tuple[float, float, float]:
    """(median ms, p99 ms, mean calls placed per tick)."""
    rng = np.random.default_rng(7)
    pacer = warmed_pacer(rng)
    snaps = [snapshot(agents, 10.0 + i, rng, ringing_share) for i in range(ticks)]
    times, placed = [], 0
    for snap in snaps:
        start = time.perf_counter()
        placed += pacer.calls_to_place(snap)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, float(np.percentile(times, 99)) * 1e3, placed / ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "pacing_tick.md")
    args = parser.parse_args()
    lines = ["# Predictive pacer tick time", "",
             f"Produced by `python -m benchmarks.pacing_tick` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())},"
             f" {args.ticks} ticks per size, one process on a shared 2-core machine).", "",
             "A tick that finds the floor already overdialled stops after the forecast; one with room runs",
             "the binary search too, so each size is measured with 60 % and with 10 % of agents' worth of",
             "calls ringing.", "",
             "| agents | calls ringing | median tick (ms) | p99 tick (ms) | calls placed per tick | target |",
             "|---|---|---|---|---|---|"]
    for agents, target in ((100, 1.0), (1000, 10.0)):
        for share in (0.6, 0.1):
            median, p99, placed = measure(agents, args.ticks, share)
            lines.append(f"| {agents} | {int(agents * share)} | {median:.3f} | {p99:.3f} | {placed:.1f} | < {target:g} ms |")
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
