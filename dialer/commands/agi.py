"""`dialer agi-server`: the bot's FastAGI process (one asyncio process for all calls)."""

from __future__ import annotations

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import click

from dialer.bot.agi_dialog import AudioPaths
from dialer.bot.asr import AsrEngine, EnginesByLanguage, NoSpeechEngine
from dialer.bot.asr_pool import RecognizerPool
from dialer.bot.asr_stream import StreamingRecognizer
from dialer.bot.audio_tap import TapServer
from dialer.bot.endpoint import EndpointConfig
from dialer.bot.context import CallContextProvider, OutcomeSink
from dialer.bot.demo_store import JsonFileCallContexts, JsonLinesOutcomes
from dialer.bot.fastagi import BotService, ScriptLibrary, serve
from dialer.bot.prompt_prep import PromptPreparer
from dialer.bot.stream_listen import Ears
from dialer.bot.tts import EspeakEngine, PromptCache
from dialer.botdb import DbCallContextProvider, DbOutcomeSink
from dialer.commands.common import open_app, user_errors
from dialer.logging_setup import configure_logging


@click.command("agi-server")
@click.option("--host", default=None, help="Bind address (default: setting fastagi.host, 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default: setting fastagi.port, 4573).")
@click.option("--contexts", "contexts_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Tests only: read call contexts from this JSON file instead of the database.")
@click.option("--outcomes", "outcomes_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Tests only: write finished calls to this JSON-lines file instead of the database.")
@click.option("--audio-dir", default="var/bot-audio", show_default=True, type=click.Path(path_type=Path),
              help="Directory (as this process sees it) for prompts and recordings.")
@click.option("--asterisk-audio-dir", default=None,
              help="The same directory as Asterisk sees it (differs when Asterisk runs chrooted).")
@click.option("--scripts-dir", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Extra script directories, searched before the shipped scripts.")
@click.option("--no-asr", is_flag=True, help="Keys only (no speech recognition).")
@click.option("--zh-asr", type=click.Choice(["keys", "whisper"]), default="keys", show_default=True,
              help="Mandarin: keys only, or faster-whisper (optional packages; ~1-2 s per turn, docs/bot.md).")
@click.option("--listen", "listen_mode", type=click.Choice(["stream", "record"]), default=None,
              help="English speech: live over an audio tap (default, setting bot.listen) or RECORD FILE.")
@click.option("--tap-port", type=int, default=None, help="Audio tap port (default: setting bot.tap_port, 4574).")
@click.pass_context
@user_errors
def agi_server(ctx: click.Context, host: str | None, port: int | None, contexts_file: Path | None,
               outcomes_file: Path | None, audio_dir: Path, asterisk_audio_dir: str | None,
               scripts_dir: tuple[Path, ...], no_asr: bool, zh_asr: str, listen_mode: str | None,
               tap_port: int | None) -> None:
    """Serve bot calls: AGI(agi://HOST:PORT/bot) with DIALER_ATTEMPT_ID and DIALER_CAMPAIGN_ID set.

    Call contexts (debtor, amount, stage, verification) come from the dialer's database and every
    finished call is written back there (conversation, promise to pay, opt-out, next step).
    Example: dialer agi-server --audio-dir /srv/bot-audio
    """
    with open_app(ctx) as app:
        settings = app.settings
        configure_logging(mask_pii=settings["log.mask_pii"], json_lines=settings["log.format"] == "json")
        contexts = (JsonFileCallContexts(contexts_file) if contexts_file else
                    DbCallContextProvider(sessions=app.sessions, clock=app.clock,
                                          business_name=settings["bot.business_name"],
                                          callback_number=settings["bot.callback_number"]))
        outcomes = (JsonLinesOutcomes(outcomes_file) if outcomes_file else
                    DbOutcomeSink(sessions=app.sessions, clock=app.clock))
        listen = listen_mode or settings["bot.listen"]
        tap = None if no_asr or listen != "stream" else TapSettings(
            host=settings["bot.tap_host"], port=tap_port or settings["bot.tap_port"],
            advertise=settings["bot.tap_advertise"] or None,
            endpoint=EndpointConfig(quick_end_s=settings["bot.quick_end_seconds"], end_s=settings["bot.end_seconds"],
                                    barge_in_s=settings["bot.barge_in_seconds"]),
            decoders=settings["bot.stream_decoders"])
        _serve(contexts, outcomes, host or settings["fastagi.host"], port or settings["fastagi.port"],
               audio_dir, asterisk_audio_dir, scripts_dir, no_asr, zh_asr, tap)


@dataclass(frozen=True)
class TapSettings:
    host: str
    port: int
    advertise: str | None
    endpoint: EndpointConfig
    decoders: int                # live decoders per recogniser worker


def _serve(contexts: CallContextProvider, outcomes: OutcomeSink, host: str, port: int, audio_dir: Path,
           asterisk_audio_dir: str | None, scripts_dir: tuple[Path, ...], no_asr: bool, zh_asr: str = "keys",
           tap: TapSettings | None = None) -> None:
    audio_dir = audio_dir.resolve()
    # Recogniser worker processes (one per core) load their decoders before the first call, not
    # during a caller's turn (dialer/bot/asr_pool.py). The batch pool stays with live listening
    # too: a call whose tap does not connect is heard by RECORD FILE.
    # Both kinds of worker start at once: each loads its models before the server listens.
    with ThreadPoolExecutor(max_workers=1) as starter:
        starting = (starter.submit(StreamingRecognizer(preload=tap.decoders).start) if tap is not None else None)
        pool = None if no_asr else RecognizerPool().start()
        streaming = starting.result() if starting is not None else None
    asr: AsrEngine = pool if pool is not None else NoSpeechEngine()
    if zh_asr == "whisper" and not no_asr:
        from dialer.bot.asr_whisper import WhisperEngine
        asr = EnginesByLanguage([asr, WhisperEngine(audio_dir / "whisper-model")])
    preparer = PromptPreparer()
    service = BotService(contexts=contexts, outcomes=outcomes,
                         scripts=ScriptLibrary(list(scripts_dir)),
                         prompts=PromptCache(EspeakEngine(), audio_dir / "tts"), asr=asr,
                         paths=AudioPaths(audio_dir, asterisk_audio_dir or str(audio_dir)), preparer=preparer)
    try:
        asyncio.run(_run(service, host, port, tap, streaming))
    finally:
        preparer.close()
        if pool is not None:
            pool.close()
        if streaming is not None:
            streaming.close()


async def _run(service: BotService, host: str, port: int, tap: TapSettings | None = None,
               streaming: StreamingRecognizer | None = None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)   # handlers only set a flag
    taps = None
    if tap is not None and streaming is not None:
        taps = await TapServer(host=tap.host, port=tap.port, advertise_host=tap.advertise).start()
        service.ears = Ears(taps=taps, recognizer=streaming, config=tap.endpoint)
    try:
        await serve(service, host, port, stop=stop)
    finally:
        if taps is not None:
            await taps.close()
