"""Turn latency as the caller hears it: from the two directions of the callee's leg, recorded on one
clock by MixMonitor (r = what the callee hears = the bot, t = what the callee says and keys).

A turn starts when the caller has finished:
  - speech: the callee's energy falls to silence and stays there (no activity for `min_silence_s`);
  - keys: DTMF travels as frames, not audio, so the callee marks the end of its keys in its own
    audio: right after SendDTMF returns it plays KEY_MARK, a 20 ms pattern at -60 dBFS (alternating
    +-32: too quiet for any speech detector, bit-exact in the slin recording). SendDTMF returns
    `key_tail_s` after the last key ends (Asterisk main/app.c dtmf_stream sleeps its inter-digit
    pause, 250 ms in benchmarks/bot_calls.py, after the last digit too), so key end = mark - tail.
A turn ends at the first audio of the reply: the first onset of the bot's direction after that point
(and before the caller's next turn; none = the bot did not answer in time).

Pure code on arrays of 16-bit samples; reading WAV files is the only I/O. Tests: tests/bench/.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 8000
KEY_MARK_AMPLITUDE = 32
KEY_MARK_SAMPLES = 160          # 20 ms at 8 kHz
SPEECH_DBFS = -45.0             # a 5 ms window louder than this is activity (espeak speech: -20..-10)
WINDOW_S = 0.005


def key_mark() -> np.ndarray:
    """The callee's end-of-keys mark: alternating +-32 (a 4 kHz square at -60 dBFS), 20 ms."""
    mark = np.full(KEY_MARK_SAMPLES, KEY_MARK_AMPLITUDE, dtype=np.int16)
    mark[1::2] = -KEY_MARK_AMPLITUDE
    return mark


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.asarray(samples, dtype="<i2").tobytes())


def read_wav(path: Path) -> np.ndarray:
    """Mono 16-bit samples at 8 kHz (what MixMonitor writes for a .wav on a narrowband call)."""
    with wave.open(str(path), "rb") as source:
        shape = (source.getnchannels(), source.getsampwidth(), source.getframerate())
        if shape != (1, 2, RATE):
            raise ValueError(f"{path}: expected mono 16-bit {RATE} Hz audio, found {shape[0]} channel(s), "
                             f"{8 * shape[1]}-bit, {shape[2]} Hz")
        return np.frombuffer(source.readframes(source.getnframes()), dtype="<i2").astype(np.int32)


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float


def active_segments(samples: np.ndarray, *, threshold_dbfs: float = SPEECH_DBFS, min_silence_s: float = 0.3,
                    rate: int = RATE) -> list[Segment]:
    """Stretches of audio louder than the threshold (5 ms RMS windows); pauses shorter than
    `min_silence_s` (between words) do not split a stretch."""
    window = max(1, int(WINDOW_S * rate))
    count = len(samples) // window
    if count == 0:
        return []
    frames = np.asarray(samples[:count * window], dtype=np.float64).reshape(count, window)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    active = np.flatnonzero(rms > 32768.0 * 10 ** (threshold_dbfs / 20))
    if active.size == 0:
        return []
    segments = []
    start = previous = active[0]
    max_gap = min_silence_s / WINDOW_S
    for index in active[1:]:
        if index - previous > max_gap:
            segments.append(Segment(start * WINDOW_S, (previous + 1) * WINDOW_S))
            start = index
        previous = index
    segments.append(Segment(start * WINDOW_S, (previous + 1) * WINDOW_S))
    return segments


def key_mark_starts(samples: np.ndarray, *, rate: int = RATE) -> list[float]:
    """Where the callee played KEY_MARK (seconds). The mark is the only place where the signal
    alternates +-KEY_MARK_AMPLITUDE sample after sample; at least half of it must be intact."""
    samples = np.asarray(samples)
    hit = np.zeros(len(samples), dtype=bool)
    hit[1:] = (np.abs(samples[1:]) == KEY_MARK_AMPLITUDE) & (samples[1:] == -samples[:-1])
    # Runs of hits: sample i starts a run when i is a hit and i-1 is not; the mark's first sample
    # is the partner just before the run's first hit.
    edges = np.diff(np.concatenate(([0], hit.astype(np.int8), [0])))
    run_starts, run_ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(start - 1) / rate for start, end in zip(run_starts, run_ends) if end - start >= KEY_MARK_SAMPLES // 2]


@dataclass(frozen=True)
class Turn:
    kind: str                   # "speech" or "keys"
    caller_done_s: float        # end of speech / end of the last key, on the recording's clock
    reply_s: float | None       # first audio of the bot's reply; None: no reply before the next turn

    @property
    def latency_s(self) -> float | None:
        return None if self.reply_s is None else self.reply_s - self.caller_done_s


def wire_turns(heard: np.ndarray, said: np.ndarray, *, key_tail_s: float, min_silence_s: float = 0.5,
               threshold_dbfs: float = SPEECH_DBFS, rate: int = RATE) -> list[Turn]:
    """The caller's turns and the bot's replies in one call.

    heard: the bot's direction (MixMonitor r on the callee); said: the callee's (t), same clock.
    An utterance ends where the callee stays silent for `min_silence_s` (shorter pauses are between
    words); a reply is the first stretch of the bot's audio starting after the caller finished."""
    if len(heard) != len(said):
        # MixMonitor writes both files from one audiohook, frame for frame: unequal lengths mean
        # the files are not a pair (or one was cut), and the clocks cannot be trusted.
        raise ValueError(f"the two directions differ in length ({len(heard)} vs {len(said)} samples): "
                         "not one MixMonitor recording")
    done = [("speech", float(s.end_s)) for s in active_segments(said, threshold_dbfs=threshold_dbfs,
                                                          min_silence_s=min_silence_s, rate=rate)]
    done += [("keys", float(start - key_tail_s)) for start in key_mark_starts(said, rate=rate)]
    done.sort(key=lambda item: item[1])
    onsets = [float(s.start_s) for s in active_segments(heard, threshold_dbfs=threshold_dbfs,
                                                 min_silence_s=0.3, rate=rate)]
    turns = []
    for index, (kind, at) in enumerate(done):
        until = done[index + 1][1] if index + 1 < len(done) else float("inf")
        reply = next((onset for onset in onsets if at <= onset < until), None)
        turns.append(Turn(kind, round(at, 4), None if reply is None else round(reply, 4)))
    return turns


def direction_lag_s(heard: np.ndarray, said: np.ndarray, *, max_lag_s: float = 0.2, rate: int = RATE) -> float:
    """How late `heard` is against `said` when the far end echoes the callee (calibration call):
    the lag of the best cross-correlation. 0 = the two directions are on one clock."""
    a = np.asarray(said, dtype=np.float64)
    b = np.asarray(heard, dtype=np.float64)
    max_lag = int(max_lag_s * rate)
    scores = [float(np.dot(a[: len(a) - lag], b[lag:])) for lag in range(max_lag + 1)]
    scores_neg = [float(np.dot(a[lag:], b[: len(b) - lag])) for lag in range(1, max_lag + 1)]
    best = int(np.argmax(scores))
    if scores_neg and max(scores_neg) > scores[best]:
        return -(int(np.argmax(scores_neg)) + 1) / rate
    return best / rate
