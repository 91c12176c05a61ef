"""Speech recognition for the bot: an engine interface and pocketsphinx with a grammar per step.

Telephone audio is 8 kHz, the pocketsphinx en-us model 16 kHz. Upsampling leaves the 4-8 kHz band
empty and the recogniser then lost fricatives ("next Friday" came out "right now"). Mixing in
low-level white noise (1% of full scale, fixed seed) after upsampling fills the band: on espeak-ng
speech through 8 kHz it took grammar recognition from 3/24 to 18/24 utterances exactly right here.
No model is downloaded at run time: the pocketsphinx wheel ships the en-us model. Keys (DTMF) are
handled by the transports and never reach an ASR engine.

The wav is read and resampled in the process (wave + scipy's polyphase filter) rather than by a sox
child: a fork+exec per turn cost 15-25 ms of the turn here, and the classic AGI script runs inside
the Asterisk root, where sox is not installed.
"""

from __future__ import annotations

import tempfile
import threading
import wave
from pathlib import Path
from typing import Protocol

import numpy as np

from dialer.bot.grammars import grammar_names, jsgf

NOISE_AMPLITUDE = 327   # 1% of 16-bit full scale
FRAME = 160             # 10 ms at 16 kHz
MODEL_RATE = 16000


def trim_to_speech(samples: np.ndarray) -> np.ndarray:
    """Cut the silence around the utterance (0.2 s kept before, 0.3 s after). RECORD FILE keeps up to
    s-1 seconds of the silence that ended the turn, and a recording may start with the caller's pause
    before speaking: decoding that silence with a grammar cost 3-7x the time here."""
    frames = len(samples) // FRAME
    if frames == 0:
        return samples
    energy = np.abs(samples[: frames * FRAME].reshape(frames, FRAME)).mean(axis=1)
    voiced = np.nonzero(energy > max(200.0, float(energy.max()) * 0.02))[0]
    if len(voiced) == 0:
        return samples
    return samples[max(0, (voiced[0] - 20) * FRAME): (voiced[-1] + 30) * FRAME]


class AsrError(RuntimeError):
    pass


def read_pcm16k(wav_path: Path) -> np.ndarray:
    """16 kHz mono samples (int32, 16-bit range) of an 8 or 16 kHz 16-bit wav, padded with 0.3 s of
    silence before and 0.5 s after (the decoder needs some silence around an utterance to end it)."""
    try:
        with wave.open(str(wav_path), "rb") as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            frames = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise AsrError(f"cannot read recording {wav_path}: {exc}") from None
    if width != 2 or rate not in (8000, MODEL_RATE):
        raise AsrError(f"{wav_path}: need 16-bit 8 or 16 kHz wav, got {8 * width}-bit {rate} Hz")
    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels)[:, 0].astype(np.float64)
    if rate == 8000:
        from scipy.signal import resample_poly
        samples = resample_poly(samples, 2, 1)
    pcm = np.clip(np.rint(samples), -32768, 32767).astype(np.int32)
    return np.pad(pcm, (int(0.3 * MODEL_RATE), int(0.5 * MODEL_RATE)))


class AsrEngine(Protocol):
    def supports(self, language: str) -> bool:
        ...

    def transcribe(self, wav_path: Path, grammar: str, language: str) -> str:
        """Text said in an 8 kHz (or 16 kHz) mono wav; "" when nothing was recognised."""
        ...


class NoSpeechEngine:
    """For languages without an offline recogniser: every question is answered by keys."""

    def supports(self, language: str) -> bool:
        return False

    def transcribe(self, wav_path: Path, grammar: str, language: str) -> str:
        return ""


class PocketsphinxEngine:
    """English ASR with a JSGF grammar per listening step; a small pool of decoders per grammar so
    concurrent calls (FastAGI runs decodes in worker threads) never share one."""

    def __init__(self) -> None:
        try:
            import pocketsphinx  # noqa: F401  (optional dependency: extras `asr`)
        except ImportError:
            raise AsrError("pocketsphinx is not installed: pip install pocketsphinx") from None
        self._free: dict[str, list[object]] = {}
        self._lock = threading.Lock()

    def supports(self, language: str) -> bool:
        return language.lower().startswith("en")

    def _decoder(self, grammar: str) -> object:
        with self._lock:
            pool = self._free.setdefault(grammar, [])
            if pool:
                return pool.pop()
        from pocketsphinx import Decoder
        with tempfile.NamedTemporaryFile("w", suffix=".gram", delete=False) as handle:
            handle.write(jsgf(grammar))
        try:
            # maxhmmpf bounds the search per frame: 0.28 → 0.19 s per utterance here, same accuracy.
            # bestpath=False: the answer is the forward search's best path, without the second
            # pass over a word lattice. With a grammar, pocketsphinx's lattice has a node per word
            # ending and a silence/noise self-loop at every grammar state; building and searching it
            # was 70-90 % of the payment step's CPU (2.8 s of 3.2 s for "I will pay two hundred
            # dollars next Friday"), and on 72 espeak utterances the forward path was as often right
            # (benchmarks/bot_asr_payment.py, docs/bot.md).
            return Decoder(jsgf=handle.name, samprate=16000, logfn="/dev/null", maxhmmpf=2000, bestpath=False)
        finally:
            Path(handle.name).unlink(missing_ok=True)

    def warm(self, grammars: list[str] | None = None) -> None:
        """Load one decoder per grammar now (model loading takes ~1 s) instead of on a caller's turn,
        and scipy's resampler with them: importing scipy.signal costs ~1 s of CPU, which the first
        8 kHz recording a worker decoded used to pay."""
        from scipy.signal import resample_poly  # noqa: F401  (imported for its cost, see above)
        for grammar in grammars or grammar_names():
            self._release(grammar, self._decoder(grammar))

    def _release(self, grammar: str, decoder: object) -> None:
        with self._lock:
            self._free.setdefault(grammar, []).append(decoder)

    def pcm16k(self, wav_path: Path) -> bytes:
        samples = trim_to_speech(read_pcm16k(wav_path))
        noise = np.random.default_rng(0).integers(-NOISE_AMPLITUDE, NOISE_AMPLITUDE + 1, samples.size)
        return np.clip(samples + noise, -32768, 32767).astype("<i2").tobytes()

    def transcribe(self, wav_path: Path, grammar: str, language: str) -> str:
        if not self.supports(language):
            return ""
        pcm = self.pcm16k(wav_path)
        decoder = self._decoder(grammar)
        try:
            return _decode(decoder, pcm)
        finally:
            self._release(grammar, decoder)


# The grammars' <filler> words: they soak up a caller's hesitation (and often the breath before an
# answer) but mean nothing, and the intent rules anchor short answers at the start ("uh no" was not
# understood where "no" is a denial: 2 of 72 payment answers in benchmarks/bot_asr_payment.py).
HESITATIONS = frozenset({"um", "uh"})


def _decode(decoder: object, pcm: bytes) -> str:
    """The text of one whole utterance (16 kHz 16-bit PCM) without hesitations; "" when nothing was
    recognised."""
    decoder.start_utt()  # type: ignore[attr-defined]
    decoder.process_raw(pcm, full_utt=True)  # type: ignore[attr-defined]
    decoder.end_utt()  # type: ignore[attr-defined]
    hyp = decoder.hyp()  # type: ignore[attr-defined]
    words = hyp.hypstr.split() if hyp is not None else []
    return " ".join(word for word in words if word not in HESITATIONS)


class EnginesByLanguage:
    """One `AsrEngine` over several: each turn goes to the first engine that supports the call's
    language (e.g. the pocketsphinx pool for English, faster-whisper for Mandarin); a language none
    supports is answered by keys."""

    def __init__(self, engines: list[AsrEngine]) -> None:
        self.engines = list(engines)

    def _for(self, language: str) -> AsrEngine | None:
        return next((engine for engine in self.engines if engine.supports(language)), None)

    def supports(self, language: str) -> bool:
        return self._for(language) is not None

    def transcribe(self, wav_path: Path, grammar: str, language: str) -> str:
        engine = self._for(language)
        return engine.transcribe(wav_path, grammar, language) if engine is not None else ""
