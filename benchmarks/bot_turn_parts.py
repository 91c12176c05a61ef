"""Where a spoken bot turn's time goes, part by part, on this machine.

    python -m benchmarks.bot_turn_parts [--repeat 5]

Each part of "end of caller speech → first reply audio" measured on its own, as wall and CPU time
(median of --repeat runs), with the load average, since the box is shared: reading and resampling
the recording (the old sox child vs in-process), pocketsphinx decoding per step grammar, the
recogniser pool's hand-off to a worker process, espeak-ng + sox synthesis of a debtor-specific
prompt, and the optional faster-whisper Mandarin decode. RECORD FILE's end-of-speech wait is not
measured here: it is its setting (s=1: 1000 ms; Asterisk accepts whole seconds only).
Results: benchmarks/results/bot_turn_parts.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from dialer.bot.asr import PocketsphinxEngine, read_pcm16k
from dialer.bot.asr_pool import RecognizerPool
from dialer.bot.script import load_script, shipped_script_path
from dialer.bot.script_walk import example_context
from dialer.bot.tts import DEFAULT_VOICES, EspeakEngine, PromptCache, Voice

RESULTS = Path(__file__).parent / "results"
CALLER = Voice("caller", "en-us", 160, 50)
# What callers say at each step (the e2e callees' sentences among them).
UTTERANCES = {
    "identity": ["yes speaking", "sorry, you have the wrong number"],
    "digits": ["nineteen eighty five"],
    "confirm": ["yes"],
    "payment": ["I will pay two hundred dollars next Friday", "stop calling me", "I already paid"],
}


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall ms and median CPU ms (this process and its children) of `repeat` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), _cpu()
        action()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((_cpu() - cpu) * 1000)
    return round(statistics.median(walls), 1), round(statistics.median(cpus), 1)


def sox_convert(wav: Path) -> bytes:
    """The conversion the ASR did before: a sox child per turn."""
    return subprocess.run(["sox", "-R", str(wav), "-t", "raw", "-r", "16000", "-c", "1", "-b", "16", "-e",
                           "signed-integer", "-", "pad", "0.3", "0.5"], check=True, capture_output=True).stdout


def run(repeat: int) -> list[tuple[str, str, float, float]]:
    rows: list[tuple[str, str, float, float]] = []
    work = Path(tempfile.mkdtemp(prefix="bot-parts-"))
    speech = PromptCache(EspeakEngine(), work / "caller")
    sample = speech.path_for(UTTERANCES["payment"][0], CALLER)
    rows.append(("recording → 16 kHz samples", "sox child (before)", *measure(lambda: sox_convert(sample), repeat)))
    rows.append(("recording → 16 kHz samples", "in-process (now)", *measure(lambda: read_pcm16k(sample), repeat)))
    engine = PocketsphinxEngine()
    engine.warm()
    for grammar, texts in UTTERANCES.items():
        for text in texts:
            wav = speech.path_for(text, CALLER)
            rows.append(("pocketsphinx decode", f"{grammar}: \"{text}\"",
                         *measure(lambda: engine.transcribe(wav, grammar, "en-US"), repeat)))
    with RecognizerPool(workers=1) as pool:
        short = speech.path_for("yes", CALLER)
        direct = measure(lambda: engine.transcribe(short, "confirm", "en-US"), repeat)
        pooled = measure(lambda: pool.transcribe(short, "confirm", "en-US"), repeat)
        rows.append(("pool hand-off", "confirm: \"yes\" via a worker process minus in-process (wall)",
                     round(pooled[0] - direct[0], 1), pooled[1]))
    script = load_script(shipped_script_path("collection", "en-US"))
    context = example_context("en-US")
    values = context.spoken_variables()
    prompt = script.prompts["willingness"].format(**{k: values.get(k, "") for k in script.prompt_variables("willingness")})
    voice = DEFAULT_VOICES["en-US"][0]
    counter = iter(range(10_000))
    rows.append(("TTS espeak-ng + sox", f"willingness prompt ({len(prompt)} chars, name + 2 amounts), new text each run",
                 *measure(lambda: PromptCache(EspeakEngine(), work / "tts").path_for(f"{prompt} {next(counter)}", voice),
                          repeat)))
    cache = PromptCache(EspeakEngine(), work / "tts-cached")
    cache.path_for(prompt, voice)
    rows.append(("TTS from cache", "same prompt, cached", *measure(lambda: cache.path_for(prompt, voice), repeat)))
    try:
        from dialer.bot.asr_whisper import WhisperEngine
        whisper = WhisperEngine(work / "whisper-model")
    except Exception as exc:   # optional engine: say why it is not measured
        rows.append(("faster-whisper zh decode", f"not measured: {exc}", 0.0, 0.0))
    else:
        zh = PromptCache(EspeakEngine(), work / "zh").path_for("我下周五还两百元", DEFAULT_VOICES["zh-CN"][1])
        rows.append(("faster-whisper zh decode", "payment: \"我下周五还两百元\"",
                     *measure(lambda: whisper.transcribe(zh, "payment", "zh-CN"), repeat)))
    return rows


def render(rows: list[tuple[str, str, float, float]], repeat: int, load: tuple[float, float]) -> str:
    lines = ["# Where a spoken bot turn's time goes", "",
             f"`python -m benchmarks.bot_turn_parts --repeat {repeat}` — medians of {repeat} runs; CPU includes child "
             f"processes. Load average (1 min) {load[0]:.1f} before and {load[1]:.1f} after, on {os.cpu_count()} "
             "cores shared with other work: wall times above CPU times are waiting for a core.", "",
             "RECORD FILE's end-of-speech wait is its setting, not measured here: s=1, 1000 ms (whole seconds only).",
             "", "| part | what | wall ms | CPU ms |", "|---|---|---:|---:|"]
    lines += [f"| {part} | {what} | {wall} | {cpu} |" for part, what, wall, cpu in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="where a spoken bot turn's time goes")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    before = os.getloadavg()[0]
    rows = run(args.repeat)
    text = render(rows, args.repeat, (before, os.getloadavg()[0]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bot_turn_parts.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
