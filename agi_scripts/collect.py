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

One process per call means each listening step's decoder is loaded during the call (~0.3-1 s per
new grammar here): the FastAGI server, with its pool of warm recognisers, is the low-latency path.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from asterisk.agi import AGI, AGIAppError, AGIException, AGIHangup

from dialer.bot.agi_dialog import AudioPaths
from dialer.bot.asr import AsrEngine, EnginesByLanguage, NoSpeechEngine, PocketsphinxEngine
from dialer.bot.demo_store import JsonFileCallContexts, JsonLinesOutcomes
from dialer.bot.fastagi import BotService, ScriptLibrary
from dialer.bot.prompt_prep import PromptPreparer
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
    agi = AGI()
    service = build_service(env)
    try:
        asyncio.run(service.run_call(pyst2_sender(agi)))
    finally:
        if service.preparer is not None:
            service.preparer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
