#!/usr/bin/env python3
"""Classic AGI entry point for the collection bot: `AGI(/path/to/agi_scripts/collect[,KEY=VALUE...])`.

Asterisk starts one process per call and talks AGI on stdin/stdout (pyst2's `asterisk.agi`; its
fastagi module is broken on Python 3). The same `AgiDialogRunner` and `DialogSession` as the FastAGI
server run here, so both transports behave identically. `agi_scripts/collect` is the launcher
Asterisk runs (it picks the checkout's .venv Python). Configuration comes from the environment,
and KEY=VALUE arguments of the AGI() application override it for one call (Asterisk passes them
as argv; an AGI child cannot be given its own environment from the dialplan):

  DIALER_BOT_CONTEXTS       JSON file {attempt_id: call context}   (demo/test provider)
  DIALER_BOT_OUTCOMES       JSON-lines file for finished calls     (default var/bot-outcomes.jsonl)
  DIALER_BOT_AUDIO_DIR      prompts + recordings, as this process sees them
  DIALER_BOT_ASTERISK_AUDIO_DIR   the same directory as Asterisk sees it (chroot), default the same
  DIALER_BOT_NO_ASR=1       keys only
  DIALER_BOT_ZH_ASR=whisper Mandarin by faster-whisper (optional packages, docs/bot.md); default keys
  DIALER_BOT_LISTEN=stream  with EAGI(): hear English speech live from the call's audio on fd 3 (the
                            bot's own end of speech, as the FastAGI server); default: RECORD FILE

One process per call means each listening step's decoder is loaded during the call (~0.3-1 s per
new grammar here): the FastAGI server, with its pool of warm recognisers, is the low-latency path.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from asterisk.agi import AGI, AGIAppError, AGIException, AGIHangup

from dialer.bot.agi_dialog import AudioPaths
from dialer.bot.agi_protocol import AgiPipe
from dialer.bot.asr_stream import InProcessRecognizer
from dialer.bot.audio_tap import Tap
from dialer.bot.asr import AsrEngine, EnginesByLanguage, NoSpeechEngine, PocketsphinxEngine
from dialer.bot.demo_store import JsonFileCallContexts, JsonLinesOutcomes
from dialer.bot.fastagi import BotService, ScriptLibrary
from dialer.bot.prompt_prep import PromptPreparer
from dialer.bot.stream_listen import Ears
from dialer.bot.tts import EspeakEngine, PromptCache


def pyst2_sender(agi: AGI) -> Any:
    """Adapt pyst2's blocking AGI to the runner's `send(command) -> result dict` (panoramisk shape)."""

    async def send(command: str) -> dict[str, Any]:
        try:
            agi.send_command(command)
            return agi.get_result()
        except AGIHangup:
            return {"error": "AGIResultHangup", "msg": "hangup"}
        except AGIAppError as exc:
            return {"error": "AGIAppError", "msg": str(exc)}
        except AGIException as exc:
            return {"error": type(exc).__name__, "msg": str(exc)}

    return send


def build_service(env: dict[str, str]) -> BotService:
    audio_dir = Path(env.get("DIALER_BOT_AUDIO_DIR", "var/bot-audio")).resolve()
    asr: AsrEngine = NoSpeechEngine() if env.get("DIALER_BOT_NO_ASR") == "1" else PocketsphinxEngine()
    if env.get("DIALER_BOT_ZH_ASR") == "whisper" and env.get("DIALER_BOT_NO_ASR") != "1":
        from dialer.bot.asr_whisper import WhisperEngine
        asr = EnginesByLanguage([asr, WhisperEngine(audio_dir / "whisper-model")])
    return BotService(
        contexts=JsonFileCallContexts(Path(env["DIALER_BOT_CONTEXTS"])),
        outcomes=JsonLinesOutcomes(Path(env.get("DIALER_BOT_OUTCOMES", "var/bot-outcomes.jsonl"))),
        scripts=ScriptLibrary(), prompts=PromptCache(EspeakEngine(), audio_dir / "tts"), asr=asr,
        paths=AudioPaths(audio_dir, env.get("DIALER_BOT_ASTERISK_AUDIO_DIR", str(audio_dir))),
        preparer=PromptPreparer(workers=1))


EAGI_AUDIO_FD = 3


def has_eagi_audio() -> bool:
    """EAGI() gives the script the caller's audio (8 kHz signed linear) on fd 3; AGI() does not."""
    try:
        os.fstat(EAGI_AUDIO_FD)
        return True
    except OSError:
        return False


class _EagiAudio(asyncio.Protocol):
    def __init__(self, tap: Tap) -> None:
        self.tap = tap

    def data_received(self, data: bytes) -> None:
        self.tap.deliver(data, time.perf_counter())


async def run_live(service: BotService) -> None:
    """The call with speech heard live: AGI over stdin/stdout with several commands in flight
    (`AgiPipe`, so a NOOP can end WAIT FOR DIGIT), the audio from fd 3 into a tap, decoded in this
    process. The decoder loads while the greeting plays; the tap counts as connected once it has,
    and a first question asked before that is heard by RECORD FILE instead."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(0, "rb", buffering=0))
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin,
                                                        os.fdopen(1, "wb", buffering=0))
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    tap = Tap("eagi")
    audio, _ = await loop.connect_read_pipe(lambda: _EagiAudio(tap), os.fdopen(EAGI_AUDIO_FD, "rb", buffering=0))
    recognizer = InProcessRecognizer()

    async def load() -> None:
        await asyncio.to_thread(recognizer.start)
        tap.connected.set()

    loading = asyncio.ensure_future(load())
    service.ears = Ears(taps=None, recognizer=recognizer, fixed_tap=tap)
    pipe = AgiPipe(reader, writer)
    try:
        await service.run_call(pipe.send)
    finally:
        await asyncio.gather(loading, return_exceptions=True)
        audio.close()
        await pipe.close()


def settings_from(argv: list[str], environ: dict[str, str]) -> dict[str, str]:
    """The environment with KEY=VALUE arguments applied; only DIALER_BOT_* keys are accepted."""
    env = dict(environ)
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or not key.startswith("DIALER_BOT_"):
            raise ValueError(f"collect.py: argument {arg!r} is not DIALER_BOT_<NAME>=<value>")
        env[key] = value
    return env


def main(argv: list[str] | None = None) -> int:
    try:
        env = settings_from(sys.argv[1:] if argv is None else argv, dict(os.environ))
    except ValueError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    if "DIALER_BOT_CONTEXTS" not in env:
        sys.stderr.write("collect.py: DIALER_BOT_CONTEXTS is not set\n")
        return 1
    agi = AGI()     # reads the AGI environment from stdin
    service = build_service(env)
    live = (env.get("DIALER_BOT_LISTEN") == "stream" and env.get("DIALER_BOT_NO_ASR") != "1"
            and has_eagi_audio())
    try:
        asyncio.run(run_live(service) if live else service.run_call(pyst2_sender(agi)))
    finally:
        if service.preparer is not None:
            service.preparer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
