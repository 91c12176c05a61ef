"""Voice barge-in on the wire: how soon a prompt the caller talks over stops, and what follows.

    python -m benchmarks.barge_in [--calls 10] [--gap 5]

Each call is the "barge" debtor of benchmarks/bot_calls.py against the FastAGI bot hearing speech
live (stream mode, as `dialer agi-server` runs it): it identifies itself with keys, then starts its
promise ("I will pay two hundred dollars tomorrow") 1 s into the stage prompt, and confirms with a
key. The calls start `--gap` seconds apart, so their barge-ins do not all come at the same moment.

Measured per call, from the MixMonitor recording of the callee's leg (both directions, one clock):
  (a) stop delay: onset of the callee's speech that begins while the bot's prompt plays (-said.wav)
      → last audio of that prompt (-heard.wav). The bot stops it after `bot.barge_in_seconds` of
      speech (0.4 s), so expect 0.4 s + the tap's and Asterisk's share;
  (b) from the call record: the transcript notes "[stopped: the caller spoke over this prompt]",
      and the promise of 200 (due tomorrow) was recorded, i.e. the answer was heard whole;
  (c) the reply to that answer: end of the callee's speech → first audio of the bot's reply
      (benchmarks/wire_latency.wire_turns, as benchmarks/bot_latency.py measures every turn).

The analysis (`talk_overs`, `measure_call`) is pure code on sample arrays; tests/bench/
test_barge_in_analysis.py checks it on synthetic calls. Results: benchmarks/results/barge_in.md
(+ .json); with --label, also a copy named after it (runs with other gaps kept side by side).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bot_calls import AGI_PORT, INSTANCE, KEY_GAP_MS, BotHarness
from benchmarks.bot_latency import CountingSink, _ids, calibrate, calls_ended, percentile
from benchmarks.results_files import save
from benchmarks.wire_latency import RATE, SPEECH_DBFS, active_segments, read_wav, wire_turns
from dialer.bot.agi_dialog import AudioPaths
from dialer.bot.asr_pool import RecognizerPool
from dialer.bot.asr_stream import StreamingRecognizer
from dialer.bot.audio_tap import TapServer
from dialer.bot.demo_store import InMemoryCallContexts
from dialer.bot.fastagi import BotService, ScriptLibrary, serve
from dialer.bot.prompt_prep import PromptPreparer
from dialer.bot.record import CallRecord
from dialer.bot.script_walk import example_context
from dialer.bot.stream_listen import Ears
from dialer.bot.tts import EspeakEngine, PromptCache

STOPPED_MARK = "[stopped: the caller spoke over"   # the transcript's note (dialer/bot/agi_dialog.py)
PROMISED = Decimal("200.00")


@dataclass(frozen=True)
class TalkOver:
    """The callee started speaking while the bot's prompt played (times on the recording's clock)."""
    prompt_start_s: float     # first audio of the prompt that was playing
    speech_start_s: float     # onset of the callee's speech
    speech_end_s: float       # end of that speech (silence for the turn's min_silence_s)
    prompt_end_s: float       # last audio of the prompt: where it stopped, or its natural end

    @property
    def stop_delay_s(self) -> float:
        return self.prompt_end_s - self.speech_start_s


def talk_overs(heard: np.ndarray, said: np.ndarray, *, min_silence_s: float = 0.5, prompt_pause_s: float = 1.0,
               threshold_dbfs: float = SPEECH_DBFS, rate: int = RATE) -> list[TalkOver]:
    """Every utterance of the callee that began while the bot was speaking, and how long the bot
    went on after it began.

    The bot's audio with pauses shorter than `prompt_pause_s` is one prompt (sentences in an
    espeak prompt are ~0.3-0.5 s apart; the bot's own turn gaps are longer, as the callee waits for
    1.5 s of silence). A prompt's audio counts up to the end of the callee's utterance only: the
    reply to it starts after that, and is not the prompt going on. A prompt not stopped at all
    therefore shows as a stop delay as long as the rest of the prompt (or the utterance)."""
    if len(heard) != len(said):
        raise ValueError(f"the two directions differ in length ({len(heard)} vs {len(said)} samples): "
                         "not one MixMonitor recording")
    speech = active_segments(said, threshold_dbfs=threshold_dbfs, min_silence_s=min_silence_s, rate=rate)
    bot = active_segments(heard, threshold_dbfs=threshold_dbfs, min_silence_s=0.3, rate=rate)
    overs = []
    for utterance in speech:
        before = [i for i, segment in enumerate(bot) if segment.start_s < utterance.start_s]
        if not before:
            continue
        last = before[-1]
        if bot[last].end_s + prompt_pause_s < utterance.start_s:
            continue                      # the bot had finished well before: an ordinary turn
        first = last
        while first > 0 and bot[first].start_s - bot[first - 1].end_s < prompt_pause_s:
            first -= 1
        end = bot[last].end_s
        for segment in bot[last + 1:]:
            if segment.start_s >= utterance.end_s or segment.start_s - end >= prompt_pause_s:
                break
            end = segment.end_s
        if end <= utterance.start_s:
            continue                      # the callee spoke in a pause after the prompt's last word
        overs.append(TalkOver(round(float(bot[first].start_s), 4), round(float(utterance.start_s), 4),
                              round(float(utterance.end_s), 4), round(float(end), 4)))
    return overs


@dataclass(frozen=True)
class WireBarge:
    """One call's barge-in as the callee's leg recorded it."""
    over: TalkOver | None             # None: the callee never spoke over a prompt (the run is wrong)
    reply_latency_s: float | None     # end of that speech → first audio of the bot's reply; None: none


def measure_call(heard: np.ndarray, said: np.ndarray, *, key_tail_s: float) -> WireBarge:
    """The first talk-over of the call and the latency of the bot's reply to that speech."""
    overs = talk_overs(heard, said)
    if not overs:
        return WireBarge(None, None)
    over = overs[0]
    turns = wire_turns(heard, said, key_tail_s=key_tail_s)
    # Both analyses split the callee's speech with the same detector and 0.5 s of silence, so the
    # turn that ends the talked-over utterance ends at the same window.
    turn = next((t for t in turns if t.kind == "speech" and abs(t.caller_done_s - over.speech_end_s) < 0.01), None)
    return WireBarge(over, None if turn is None else turn.latency_s)


def summary(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    return {"n": len(values), "p50_ms": round(percentile(values, 0.5) * 1000, 1),
            "p95_ms": round(percentile(values, 0.95) * 1000, 1), "max_ms": round(max(values) * 1000, 1)}


def call_row(attempt_id: str, wire: WireBarge, record: CallRecord | None) -> dict[str, Any]:
    bot_turns = [t.text for t in record.transcript if t.speaker == "bot"] if record else []
    promise = record.promise if record else None
    over = wire.over
    return {
        "attempt_id": attempt_id,
        "finished": record is not None,
        "prompt_stopped_marker": sum(1 for text in bot_turns if text.startswith(STOPPED_MARK)),
        # The transcript notes the stop right after the prompt it stopped.
        "stopped_prompt": next((bot_turns[i - 1] for i, text in enumerate(bot_turns)
                                if text.startswith(STOPPED_MARK) and i > 0), None),
        "promise_200_tomorrow": bool(promise and promise.amount == PROMISED
                                     and promise.due == date.today() + timedelta(days=1)),
        "promise": None if promise is None else f"{promise.amount} due {promise.due}",
        "caller_heard": [t.text for t in record.transcript if t.speaker == "caller"] if record else [],
        "spoke_into_prompt_s": None if over is None else round(over.speech_start_s - over.prompt_start_s, 3),
        "stop_delay_ms": None if over is None else round(over.stop_delay_s * 1000, 1),
        "reply_latency_ms": None if wire.reply_latency_s is None else round(wire.reply_latency_s * 1000, 1),
    }


async def run(harness: BotHarness, calls: int, gap_s: float, cache_dir: Path, asr: RecognizerPool,
              live: StreamingRecognizer, preparer: PromptPreparer) -> list[dict[str, Any]]:
    contexts = InMemoryCallContexts()
    attempt_ids = [str(next(_ids)) for _ in range(calls)]
    for attempt_id in attempt_ids:
        # The e2e test's debtor: 200 due, 4 days past due (the stage prompt says "overdue").
        contexts.add(replace(example_context("en-US", date.today()), attempt_id=attempt_id, campaign_id="bench",
                             amount_due=PROMISED, dpd=4))
    sink = CountingSink(calls)
    taps = await TapServer().start()
    service = BotService(contexts=contexts, outcomes=sink, scripts=ScriptLibrary(),
                         prompts=PromptCache(EspeakEngine(), cache_dir), asr=asr,
                         paths=AudioPaths(harness.audio_host_dir, harness.audio_asterisk_dir),
                         preparer=preparer, ears=Ears(taps=taps, recognizer=live))
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def call_at(attempt_id: str, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        await asyncio.to_thread(harness.call, "barge", attempt_id, wire=True)

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(serve(service, "127.0.0.1", AGI_PORT, stop=stop, ready=ready))
            await ready
            try:
                await asyncio.gather(*(call_at(a, i * gap_s) for i, a in enumerate(attempt_ids)))
                await asyncio.wait_for(sink.done.wait(), timeout=240)
            except TimeoutError:
                pass       # the rows show which calls did not finish
            finally:
                stop.set()
    finally:
        await taps.close()
    await calls_ended(harness)
    records = {r.attempt_id: r for r in sink.records}
    rows = []
    for attempt_id in attempt_ids:
        heard, said = (read_wav(path) for path in harness.wire_files(attempt_id))
        rows.append(call_row(attempt_id, measure_call(heard, said, key_tail_s=KEY_GAP_MS / 1000),
                             records.get(attempt_id)))
    return rows


def result_of(rows: list[dict[str, Any]], gap_s: float, calibration: dict[str, Any]) -> dict[str, Any]:
    stops = [r["stop_delay_ms"] / 1000 for r in rows if r["stop_delay_ms"] is not None]
    replies = [r["reply_latency_ms"] / 1000 for r in rows if r["reply_latency_ms"] is not None]
    return {"calls": len(rows), "gap_s": gap_s, "calibration": calibration,
            "finished": sum(1 for r in rows if r["finished"]),
            "talked_over_on_the_wire": len(stops),
            "prompt_stopped_marker": sum(1 for r in rows if r["prompt_stopped_marker"] == 1),
            "promise_200_tomorrow": sum(1 for r in rows if r["promise_200_tomorrow"]),
            "stop_delay": summary(stops), "reply_latency": summary(replies), "per_call": rows}


def render(result: dict[str, Any]) -> str:
    cal = result["calibration"]
    s, r = result["stop_delay"], result["reply_latency"]
    lines = [
        "# Voice barge-in on the wire", "",
        f"`DIALER_BOT_E2E_INSTANCE=bot-barge DIALER_BOT_E2E_PORT_OFFSET=300 nice -n 10 .venv/bin/python -m "
        f"benchmarks.barge_in --calls {result['calls']} --gap {result['gap_s']:g}"
        + (f" --label \"{result['label']}\"" if result.get("label") else "") + "` — FastAGI bot hearing speech "
        "live (audio tap, streaming pocketsphinx decoders in worker processes), `bot.barge_in_seconds` 0.4 s, "
        "espeak-ng prompts, Asterisk 22 in the harness, Local-channel callees; 2 cores shared with other work. "
        f"Calls started {result['gap_s']:g} s apart.", "",
        "Each callee (\"barge\" in benchmarks/bot_calls.py) answers its identity questions with keys, then starts "
        "\"I will pay two hundred dollars tomorrow\" while the stage prompt (the amount due and the question) "
        "plays, then confirms with a key. Its leg is recorded by MixMonitor, both directions on one "
        "clock (benchmarks/wire_latency.py). Calibration call (a far end that echoes the callee at once): "
        f"echo lag {cal.get('echo_lag_ms')} ms, i.e. the callee's speech and the bot's audio are on one clock "
        "to one 20 ms frame; both figures here compare the callee's speech with the bot's audio (no keys; "
        f"the calibration's key → tone: {cal.get('key_to_tone_ms')} ms).", "",
        "- **Stop delay**: onset of the callee's speech that begins while the prompt plays → last audio of "
        "that prompt (the bot stops it after 0.4 s of speech: expect 0.4 s + the tap's and Asterisk's share). "
        "Onset and end are where 5 ms windows cross -45 dBFS.",
        "- **Stopped / promise**: the call record's transcript notes \"[stopped: the caller spoke over this "
        "prompt]\" once; the promise of 200 due tomorrow was recorded (the answer begun over the prompt was "
        "heard whole).",
        "- **Reply latency**: end of that speech (-45 dBFS for 0.5 s) → first audio of the bot's reply, "
        "as benchmarks/bot_latency.py measures every turn on the wire.", "",
        "| calls | finished | talked over on the wire | prompt stopped (marker) | promise 200 tomorrow | "
        "**stop delay p50 / p95 / max ms** (n) | **reply latency p50 / p95 / max ms** (n) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {result['calls']} | {result['finished']} | {result['talked_over_on_the_wire']} | "
        f"{result['prompt_stopped_marker']} | {result['promise_200_tomorrow']} | "
        f"**{s['p50_ms']} / {s['p95_ms']} / {s['max_ms']}** ({s['n']}) | "
        f"**{r['p50_ms']} / {r['p95_ms']} / {r['max_ms']}** ({r['n']}) |", "",
        "Per call (spoke into prompt = how far the stage prompt had played when the callee began; it "
        "opens with \"Thank you, <name>.\" and the callee waits for the bot's audio (WaitForNoise), then 1 s, "
        "then plays its answer):", "",
        "| attempt | spoke into prompt s | stop delay ms | stopped marker | promise | reply latency ms | "
        "caller heard |",
        "|---|---:|---:|---:|---|---:|---|"]
    for row in result["per_call"]:
        heard = "; ".join(row["caller_heard"]) or "—"
        lines.append(f"| {row['attempt_id']} | {row['spoke_into_prompt_s']} | {row['stop_delay_ms']} | "
                     f"{row['prompt_stopped_marker']} | {row['promise'] or '—'} | {row['reply_latency_ms']} | "
                     f"{heard} |")
    return "\n".join(lines) + "\n"


async def main_async(calls: int, gap_s: float) -> dict[str, Any]:
    harness = BotHarness.start()
    asr = RecognizerPool().start()          # as `dialer agi-server` does at start-up
    live = StreamingRecognizer().start()
    preparer = PromptPreparer()
    try:
        harness.install()
        calibration = await calibrate(harness)
        cache_dir = harness.audio_host_dir / f"barge-{int(time.time())}"
        rows = await run(harness, calls, gap_s, cache_dir, asr, live, preparer)
    finally:
        preparer.close()
        asr.close()
        live.close()
        harness.stop()
    return result_of(rows, gap_s, calibration)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="voice barge-in on the wire (the real Asterisk)")
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--gap", type=float, default=5.0, metavar="S",
                        help="seconds between the calls' starts (default 5: the barge-ins come one at a time)")
    parser.add_argument("--label", default="", help="also save the results under a name made from it "
                        "(e.g. --gap 2 --label 'gap 2 s' -> barge_in.gap-2-s.md); barge_in.md is always written")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.gap < 0:
        parser.error("--calls must be at least 1 and --gap not negative")
    result = asyncio.run(main_async(args.calls, args.gap))
    result["instance"], result["label"] = INSTANCE, args.label
    save("barge_in", args.label, result, render(result))
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
