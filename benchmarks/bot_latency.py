"""Bot turn latency on the real Asterisk at 1, 20 and 50 concurrent calls.

    python -m benchmarks.bot_latency [--calls 1 20 50] [--listen stream|record] [--label L] [--json]

Each call is the "promise" debtor of benchmarks/bot_calls.py (keys, a spoken promise, a key to
confirm) against the FastAGI bot as `dialer agi-server` runs it: espeak-ng prompts, the call's
debtor-specific prompts synthesised at its start, and speech heard one of two ways (--listen):
"stream" (the default, as `dialer agi-server` does): live over the call's audio tap, decoded frame
by frame in streaming worker processes, the bot ending the turn itself (dialer/bot/stream_listen.py);
"record": RECORD FILE, decoded afterwards in a pool of pre-warmed worker processes. In the bot, a
turn's latency runs from the end of the caller's turn (stream: the answer judged over; record:
RECORD FILE / WAIT FOR DIGIT returned) to the first STREAM FILE of the reply being sent. "End of
speech → reply" adds the wait before that (stream: since the last voiced frame arrived; record:
RECORD FILE's 1 s silence detection; 0 after a key). Not included: Asterisk's time to start playback.

On the wire (what the caller experiences, measured outside the bot): every call's callee leg is
recorded by MixMonitor, both directions on one clock (benchmarks/bot_calls.py, wire calls), and
benchmarks/wire_latency.py finds, for each caller turn, the end of the callee's speech (energy falls
to silence and stays there) or of its keys, and the first audio of the bot's reply. A calibration
call first checks the clock of the two directions against a far end that answers a key at once and
echoes speech (both delays ~0): MixMonitor pairs the directions frame by frame, so the wire figures
are good to one 20 ms frame (the bot's direction may land up to a frame late).

Two prompt regimes: "dynamic" (a new debtor name and amount per call: the prompts that carry them
are synthesised during the call, at its start) and "cached" (the same texts again, all from cache).
Results: benchmarks/results/bot_latency.md (+ .json); with --label, also a copy named after it
(e.g. --label "RECORD FILE mode" -> bot_latency.record-file-mode.md), so runs of the bot's listening
modes can be kept side by side.
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

from benchmarks.bot_calls import AGI_PORT, KEY_GAP_MS, BotHarness
from benchmarks.results_files import save
from benchmarks.wire_latency import Turn, direction_lag_s, read_wav, wire_turns
from dialer.bot.agi_dialog import AudioPaths, TurnTimer
from dialer.bot.asr_pool import RecognizerPool
from dialer.bot.asr_stream import StreamingRecognizer
from dialer.bot.audio_tap import TapServer
from dialer.bot.context import CallContext
from dialer.bot.demo_store import InMemoryCallContexts
from dialer.bot.fastagi import BotService, ScriptLibrary, serve
from dialer.bot.prompt_prep import PromptPreparer
from dialer.bot.stream_listen import Ears
from dialer.bot.record import CallRecord
from dialer.bot.script_walk import example_context
from dialer.bot.tts import EspeakEngine, PromptCache

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


def stats(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"turns": 0, "p50_ms": None, "p95_ms": None}
    return {"turns": len(values), "p50_ms": round(percentile(values, 0.5) * 1000, 1),
            "p95_ms": round(percentile(values, 0.95) * 1000, 1)}


async def calls_ended(harness: BotHarness, timeout_s: float = 120) -> None:
    """MixMonitor completes a recording when its channel hangs up: wait for this Asterisk to have no
    channel left (the callees hold the line 20 s at most after their last turn)."""
    deadline = time.monotonic() + timeout_s
    # `channel originate` returns once the channel exists, so a call just placed is counted here.
    while await asyncio.to_thread(harness.active_channels):
        if time.monotonic() > deadline:
            raise TimeoutError(f"channels still up {timeout_s:.0f} s after the calls' outcomes: "
                               "their recordings are not complete")
        await asyncio.sleep(1)


def call_turns(harness: BotHarness, attempt_id: str) -> list[Turn]:
    heard, said = harness.wire_files(attempt_id)
    return wire_turns(read_wav(heard), read_wav(said), key_tail_s=KEY_GAP_MS / 1000)


def wire_stats(harness: BotHarness, attempt_ids: list[str]) -> dict[str, object]:
    turns = [turn for attempt_id in attempt_ids for turn in call_turns(harness, attempt_id)]
    answered = [t for t in turns if t.latency_s is not None]
    return {"speech": stats([t.latency_s for t in answered if t.kind == "speech"]),
            "keys": stats([t.latency_s for t in answered if t.kind == "keys"]),
            "unanswered": len(turns) - len(answered),
            "speech_ms": [round(t.latency_s * 1000, 1) for t in answered if t.kind == "speech"],
            "keys_ms": [round(t.latency_s * 1000, 1) for t in answered if t.kind == "keys"]}


async def calibrate(harness: BotHarness) -> dict[str, object]:
    """The wire callee against a far end with known delays: a key answered by a tone at once (Read
    returns at the key's end, then Playback), then its speech echoed (Echo)."""
    attempt_id = str(next(_ids))
    await asyncio.to_thread(harness.calibrate, attempt_id)
    await calls_ended(harness)
    heard, said = (read_wav(path) for path in harness.wire_files(attempt_id))
    turns = wire_turns(heard, said, key_tail_s=KEY_GAP_MS / 1000)
    keys = [t.latency_s for t in turns if t.kind == "keys" and t.latency_s is not None]
    if len(keys) != 1:
        raise RuntimeError(f"calibration call {attempt_id}: expected one key turn answered by the tone, "
                           f"found {turns}")
    return {"key_to_tone_ms": round(keys[0] * 1000, 1),
            "echo_lag_ms": round(direction_lag_s(heard, said) * 1000, 1)}


async def _call_at(harness: BotHarness, attempt_id: str, delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    await asyncio.to_thread(harness.call, "promise", attempt_id, wire=True)


async def loop_lag(samples: list[float], stop: asyncio.Event, every_s: float = 0.01) -> None:
    """How late the bot's event loop wakes a 10 ms timer: time every live call's audio and AGI
    commands wait for the one thread they all share."""
    while not stop.is_set():
        asked = time.perf_counter()
        await asyncio.sleep(every_s)
        samples.append(time.perf_counter() - asked - every_s)


async def run(harness: BotHarness, calls: int, regime: str, cache_dir: Path,
              asr: RecognizerPool, preparer: PromptPreparer, live: StreamingRecognizer | None = None,
              stagger_s: float = 0.0) -> dict[str, object]:
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
    taps = await TapServer().start() if live is not None else None
    service = BotService(contexts=contexts, outcomes=sink, scripts=ScriptLibrary(),
                         prompts=PromptCache(EspeakEngine(), cache_dir), asr=asr,
                         paths=AudioPaths(harness.audio_host_dir, harness.audio_asterisk_dir), timer=timer,
                         preparer=preparer,
                         ears=Ears(taps=taps, recognizer=live) if taps is not None and live is not None else None)
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    lag: list[float] = []
    async with asyncio.TaskGroup() as group:
        group.create_task(serve(service, "127.0.0.1", AGI_PORT, stop=stop, ready=ready))
        group.create_task(loop_lag(lag, stop))
        await ready
        try:
            await asyncio.gather(*(_call_at(harness, a, index * stagger_s / calls)
                                   for index, a in enumerate(attempt_ids)))
            await asyncio.wait_for(sink.done.wait(), timeout=240)
        except TimeoutError:
            pass
        finally:
            stop.set()
    if taps is not None:
        await taps.close()
    await calls_ended(harness)
    wire = wire_stats(harness, attempt_ids)
    samples = timer.samples
    synthesised = [s for s, syn in zip(samples, timer.synthesised) if syn]
    cached = [s for s, syn in zip(samples, timer.synthesised) if not syn]
    speech = [s for s, kind in zip(samples, timer.kinds) if kind == "speech"]
    speech_end = [s + w for s, w, kind in zip(samples, timer.end_waits, timer.kinds) if kind == "speech"]
    keys = [s for s, kind in zip(samples, timer.kinds) if kind == "keys"]
    promises = sum(1 for r in sink.records if r.promise is not None and r.promise.amount == Decimal("200.00"))
    # A test caller who waits in vain for the reply presses 1 ("pay now") instead: the promise is
    # then recorded from keys, not from what it said. Count the spoken ones apart.
    spoken = sum(1 for r in sink.records if r.promise is not None and r.promise.amount == Decimal("200.00")
                 and any(t.speaker == "caller" and "two hundred" in t.text for t in r.transcript))

    return {"calls": calls, "regime": regime, "stagger_s": stagger_s, "finished": len(sink.records),
            "promises_200": promises, "promises_200_heard": spoken,
            "wall_s": round(time.perf_counter() - started, 1), "all": stats(samples),
            "load_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            "synthesised_reply": stats(synthesised), "cached_reply": stats(cached),
            "after_speech": stats(speech), "after_keys": stats(keys), "speech_end_to_reply": stats(speech_end),
            "wire": wire,
            # Live answers: what ended the turn after the last voiced frame (stream mode only).
            "live_parts": {"answers": len(timer.heard_live),
                           "quick_end": sum(1 for h in timer.heard_live if h.quick_end),
                           "partial_wait": stats([h.partial_wait_s for h in timer.heard_live]),
                           "finish_wait": stats([h.finish_wait_s for h in timer.heard_live]),
                           "decoder_cpu": stats([h.cpu_s for h in timer.heard_live])},
            "loop_lag": {**stats(lag), "max_ms": round(max(lag) * 1000, 1) if lag else None},
            "mean_ms": round(statistics.fmean(samples) * 1000, 1) if samples else None,
            "samples_ms": [round(s * 1000, 1) for s in samples]}


def render(result: dict[str, object]) -> str:
    rows = result["rows"]
    cal = result.get("calibration") or {}
    label = f" — {result['label']}" if result.get("label") else ""
    counts = " ".join(str(n) for n in sorted({r["calls"] for r in rows}))
    lines = [f"# Bot turn latency on the real Asterisk{label}", "",
             f"`python -m benchmarks.bot_latency --calls {counts} --listen {result.get('listen', 'record')}`"
             + (f" `--label \"{result['label']}\"`" if result.get("label") else "") + " — FastAGI bot, "
             + ("speech heard live (audio tap, streaming pocketsphinx decoders in worker processes, the bot's own "
                "end of speech: 0.2 s of silence after a complete answer, 0.6 s otherwise)"
                if result.get("listen") == "stream" else "speech heard by RECORD FILE (1 s silence detection)")
             + ", pocketsphinx (grammar per step) in pre-warmed worker processes (one per core), espeak-ng "
             "prompts (the call's debtor-specific ones synthesised at its start), Asterisk 22 in the harness, "
             "Local-channel callees; 2 cores shared with other work.", "",
             "In the bot: turn = caller's turn handed back by Asterisk (RECORD FILE / WAIT FOR DIGIT returned) → "
             "first STREAM FILE of the reply sent. **End of speech → reply** adds RECORD FILE's end-of-speech wait "
             "(silence detection in whole seconds, s=1), which the caller waits through too. Load = the box's "
             "1-minute load average before / after the run (2 cores, shared: above 2, turns wait for a core).", "",
             "**On the wire** (what the caller experiences; the figures to compare with the 300 ms target): the "
             "callee's leg recorded by MixMonitor, both directions on one clock; end of the callee's speech "
             "(energy below -45 dBFS for 0.5 s) or of its last key → first audio of the bot's reply "
             "(benchmarks/wire_latency.py). Unanswered = caller turns with no reply before the caller's next turn. "
             f"Calibration call (far end answers a key at once with a tone, then echoes speech; true delays ~0): "
             f"key → tone {cal.get('key_to_tone_ms')} ms, echo lag {cal.get('echo_lag_ms')} ms — MixMonitor pairs "
             "the two directions frame by frame, so wire figures are good to one 20 ms frame and may read up to "
             "20 ms long.", "",
             "| concurrent calls | prompts | finished | promise 200 recorded (of which heard from speech) | turns | p50 ms | p95 ms | "
             "p50 / p95 ms after keys (n) | p50 / p95 ms after speech (n) | end of speech → reply p50 / p95 ms | "
             "**on the wire: end of speech → reply p50 / p95 ms (n)** | **on the wire: end of keys → reply "
             "p50 / p95 ms (n)** | unanswered | "
             "p95 ms reply synthesised on the turn (n) | p95 ms reply cached (n) | load |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        a, s, c = row["all"], row["synthesised_reply"], row["cached_reply"]
        k, v, e = row["after_keys"], row["after_speech"], row["speech_end_to_reply"]
        ws, wk = row["wire"]["speech"], row["wire"]["keys"]
        regime = row["regime"] + ("" if row["calls"] == 1 else f", started over {row['stagger_s']:g} s"
                                   if row.get("stagger_s") else ", started together")
        heard = row.get("promises_200_heard")
        promised = f"{row['promises_200']}" + (f" ({heard} heard)" if heard is not None else "")
        lines.append(f"| {row['calls']} | {regime} | {row['finished']} | {promised} | {a['turns']} | "
                     f"{a['p50_ms']} | {a['p95_ms']} | {k['p50_ms']} / {k['p95_ms']} ({k['turns']}) | "
                     f"{v['p50_ms']} / {v['p95_ms']} ({v['turns']}) | {e['p50_ms']} / {e['p95_ms']} | "
                     f"**{ws['p50_ms']} / {ws['p95_ms']}** ({ws['turns']}) | **{wk['p50_ms']} / {wk['p95_ms']}** "
                     f"({wk['turns']}) | {row['wire']['unanswered']} | "
                     f"{s['p95_ms']} ({s['turns']}) | {c['p95_ms']} ({c['turns']}) | "
                     f"{' / '.join(str(x) for x in row.get('load_1min', []))} |")
    parted = [row for row in rows if row.get("live_parts", {}).get("answers")]
    if parted:
        lines += ["", "Where a live answer's end went after the last voiced frame (besides the 0.2 s quick end "
                  "or 0.6 s end of speech): waiting for the decoder's text so far at the pauses, and for its "
                  "final text; the bot's event loop lateness on a 10 ms timer (every call shares that thread).", "",
                  "| concurrent calls | prompts | answers | ended by the quick end | partial text wait p50 / p95 ms | "
                  "final text wait p50 / p95 ms | decoder CPU per answer p50 ms | event loop late p95 / max ms |",
                  "|---:|---|---:|---:|---:|---:|---:|---:|"]
        for row in parted:
            parts, lag = row["live_parts"], row.get("loop_lag") or {}
            lines.append(f"| {row['calls']} | {row['regime']} | {parts['answers']} | {parts['quick_end']} | "
                         f"{parts['partial_wait']['p50_ms']} / {parts['partial_wait']['p95_ms']} | "
                         f"{parts['finish_wait']['p50_ms']} / {parts['finish_wait']['p95_ms']} | "
                         f"{parts['decoder_cpu']['p50_ms']} | {lag.get('p95_ms')} / {lag.get('max_ms')} |")
    return "\n".join(lines) + "\n"


async def main_async(call_counts: list[int], label: str, listen: str = "stream",
                     stagger_s: float = 0.0) -> dict[str, object]:
    harness = BotHarness.start()
    result: dict[str, object] = {"label": label, "listen": listen, "calibration": None, "rows": []}
    rows: list[dict[str, object]] = result["rows"]
    asr = RecognizerPool().start()     # as `dialer agi-server` does at start-up
    live = StreamingRecognizer().start() if listen == "stream" else None
    preparer = PromptPreparer()
    try:
        harness.install()
        result["calibration"] = await calibrate(harness)
        stamp = int(time.time())
        for calls in call_counts:
            dynamic_dir = harness.audio_host_dir / f"bench-{stamp}-{calls}"
            rows.append(await run(harness, calls, "dynamic", dynamic_dir, asr, preparer, live, stagger_s))
            # Same texts again (same names/amounts are regenerated identically only in the cached
            # regime, which uses the base context for every call): warm the cache with one call first.
            cached_dir = harness.audio_host_dir / f"bench-{stamp}-cached"
            if calls == call_counts[0]:
                await run(harness, 1, "cached", cached_dir, asr, preparer, live)
            rows.append(await run(harness, calls, "cached", cached_dir, asr, preparer, live, stagger_s))
            print(render(result), flush=True)
    finally:
        preparer.close()
        asr.close()
        if live is not None:
            live.close()
        harness.stop()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bot turn latency on the real Asterisk")
    parser.add_argument("--calls", type=int, nargs="+", default=[1, 20, 50])
    parser.add_argument("--label", default="", help="what was measured, e.g. the bot's listening mode "
                        "('RECORD FILE mode'); also saves the results under a name made from it")
    parser.add_argument("--listen", choices=["stream", "record"], default="stream",
                        help="how the bot hears speech: live audio tap (default, as dialer agi-server) or RECORD FILE")
    parser.add_argument("--stagger", type=float, default=0.0, metavar="S",
                        help="start the calls spread over S seconds instead of all at once (0: all at once, "
                        "so every caller answers the payment question at the same moment: the worst case)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = asyncio.run(main_async(args.calls, args.label, args.listen, args.stagger))
    save("bot_latency", args.label, result, render(result))
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
