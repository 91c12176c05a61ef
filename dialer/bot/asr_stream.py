"""Streaming recognition: pocketsphinx decoders fed while the caller speaks, in worker processes.

With RECORD FILE the decoder started only after the caller had finished and Asterisk had waited
its second of silence; the whole answer was then decoded on the turn (0.05-0.27 s of CPU, more
under load). Here each answer is decoded as it arrives (`Utterance.feed`), so when the bot decides
the caller has finished (dialer/bot/endpoint.py) only the last frames are left: `finish` costs a
few milliseconds.

Why processes, as for the batch pool (asr_pool.py): pocketsphinx holds the GIL while it searches.
Each worker owns decoders that carry every step's grammar as a named search (switching search is
cheap, loading a decoder is ~0.3 s of CPU and ~70 MB), a few loaded at start-up and more on demand,
one per answer being heard at that moment. Messages go through multiprocessing queues, whose
`put` never blocks the server's event loop (a feeder thread writes the pipe); one reader thread in
the server hands the workers' answers back to the loop.

Audio: 8 kHz 16-bit frames are upsampled to the model's 16 kHz with the same filter as the batch
path (scipy's resample_poly(2, 1): a Kaiser-windowed FIR), run as a stateful filter across frames,
and the 1 % white noise the batch path adds is added here too (asr.py explains why it helps).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import os
import queue
import threading
import time
from dataclasses import dataclass

import numpy as np

from dialer.bot.asr import HESITATIONS, NOISE_AMPLITUDE, AsrError
from dialer.bot.grammars import grammar_names, jsgf

log = logging.getLogger(__name__)

PRELOADED_DECODERS = 8        # per worker, kept spare between answers (loaded while the worker is idle)
SPARE_CHECK_S = 0.05          # an idle worker tops up its spare decoders after this long without a message
# How long the server waits for a worker. Requests queue behind the audio already sent, so an
# overloaded worker answers late: measured with 50 callers answering at the same moment on 2 busy
# cores, partial and finish requests waited over 10 s, and the answers were thrown away as not
# understood. A late answer beats a lost one, so `finish` waits long; a partial only decides
# whether a short pause may end the turn, so without one in time the turn takes the full end_s.
FINISH_TIMEOUT_S = 60.0
PARTIAL_TIMEOUT_S = 0.5
AUDIO_MESSAGE_BYTES = 3 * 320     # 60 ms of 8 kHz 16-bit audio per message to a worker
LEAD_SILENCE_S = 0.3          # fed before the first frame (see _Stream)
TAIL_SILENCE_S = 0.15         # fed after the last frame: the search needs silence to close the last word
# Two things make a live decoder hear an answer as the batch path does (measured on espeak-ng
# answers through 8 kHz, docs/bot.md):
# - The cepstral mean. The batch path normalises an answer by its own mean (full_utt=True); a live
#   decoder has only a prior and the means of earlier answers, and those swing with what was said
#   ("Sorry, you have the wrong number" was heard "hello ring him at one a m" after two other
#   sentences, right after a prior near its own mean). Each answer starts from this prior: the
#   mean of the batch path's per-answer means over 75 answers (benchmarks/bot_asr_payment.py's 72
#   and the three end-to-end callers' sentences).
# - A warm front end. A fresh decoder's first answer or two were garbage even with that prior ("I
#   will pay two hundred dollars next Friday" -> "five thirty a m"), then right; so every decoder
#   hears these two sentences, in a voice the test callers do not use, before its first caller.
CEPSTRAL_MEAN_PRIOR = "61.64,-0.69,-4.78,11.15,-7.98,-6.41,-1.68,-12.33,-0.94,-0.19,-2.81,4.00,-3.75"
WARM_UP = (("hello this is a test of the line", "en-us+m3"),
           ("one two three four five six seven eight nine ten", "en-us+m3"))


# ---- worker process side -------------------------------------------------------------------------

class _Upsampler:
    """8 → 16 kHz, stateful: zero-stuffing then resample_poly's own low-pass, via lfilter."""

    def __init__(self, taps: np.ndarray) -> None:
        from scipy.signal import lfilter, lfilter_zi
        self._lfilter = lfilter
        self._taps = taps
        self._state = lfilter_zi(taps, 1.0) * 0.0

    def __call__(self, pcm8k: bytes) -> np.ndarray:
        samples = np.frombuffer(pcm8k, dtype="<i2").astype(np.float64)
        stuffed = np.zeros(samples.size * 2)
        stuffed[::2] = samples
        out, self._state = self._lfilter(self._taps, 1.0, stuffed, zi=self._state)
        return out


def _resample_taps() -> np.ndarray:
    # resample_poly(x, 2, 1) designs firwin(2 * 10 * 2 + 1, 1/2, window=('kaiser', 5.0)) and
    # multiplies by the up factor; the same filter keeps streaming and batch decodes alike.
    from scipy.signal import firwin
    return firwin(41, 0.5, window=("kaiser", 5.0)) * 2


class _Stream:
    def __init__(self, decoder: object, grammar: str, taps: np.ndarray, seed: int) -> None:
        self.decoder = decoder
        self.upsample = _Upsampler(taps)
        self.noise = np.random.default_rng(seed)
        decoder.set_cmn(CEPSTRAL_MEAN_PRIOR)  # type: ignore[attr-defined]
        decoder.activate_search(grammar)  # type: ignore[attr-defined]
        decoder.start_utt()  # type: ignore[attr-defined]
        self.cpu = 0.0
        # Silence first, as the batch path pads its recordings: the front end's noise estimate is
        # taken from an answer's first frames, and live audio may start in the middle of a word
        # (no frames arrive over a silent Local channel, so the pre-roll can be all speech). Without
        # it "Sorry, you have the wrong number" came out "hello leave me alone".
        self.feed(bytes(int(LEAD_SILENCE_S * 8000) * 2))

    def feed(self, pcm8k: bytes) -> None:
        started = time.process_time()
        samples = self.upsample(pcm8k)
        noise = self.noise.integers(-NOISE_AMPLITUDE, NOISE_AMPLITUDE + 1, samples.size)
        pcm = np.clip(np.rint(samples) + noise, -32768, 32767).astype("<i2").tobytes()
        self.decoder.process_raw(pcm, no_search=False, full_utt=False)  # type: ignore[attr-defined]
        self.cpu += time.process_time() - started

    def text(self) -> str:
        hyp = self.decoder.hyp()  # type: ignore[attr-defined]
        words = hyp.hypstr.split() if hyp is not None else []
        return " ".join(word for word in words if word not in HESITATIONS)

    def finish(self) -> str:
        self.feed(bytes(int(TAIL_SILENCE_S * 8000) * 2))
        started = time.process_time()
        self.decoder.end_utt()  # type: ignore[attr-defined]
        self.cpu += time.process_time() - started
        return self.text()


def warm_up_audio() -> list[bytes]:
    """The warm-up sentences as 8 kHz PCM (espeak-ng, which the bot needs for its prompts anyway);
    none if it is missing: the decoders then start cold, which costs accuracy, not correctness."""
    import tempfile
    import wave
    from pathlib import Path

    from dialer.bot.tts import EspeakEngine, TtsError, Voice
    audio = []
    with tempfile.TemporaryDirectory(prefix="asr-warm-") as directory:
        for number, (text, espeak_voice) in enumerate(WARM_UP):
            path = Path(directory) / f"warm-{number}.wav"
            try:
                EspeakEngine().synthesize(text, Voice("warm-up", espeak_voice, 170, 50), path)
            except TtsError as exc:
                log.warning("streaming recogniser: no warm-up audio (%s); decoders start cold", exc)
                return []
            with wave.open(str(path)) as wav:
                audio.append(wav.readframes(wav.getnframes()))
    return audio


def _new_decoder(warm_up: list[bytes], taps: np.ndarray) -> object:
    from pocketsphinx import Decoder
    # The batch engine's settings (asr.py): maxhmmpf bounds the search per frame, bestpath=False
    # skips the lattice pass that cost 70-90 % of the payment step's CPU.
    decoder = Decoder(samprate=16000, logfn="/dev/null", maxhmmpf=2000, bestpath=False, lm=None)
    names = grammar_names()
    for name in names:
        decoder.add_jsgf_string(name, jsgf(name))
    for pcm in warm_up:
        stream = _Stream(decoder, names[0], taps, seed=0)
        for frame in _as_heard(pcm):
            stream.feed(frame)
        stream.finish()
    return decoder


def _as_heard(pcm: bytes) -> list[bytes]:
    """The frames of a recording that a live step would feed: from the onset's pre-roll to the end
    of the speech (the cepstral mean adapts to what it is fed, silence included)."""
    from dialer.bot.endpoint import EndpointConfig, Endpointer, FrameSplitter, Phase, pocketsphinx_vad
    endpointer = Endpointer(EndpointConfig(), pocketsphinx_vad())
    heard: list[bytes] = []
    for number, frame in enumerate(FrameSplitter().split(pcm)):
        heard.extend(endpointer.push(frame, number * 0.02))
        if endpointer.phase is Phase.SPEAKING and endpointer.should_end(number * 0.02, False):
            break
    return heard


def worker_main(requests: "multiprocessing.Queue[tuple]", results: "multiprocessing.Queue[tuple]",
                preload: int) -> None:
    """One worker process: decoders by utterance id, fed by messages (see StreamingRecognizer)."""
    taps = _resample_taps()
    warm_up = warm_up_audio()
    # One decoder before "ready" (the server starts fast); the idle loop below loads the others.
    free = [_new_decoder(warm_up, taps) for _ in range(min(1, preload))]
    peak = 0                                    # most answers this worker has heard at once
    grammars = grammar_names()
    active: dict[int, _Stream] = {}
    results.put(("ready", os.getpid(), None, 0.0))
    while True:
        # Loading a decoder takes ~0.6-0.9 s of CPU (model, grammars, warm-up): done on an answer's
        # onset it delays every answer queued behind it (20 callers answering at once waited
        # seconds). So an idle worker keeps decoders spare: `preload`, or as many as it has ever had
        # answers at once (the next burst is likely as big); loading on demand is left for a
        # burst bigger than any before.
        spare_target = max(preload, peak)
        try:
            op, uid, payload = requests.get(timeout=SPARE_CHECK_S if len(free) + len(active) < spare_target else None)
        except queue.Empty:
            free.append(_new_decoder(warm_up, taps))
            continue
        if op == "stop":
            return
        try:
            if op == "open":
                if payload not in grammars:     # checked before a decoder is taken, so none is lost
                    raise KeyError(f"no grammar named {payload!r} (known: {', '.join(grammars)})")
                active[uid] = _Stream(free.pop() if free else _new_decoder(warm_up, taps), payload, taps, uid)
                peak = max(peak, len(active))
            elif op == "audio":
                if uid in active:
                    active[uid].feed(payload)
            elif op in ("partial", "finish") and uid not in active:
                # The utterance failed earlier (its error was logged when it happened, before anyone
                # waited for it): answer "nothing heard" now, not after the server's 10 s timeout.
                results.put(("final" if op == "finish" else "partial", uid, "", 0.0))
            elif op == "partial":
                results.put(("partial", uid, active[uid].text(), active[uid].cpu))
            elif op in ("finish", "cancel"):
                stream = active.pop(uid, None)
                if stream is None:
                    continue
                if op == "finish":
                    text = stream.finish()
                    results.put(("final", uid, text, stream.cpu))
                else:
                    stream.decoder.end_utt()  # type: ignore[attr-defined]
                free.append(stream.decoder)
        except Exception as exc:   # one bad utterance must not kill the worker's other calls
            active.pop(uid, None)
            results.put(("error", uid, f"{type(exc).__name__}: {exc}", 0.0))


# ---- server side ---------------------------------------------------------------------------------

@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    requests: "multiprocessing.Queue[tuple]"
    active: int = 0


class Utterance:
    """One answer being decoded. `feed` from the event loop; `partial`/`finish` are awaited."""

    def __init__(self, recognizer: "StreamingRecognizer", worker: _Worker, uid: int) -> None:
        self._recognizer = recognizer
        self._worker = worker
        self.uid = uid
        self.cpu_s = 0.0
        self._closed = False
        self._unsent = bytearray()

    def feed(self, pcm8k: bytes) -> None:
        # Sent to the worker 60 ms at a time: a message per 20 ms frame cost as much in queue and
        # call overhead as a good part of the search, with 20-50 callers speaking at once.
        if not self._closed:
            self._unsent += pcm8k
            if len(self._unsent) >= AUDIO_MESSAGE_BYTES:
                self._flush()

    def _flush(self) -> None:
        if self._unsent:
            self._worker.requests.put(("audio", self.uid, bytes(self._unsent)))
            self._unsent.clear()

    async def partial(self) -> str:
        """What the decoder has heard so far (every frame fed before this call)."""
        self._flush()
        return await self._recognizer._ask(self, "partial", PARTIAL_TIMEOUT_S)

    async def finish(self) -> str:
        """The whole answer's text ("" when nothing was recognised)."""
        self._flush()
        try:
            return await self._recognizer._ask(self, "finish", FINISH_TIMEOUT_S)
        finally:
            self._close()

    def cancel(self) -> None:
        if not self._closed:
            self._unsent.clear()
            self._worker.requests.put(("cancel", self.uid, None))
            self._close()

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._worker.active -= 1


class StreamingRecognizer:
    """English streaming recognition over worker processes (one per core by default)."""

    def __init__(self, workers: int | None = None, preload: int = PRELOADED_DECODERS) -> None:
        from dialer.bot.asr_pool import default_workers
        self.workers_wanted = workers or default_workers()
        self.preload = preload
        self._context = multiprocessing.get_context("spawn")   # the server has threads: no fork
        self._results: "multiprocessing.Queue[tuple]" = self._context.Queue()
        self._workers: list[_Worker] = []
        self._ids = itertools.count(1)
        self._waiting: dict[tuple[int, str], tuple[asyncio.AbstractEventLoop, asyncio.Future]] = {}
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None

    def supports(self, language: str) -> bool:
        return language.lower().startswith("en")

    def start(self, timeout_s: float = 120.0) -> "StreamingRecognizer":
        for _ in range(self.workers_wanted):
            requests = self._context.Queue()
            process = self._context.Process(target=worker_main, args=(requests, self._results, self.preload),
                                            daemon=True, name="dialer-asr-stream")
            process.start()
            self._workers.append(_Worker(process, requests))
        deadline = time.monotonic() + timeout_s
        ready = 0
        while ready < len(self._workers):
            try:
                kind, *_ = self._results.get(timeout=0.5)
            except queue.Empty:
                dead = [w.process.exitcode for w in self._workers if not w.process.is_alive()]
                if dead or time.monotonic() > deadline:
                    self.close()
                    raise AsrError("streaming recogniser workers did not start "
                                   + (f"(exit codes {dead})" if dead else f"within {timeout_s:.0f} s")) from None
                continue
            if kind != "ready":   # pragma: no cover - workers send nothing before ready
                raise AsrError(f"streaming recogniser worker sent {kind!r} before ready")
            ready += 1
        self._reader = threading.Thread(target=self._read_results, name="asr-stream-results", daemon=True)
        self._reader.start()
        return self

    def open(self, grammar: str) -> Utterance:
        if not self._workers:
            raise AsrError("streaming recogniser not started")
        worker = min(self._workers, key=lambda w: w.active)
        worker.active += 1
        uid = next(self._ids)
        worker.requests.put(("open", uid, grammar))
        return Utterance(self, worker, uid)

    async def _ask(self, utterance: Utterance, op: str, timeout_s: float) -> str:
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        key = (utterance.uid, "final" if op == "finish" else op)
        with self._lock:
            self._waiting[key] = (loop, future)
        utterance._worker.requests.put((op, utterance.uid, None))
        try:
            text, cpu = await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            if op == "finish":
                log.error("streaming recogniser: no text for utterance %d in %.0f s", utterance.uid, timeout_s)
            else:
                log.info("streaming recogniser: no partial for utterance %d in %.1f s (worker behind)",
                         utterance.uid, timeout_s)
            return ""
        finally:
            with self._lock:
                self._waiting.pop(key, None)
        utterance.cpu_s = cpu
        return text

    def _read_results(self) -> None:
        while True:
            try:
                kind, uid, text, cpu = self._results.get()
            except (EOFError, OSError):
                return
            if kind == "stop":
                return
            if kind == "error":
                log.error("streaming recogniser: utterance %s failed in the worker: %s", uid, text)
                keys = [(uid, "final"), (uid, "partial")]
                text = ""
            else:
                keys = [(uid, kind)]
            for key in keys:
                with self._lock:
                    waiter = self._waiting.get(key)
                if waiter is not None:
                    loop, future = waiter
                    loop.call_soon_threadsafe(_resolve, future, (text, cpu))

    def close(self) -> None:
        for worker in self._workers:
            worker.requests.put(("stop", 0, None))
        for worker in self._workers:
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.kill()
        self._workers.clear()
        if self._reader is not None:
            self._results.put(("stop", 0, "", 0.0))
            self._reader.join(timeout=5)
            self._reader = None

    def __enter__(self) -> "StreamingRecognizer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _resolve(future: asyncio.Future, value: tuple[str, float]) -> None:
    if not future.done():
        future.set_result(value)


# ---- one call in its own process (classic AGI) ---------------------------------------------------

class InProcessRecognizer:
    """Live decoding in the caller's own process, for the classic AGI script (a process per call,
    one answer at a time): the same decoder and front end as the workers, fed synchronously. A
    20 ms frame costs a few milliseconds of search while the process has nothing else to do."""

    def __init__(self) -> None:
        self._taps = _resample_taps()
        self._decoder: object | None = None
        self._uids = itertools.count(1)

    def start(self) -> "InProcessRecognizer":
        """Load the decoder (~0.6-0.9 s of CPU: the classic script does it while the greeting plays)."""
        self._decoder = _new_decoder(warm_up_audio(), self._taps)
        return self

    def supports(self, language: str) -> bool:
        return language.lower().startswith("en")

    def open(self, grammar: str) -> "LocalUtterance":
        if self._decoder is None:
            raise AsrError("in-process recogniser not started")
        uid = next(self._uids)
        return LocalUtterance(_Stream(self._decoder, grammar, self._taps, uid))


class LocalUtterance:
    """`Utterance`'s interface over an in-process stream."""

    def __init__(self, stream: _Stream) -> None:
        self._stream: _Stream | None = stream
        self.cpu_s = 0.0

    def feed(self, pcm8k: bytes) -> None:
        if self._stream is not None:
            self._stream.feed(pcm8k)

    async def partial(self) -> str:
        return self._stream.text() if self._stream is not None else ""

    async def finish(self) -> str:
        if self._stream is None:
            return ""
        stream, self._stream = self._stream, None
        text = stream.finish()
        self.cpu_s = stream.cpu
        return text

    def cancel(self) -> None:
        if self._stream is not None:
            self._stream.decoder.end_utt()  # type: ignore[attr-defined]
            self._stream = None
