"""Where a caller's answer starts and ends, from the call's audio as it arrives (no I/O here).

The bot used to let Asterisk's RECORD FILE end a spoken turn: its silence detection counts in whole
seconds, so every spoken answer cost the caller at least 1 s of waiting before the bot even began
to think. Streaming the audio (dialer/bot/audio_tap.py) lets the bot end the turn itself:

- a frame is *voiced* when the WebRTC-derived VAD that ships with pocketsphinx says so and it is
  louder than a floor (line noise and comfort noise pass the VAD now and then);
- speech *starts* after `onset_s` of voiced frames in a row (a click or a breath is shorter); the
  `preroll_s` before that is kept, so the decoder hears the first consonant;
- speech *ends* after `end_s` of silence, or after only `quick_end_s` when what was heard so far is
  already a complete answer (the caller of `Endpointer` decides that: see stream_listen.py). A
  human pauses inside a sentence for 200-500 ms; a complete "yes" or "stop calling me" needs no
  such patience, "I will pay two hundred dollars" (when?) does.

Time is the frames' arrival time, not their count: over a Local channel (and a SIP leg with silence
suppression) no frames arrive while the caller is silent, so silence is measured on the clock.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 8000
FRAME_S = 0.02
FRAME_BYTES = int(SAMPLE_RATE * FRAME_S) * 2      # 20 ms of 16-bit mono: 320 bytes


@dataclass(frozen=True)
class EndpointConfig:
    onset_s: float = 0.06        # voiced run that starts speech
    preroll_s: float = 0.3       # audio kept from before the onset
    quick_end_s: float = 0.2     # silence that ends a complete answer
    end_s: float = 0.6           # silence that ends any answer
    max_speech_s: float = 15.0   # a monologue is cut here (RECORD FILE's cap did the same)
    min_rms: float = 300.0       # quieter frames are never voice (1 % of full scale)
    # Speech this long over a prompt stops it (voice barge-in); 0 turns barge-in off. Shorter
    # sounds ("uh-huh", a cough, a door) let the prompt play on.
    barge_in_s: float = 0.4

    def __post_init__(self) -> None:
        if not 0 < self.quick_end_s <= self.end_s:
            raise ValueError(f"bot endpointing: need 0 < quick_end_s ({self.quick_end_s}) <= end_s ({self.end_s})")
        if self.barge_in_s < 0:
            raise ValueError(f"bot endpointing: barge_in_s ({self.barge_in_s}) must be 0 (off) or more")


class Phase(enum.Enum):
    WAITING = "waiting"      # no speech yet
    SPEAKING = "speaking"
    ENDED = "ended"


def frame_rms(frame: bytes) -> float:
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0


def pocketsphinx_vad(mode: int = 2) -> Callable[[bytes], bool]:
    """pocketsphinx's VAD for 20 ms frames at 8 kHz (mode 0 loose ... 3 strict)."""
    from pocketsphinx import Vad
    vad = Vad(mode, SAMPLE_RATE, FRAME_S)
    return vad.is_speech


class Endpointer:
    """Feed 20 ms frames with their arrival time; read `phase`, and ask `should_end(now, complete)`.

    `push` returns the frames the recogniser should get now: on the onset, the pre-roll and the
    voiced run; while speaking, each frame; otherwise none.
    """

    def __init__(self, config: EndpointConfig, is_speech: Callable[[bytes], bool]) -> None:
        self.config = config
        self._is_speech = is_speech
        self.phase = Phase.WAITING
        self._preroll: deque[bytes] = deque(maxlen=max(1, round(config.preroll_s / FRAME_S)))
        self._run = 0                                   # voiced frames in a row, before the onset
        self._onset_frames = max(1, round(config.onset_s / FRAME_S))
        self.speech_started_at: float | None = None
        self.last_voice_at: float | None = None         # arrival time of the last voiced frame

    def voiced(self, frame: bytes) -> bool:
        return frame_rms(frame) >= self.config.min_rms and bool(self._is_speech(frame))

    def push(self, frame: bytes, arrived_at: float) -> list[bytes]:
        if self.phase is Phase.ENDED:
            return []
        voiced = self.voiced(frame)
        if self.phase is Phase.SPEAKING:
            if voiced:
                self.last_voice_at = arrived_at
            return [frame]
        self._preroll.append(frame)
        self._run = self._run + 1 if voiced else 0
        if self._run < self._onset_frames:
            return []
        self.phase = Phase.SPEAKING
        self.speech_started_at = arrived_at - (self._onset_frames - 1) * FRAME_S
        self.last_voice_at = arrived_at
        heard = list(self._preroll)
        self._preroll.clear()
        return heard

    def silence_s(self, now: float) -> float:
        return 0.0 if self.last_voice_at is None else max(0.0, now - self.last_voice_at)

    def should_end(self, now: float, complete: bool) -> bool:
        """True once the answer is over: `complete` says whether what was heard so far already is a
        whole answer (then `quick_end_s` of silence is enough)."""
        if self.phase is not Phase.SPEAKING:
            return self.phase is Phase.ENDED
        assert self.speech_started_at is not None
        silence = self.silence_s(now)
        if (silence >= self.config.end_s or (complete and silence >= self.config.quick_end_s)
                or now - self.speech_started_at >= self.config.max_speech_s):
            self.phase = Phase.ENDED
            return True
        return False

    def end_deadline(self, quick: bool) -> float | None:
        """When, without a new voiced frame, the silence reaches `quick_end_s` (quick) or `end_s`;
        None while nobody speaks."""
        if self.phase is not Phase.SPEAKING or self.last_voice_at is None or self.speech_started_at is None:
            return None
        wait = self.config.quick_end_s if quick else self.config.end_s
        return min(self.last_voice_at + wait, self.speech_started_at + self.config.max_speech_s)


class FrameSplitter:
    """AudioSocket delivers whatever frame size the channel has (20 ms from ChanSpy here, but not
    promised): cut the byte stream into 20 ms frames."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def split(self, data: bytes) -> list[bytes]:
        self._buffer += data
        frames = [bytes(self._buffer[i:i + FRAME_BYTES])
                  for i in range(0, len(self._buffer) - FRAME_BYTES + 1, FRAME_BYTES)]
        del self._buffer[:len(frames) * FRAME_BYTES]
        return frames
