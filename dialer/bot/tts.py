"""Text to speech for the bot: an engine interface, espeak-ng by default, 8 kHz mono wav, cached.

Asterisk plays 8 kHz mono wav; espeak-ng writes 22 kHz, so sox converts. Prompts are cached by
(text, voice): the fixed parts of a script are synthesised once, and the dynamic ones (name, amount)
once per distinct value. Debian's espeak-ng 1.51 speaks Hanzi correctly only with `cmn-latn-pinyin`
(its `cmn`/`zh` voices read digits in English), so Mandarin text arrives with numbers already in words.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class TtsError(RuntimeError):
    pass


@dataclass(frozen=True)
class Voice:
    """A named voice: the engine's voice id plus speed (words per minute) and pitch."""

    name: str
    engine_voice: str
    speed: int = 160
    pitch: int = 50


# Two voices per language, alternated on re-dials of debtors who did not pay (seed 001:
# "男声、女声轮回提醒"). espeak-ng variants +m3 / +f3 give a male and a female colour.
DEFAULT_VOICES: dict[str, tuple[Voice, Voice]] = {
    "en-US": (Voice("en-male", "en-us+m3", 160, 45), Voice("en-female", "en-us+f3", 160, 60)),
    "zh-CN": (Voice("zh-male", "cmn-latn-pinyin+m3", 150, 45), Voice("zh-female", "cmn-latn-pinyin+f3", 150, 60)),
}


def voice_for_attempt(language: str, attempt_number: int, previous_unpaid: bool = True,
                      voices: dict[str, tuple[Voice, Voice]] | None = None) -> Voice:
    """The voice for the n-th call (1-based) to an account: alternate while the debtor has not paid."""
    pair = (voices or DEFAULT_VOICES)[language]
    if not previous_unpaid:
        return pair[0]
    return pair[(max(attempt_number, 1) - 1) % 2]


def find_voice(name: str, voices: dict[str, tuple[Voice, Voice]] | None = None) -> Voice:
    for pair in (voices or DEFAULT_VOICES).values():
        for voice in pair:
            if voice.name == name:
                return voice
    raise TtsError(f"unknown voice {name!r}; known: "
                   f"{', '.join(v.name for p in (voices or DEFAULT_VOICES).values() for v in p)}")


class TtsEngine(Protocol):
    def synthesize(self, text: str, voice: Voice, out_wav: Path) -> None:
        """Write `text` spoken by `voice` to `out_wav` as 8 kHz mono 16-bit wav."""
        ...


class EspeakEngine:
    """espeak-ng (Debian package) piped through sox to telephone format."""

    def __init__(self, espeak: str = "espeak-ng", sox: str = "sox") -> None:
        self.espeak = espeak
        self.sox = sox

    def synthesize(self, text: str, voice: Voice, out_wav: Path) -> None:
        with tempfile.NamedTemporaryFile(suffix=".wav", dir=out_wav.parent) as raw:
            self._run([self.espeak, "-v", voice.engine_voice, "-s", str(voice.speed), "-p", str(voice.pitch),
                       "-w", raw.name, text])
            self._run([self.sox, raw.name, "-r", "8000", "-c", "1", "-b", "16", str(out_wav)])

    @staticmethod
    def _run(argv: list[str]) -> None:
        try:
            subprocess.run(argv, check=True, capture_output=True, timeout=30)
        except FileNotFoundError:
            raise TtsError(f"{argv[0]} is not installed (apt-get install espeak-ng sox)") from None
        except subprocess.CalledProcessError as exc:
            raise TtsError(f"{argv[0]} failed: {exc.stderr.decode(errors='replace').strip()}") from None


class PromptCache:
    """Synthesised prompts on disk, keyed by (text, voice). Safe for concurrent calls: files are
    written under a temporary name and renamed into place."""

    def __init__(self, engine: TtsEngine, directory: Path) -> None:
        self.engine = engine
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.misses = 0
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    @staticmethod
    def key(text: str, voice: Voice) -> str:
        material = f"{voice.engine_voice}|{voice.speed}|{voice.pitch}|{text}".encode()
        return hashlib.sha256(material).hexdigest()[:32]

    def is_cached(self, text: str, voice: Voice) -> bool:
        return (self.directory / f"{voice.name}-{self.key(text, voice)}.wav").exists()

    def path_for(self, text: str, voice: Voice) -> Path:
        """The wav file for this text and voice, synthesising it on first use."""
        path = self.directory / f"{voice.name}-{self.key(text, voice)}.wav"
        if path.exists():
            self.hits += 1
            return path
        with self._lock_for(path.name):
            # Another call of this process may have synthesised it while we waited for the lock.
            if path.exists():
                self.hits += 1
                return path
            self.misses += 1
            tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.tmp.wav")   # unique across processes
            self.engine.synthesize(text, voice, tmp)
            os.replace(tmp, path)
        return path

    def _lock_for(self, name: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(name, threading.Lock())
