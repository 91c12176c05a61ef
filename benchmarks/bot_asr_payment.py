"""The payment question's recognition: accuracy and CPU, before and after the restructuring.

    python -m benchmarks.bot_asr_payment

72 espeak-ng utterances (36 answers to the payment question, a male and a female voice, through
8 kHz like a call) decoded with the payment step's grammar, each hypothesis run through the intent
rules and compared with the rules' reading of the sentence itself: right = same intent, amount,
promised date and callback time. "before" is the grammar of commit BEFORE_COMMIT (an amount and date
tail per intent) decoded with the lattice best-path pass, as `PocketsphinxEngine` did then; "now" is
`PocketsphinxEngine` as it is (forward path only, hesitations "uh"/"um" dropped from the text);
"live" is the FastAGI bot's default listening (dialer/bot/asr_stream.py): the same grammar, the
answer streamed frame by frame into a warmed decoder from the endpointer's onset, as on a call
(its CPU is spread over the time the caller speaks; only the last frames are left at the end). CPU is per utterance, this process only, decoders warmed first.
Results: benchmarks/results/bot_asr_payment.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dialer.bot.asr import PocketsphinxEngine
from dialer.bot.nlu import recognise
from dialer.bot.tts import EspeakEngine, PromptCache, Voice

RESULTS = Path(__file__).parent / "results"
BEFORE_COMMIT = "9a26145"   # last commit with the per-intent payment grammar and best-path decoding
VOICES = [Voice("caller", "en-us", 160, 50), Voice("caller-f", "en-us+f3", 150, 50)]
TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("America/New_York"))
ANSWERS = [
    "I will pay two hundred dollars next Friday", "stop calling me", "I already paid",
    "I will pay fifty dollars tomorrow", "I can pay three hundred dollars on Monday",
    "I can only pay one hundred dollars", "I can pay half", "I will pay the full amount today",
    "I will pay at the end of the month", "next week", "tomorrow", "I can not afford it",
    "I lost my job", "that is not my debt", "I will not pay", "I want to speak to a real person",
    "I am paying right now", "I will pay five hundred dollars on the fifteenth", "wrong number",
    "I am busy, call me back in two hours", "call me back at four thirty p m", "yes", "no",
    "I will pay one thousand two hundred dollars next month",
    "I can pay seventy five dollars today and the rest later", "I will transfer it on Wednesday",
    "I will try to pay next week", "I already paid last week", "I will pay in three days",
    "I am in the hospital", "I never borrowed any money", "I can pay the minimum on Friday",
    "I will pay two hundred and fifty dollars this weekend", "he is not here", "remove my number",
    "I will pay when I get paid",
]


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def meaning(text: str) -> tuple[object, ...]:
    """What the dialog acts on: intent, amount, promised date, callback time."""
    result = recognise(text, "en-US", TODAY, now=NOW)
    return result.intent.value, result.amount, result.promised_date, result.callback_at


class BeforeEngine(PocketsphinxEngine):
    """The previous payment decoding: the grammar text of BEFORE_COMMIT, lattice best path on."""

    def __init__(self, grammar_text: str) -> None:
        super().__init__()
        self.grammar_text = grammar_text

    def _decoder(self, grammar: str) -> object:
        from pocketsphinx import Decoder
        with tempfile.NamedTemporaryFile("w", suffix=".gram", delete=False) as handle:
            handle.write(self.grammar_text)
        try:
            return Decoder(jsgf=handle.name, samprate=16000, logfn="/dev/null", maxhmmpf=2000)
        finally:
            Path(handle.name).unlink(missing_ok=True)

    def transcribe(self, wav_path: Path, grammar: str, language: str) -> str:
        """As before: the hypothesis as it comes, hesitations ("uh", "um") included."""
        decoder = self._decoder(grammar)
        try:
            decoder.start_utt()  # type: ignore[attr-defined]
            decoder.process_raw(self.pcm16k(wav_path), full_utt=True)  # type: ignore[attr-defined]
            decoder.end_utt()  # type: ignore[attr-defined]
            hyp = decoder.hyp()  # type: ignore[attr-defined]
            return hyp.hypstr if hyp is not None else ""
        finally:
            self._release(grammar, decoder)


class LiveEngine(PocketsphinxEngine):
    """Live listening as the FastAGI bot does it (dialer/bot/asr_stream.py), in this process: the
    wav's 20 ms frames through the endpointer, from the onset on fed to a warmed streaming decoder,
    then finished. No leading silence is given beyond what the endpointer keeps, as on a call."""

    def __init__(self) -> None:
        super().__init__()
        from dialer.bot.asr_stream import _new_decoder, _resample_taps, warm_up_audio
        self._taps = _resample_taps()
        self._live = _new_decoder(warm_up_audio(), self._taps)

    def warm(self, grammars: list[str] | None = None) -> None:
        pass   # the live decoder carries every grammar and was warmed in __init__

    def transcribe(self, wav_path: Path, grammar: str, language: str) -> str:
        import wave
        from dialer.bot.asr_stream import _as_heard, _Stream
        with wave.open(str(wav_path)) as wav:
            pcm = wav.readframes(wav.getnframes())
        stream = _Stream(self._live, grammar, self._taps, seed=1)
        for frame in _as_heard(pcm):
            stream.feed(frame)
        return stream.finish()


def before_grammar() -> str:
    """The payment JSGF as BEFORE_COMMIT wrote it (needs the git history of the checkout)."""
    source = subprocess.run(["git", "show", f"{BEFORE_COMMIT}:dialer/bot/grammars.py"], check=True,
                            capture_output=True, text=True, cwd=Path(__file__).parent.parent).stdout
    namespace: dict[str, object] = {}
    exec(compile(source, f"{BEFORE_COMMIT}:dialer/bot/grammars.py", "exec"), namespace)
    return namespace["jsgf"]("payment")  # type: ignore[operator]


def score(engine: PocketsphinxEngine, speech: PromptCache) -> tuple[int, list[float], list[str]]:
    engine.warm(["payment"])
    right, cpus, misses = 0, [], []
    for voice in VOICES:
        for text in ANSWERS:
            wav = speech.path_for(text, voice)
            start = _cpu()
            heard = engine.transcribe(wav, "payment", "en-US")
            cpus.append((_cpu() - start) * 1000)
            if meaning(heard) == meaning(text):
                right += 1
            else:
                misses.append(f"{voice.name}: \"{text}\" → \"{heard}\"")
    return right, sorted(cpus), misses


def _pct(values: list[float], q: float) -> float:
    return round(values[min(len(values) - 1, int(q * len(values)))], 0)


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description="payment-question recognition: before, now, and live").parse_args(argv)
    speech = PromptCache(EspeakEngine(), Path(tempfile.mkdtemp(prefix="bot-asr-payment-")))
    load = [os.getloadavg()[0]]
    rows = []
    for name, engine in (("before", BeforeEngine(before_grammar())), ("now", PocketsphinxEngine()),
                         ("live", LiveEngine())):
        right, cpus, misses = score(engine, speech)
        rows.append((name, right, cpus, misses))
    load.append(os.getloadavg()[0])
    n = len(ANSWERS) * len(VOICES)
    lines = ["# The payment question: recognition accuracy and CPU", "",
             f"`python -m benchmarks.bot_asr_payment` — {n} espeak-ng utterances (male and female voice, 8 kHz), "
             "payment-step grammar; right = same intent, amount, date and callback time as the sentence itself. "
             f"Load average (1 min) {load[0]:.1f} before, {load[1]:.1f} after, on {os.cpu_count()} shared cores "
             "(CPU times grow a little with load).", "",
             "| decoding | right | CPU ms p50 | p95 | max |", "|---|---:|---:|---:|---:|"]
    labels = {"before": f"before: grammar of {BEFORE_COMMIT}, lattice best path",
              "now": "now, RECORD FILE: shared amount/time tail, forward path only, whole recording",
              "live": "now, live: the same grammar, streamed frame by frame from the onset (asr_stream.py)"}
    for name, right, cpus, _ in rows:
        lines.append(f"| {labels[name]} | {right}/{n} | {_pct(cpus, 0.5):.0f} | {_pct(cpus, 0.95):.0f} | {cpus[-1]:.0f} |")
    for name, _, _, misses in rows:
        lines += ["", f"Misses, {name}:", ""] + [f"- {miss}" for miss in misses]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bot_asr_payment.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
