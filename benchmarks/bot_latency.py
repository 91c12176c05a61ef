"""Bot turn latency on the real Asterisk at 1, 20 and 50 concurrent calls.

    python -m benchmarks.bot_latency [--calls 1 20 50] [--json]

Each call is the "promise" debtor of benchmarks/bot_calls.py (keys, a spoken promise, a key to
confirm) against the FastAGI bot as `dialer agi-server` runs it: recognition in a pool of
pre-warmed pocketsphinx worker processes (one per core), espeak-ng prompts, the call's
debtor-specific prompts synthesised at its start. A turn's latency is measured in the bot from the
moment Asterisk hands back the caller's turn (RECORD FILE / WAIT FOR DIGIT returned) to the moment
the first STREAM FILE of the reply is sent: recognition, intent, dialog step and TTS. "End of speech
→ reply" adds the time Asterisk waited after the caller stopped (RECORD FILE's silence detection,
s=1: 1 s; 0 after a key). Not included: Asterisk's time to start playback (a few ms).

Two prompt regimes: "dynamic" (a new debtor name and amount per call: the prompts that carry them
are synthesised during the call, at its start) and "cached" (the same texts again, all from cache).
Results: benchmarks/results/bot_latency.md (+ .json).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from benchmarks.bot_calls import AGI_PORT, BotHarness
from dialer.bot.agi_dialog import AudioPaths, TurnTimer
from dialer.bot.asr_pool import RecognizerPool
from dialer.bot.context import CallContext
from dialer.bot.demo_store import InMemoryCallContexts
from dialer.bot.fastagi import BotService, ScriptLibrary, serve
from dialer.bot.prompt_prep import PromptPreparer
from dialer.bot.record import CallRecord
from dialer.bot.script_walk import example_context
from dialer.bot.tts import EspeakEngine, PromptCache

RESULTS = Path(__file__).parent / "results"
NAMES = ["John Smith", "Mary Jones", "Ahmed Khan", "Li Wei", "Ana Garcia", "Tom Brown", "Sara Lee", "Omar Ali"]
_ids = itertools.count(int(time.time()) % 100000 * 1000)


class CountingSink:
    def __init__(self, expected: int) -> None:
        self.records: list[CallRecord] = []
        self.expected = expected
        self.done = asyncio.Event()

    async def record_outcome(self, context: CallContext, record: CallRecord) -> None:
        self.records.append(record)
        if len(self.records) >= self.expected:
            self.done.set()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def run(harness: BotHarness, calls: int, regime: str, cache_dir: Path,
              asr: RecognizerPool, preparer: PromptPreparer) -> dict[str, object]:
    contexts = InMemoryCallContexts()
    attempt_ids = [str(next(_ids)) for _ in range(calls)]
    base = example_context("en-US", date.today())
    for index, attempt_id in enumerate(attempt_ids):
        changes: dict[str, object] = {"attempt_id": attempt_id, "campaign_id": "bench", "amount_due": Decimal("200.00")}
        if regime == "dynamic":
            changes["debtor_name"] = f"{NAMES[index % len(NAMES)]} {attempt_id[-3:]}"
            changes["interest_amount"] = Decimal(attempt_id[-4:]) / 100
        contexts.add(replace(base, **changes))
    sink = CountingSink(calls)
    timer = TurnTimer()
    service = BotService(contexts=contexts, outcomes=sink, scripts=ScriptLibrary(),
                         prompts=PromptCache(EspeakEngine(), cache_dir), asr=asr,
                         paths=AudioPaths(harness.audio_host_dir, harness.audio_asterisk_dir), timer=timer,
                         preparer=preparer)
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    async with asyncio.TaskGroup() as group:
        group.create_task(serve(service, "127.0.0.1", AGI_PORT, stop=stop, ready=ready))
        await ready
        try:
            await asyncio.gather(*(asyncio.to_thread(harness.call, "promise", a) for a in attempt_ids))
            await asyncio.wait_for(sink.done.wait(), timeout=240)
        except TimeoutError:
            pass
        finally:
            stop.set()
    samples = timer.samples
    synthesised = [s for s, syn in zip(samples, timer.synthesised) if syn]
    cached = [s for s, syn in zip(samples, timer.synthesised) if not syn]
    speech = [s for s, kind in zip(samples, timer.kinds) if kind == "speech"]
    speech_end = [s + w for s, w, kind in zip(samples, timer.end_waits, timer.kinds) if kind == "speech"]
    keys = [s for s, kind in zip(samples, timer.kinds) if kind == "keys"]
    promises = sum(1 for r in sink.records if r.promise is not None and r.promise.amount == Decimal("200.00"))

    def stats(values: list[float]) -> dict[str, float | int | None]:
        if not values:
            return {"turns": 0, "p50_ms": None, "p95_ms": None}
        return {"turns": len(values), "p50_ms": round(percentile(values, 0.5) * 1000, 1),
                "p95_ms": round(percentile(values, 0.95) * 1000, 1)}

    return {"calls": calls, "regime": regime, "finished": len(sink.records), "promises_200": promises,
            "wall_s": round(time.perf_counter() - started, 1), "all": stats(samples),
            "load_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            "synthesised_reply": stats(synthesised), "cached_reply": stats(cached),
            "after_speech": stats(speech), "after_keys": stats(keys), "speech_end_to_reply": stats(speech_end),
            "mean_ms": round(statistics.fmean(samples) * 1000, 1) if samples else None,
            "samples_ms": [round(s * 1000, 1) for s in samples]}


def render(rows: list[dict[str, object]]) -> str:
    lines = ["# Bot turn latency on the real Asterisk", "",
             f"`python -m benchmarks.bot_latency --calls {' '.join(str(n) for n in sorted({r['calls'] for r in rows}))}`"
             " — FastAGI bot, "
             "pocketsphinx (grammar per step) in a pool of pre-warmed worker processes (one per core), espeak-ng "
             "prompts (the call's debtor-specific ones synthesised at its start), Asterisk 22 in the harness, "
             "Local-channel callees; 2 cores shared with other work.", "",
             "Turn = caller's turn handed back by Asterisk (RECORD FILE / WAIT FOR DIGIT returned) → first "
             "STREAM FILE of the reply sent. **End of speech → reply** adds RECORD FILE's end-of-speech wait "
             "(silence detection in whole seconds, s=1), which the caller waits through too: that is the "
             "figure to compare with the 300 ms target. Load = the box's 1-minute load average before / after the "
             "run (2 cores, shared: above 2, turns wait for a core).", "",
             "| concurrent calls | prompts | finished | promise 200 recorded | turns | p50 ms | p95 ms | "
             "p50 / p95 ms after keys (n) | p50 / p95 ms after speech (n) | **end of speech → reply p50 / p95 ms** | "
             "p95 ms reply synthesised on the turn (n) | p95 ms reply cached (n) | load |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        a, s, c = row["all"], row["synthesised_reply"], row["cached_reply"]
        k, v, e = row["after_keys"], row["after_speech"], row["speech_end_to_reply"]
        lines.append(f"| {row['calls']} | {row['regime']} | {row['finished']} | {row['promises_200']} | {a['turns']} | "
                     f"{a['p50_ms']} | {a['p95_ms']} | {k['p50_ms']} / {k['p95_ms']} ({k['turns']}) | "
                     f"{v['p50_ms']} / {v['p95_ms']} ({v['turns']}) | {e['p50_ms']} / {e['p95_ms']} | "
                     f"{s['p95_ms']} ({s['turns']}) | {c['p95_ms']} ({c['turns']}) | "
                     f"{' / '.join(str(x) for x in row.get('load_1min', []))} |")
    return "\n".join(lines) + "\n"


async def main_async(call_counts: list[int]) -> list[dict[str, object]]:
    harness = BotHarness.start()
    rows = []
    asr = RecognizerPool().start()     # as `dialer agi-server` does at start-up
    preparer = PromptPreparer()
    try:
        harness.install()
        stamp = int(time.time())
        for calls in call_counts:
            dynamic_dir = harness.audio_host_dir / f"bench-{stamp}-{calls}"
            rows.append(await run(harness, calls, "dynamic", dynamic_dir, asr, preparer))
            # Same texts again (same names/amounts are regenerated identically only in the cached
            # regime, which uses the base context for every call): warm the cache with one call first.
            cached_dir = harness.audio_host_dir / f"bench-{stamp}-cached"
            if calls == call_counts[0]:
                await run(harness, 1, "cached", cached_dir, asr, preparer)
            rows.append(await run(harness, calls, "cached", cached_dir, asr, preparer))
            print(render(rows), flush=True)
    finally:
        preparer.close()
        asr.close()
        harness.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bot turn latency on the real Asterisk")
    parser.add_argument("--calls", type=int, nargs="+", default=[1, 20, 50])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = asyncio.run(main_async(args.calls))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bot_latency.md").write_text(render(rows), encoding="utf-8")
    (RESULTS / "bot_latency.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    print(json.dumps(rows, indent=2) if args.json else render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
