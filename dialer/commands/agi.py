"""`dialer agi-server`: the bot's FastAGI process (one asyncio process for all calls)."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import click

from dialer.bot.agi_dialog import AudioPaths
from dialer.bot.asr import AsrEngine, NoSpeechEngine, PocketsphinxEngine
from dialer.bot.demo_store import JsonFileCallContexts, JsonLinesOutcomes
from dialer.bot.fastagi import BotService, ScriptLibrary, serve
from dialer.bot.tts import EspeakEngine, PromptCache


@click.command("agi-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=4573, show_default=True, type=int)
@click.option("--contexts", "contexts_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSON file {attempt_id: call context} (demo/test provider until the database one is wired).")
@click.option("--outcomes", "outcomes_file", default="var/bot-outcomes.jsonl", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="JSON-lines file the finished calls go to.")
@click.option("--audio-dir", default="var/bot-audio", show_default=True, type=click.Path(path_type=Path),
              help="Directory (as this process sees it) for prompts and recordings.")
@click.option("--asterisk-audio-dir", default=None,
              help="The same directory as Asterisk sees it (differs when Asterisk runs chrooted).")
@click.option("--scripts-dir", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Extra script directories, searched before the shipped scripts.")
@click.option("--no-asr", is_flag=True, help="Keys only (no speech recognition).")
def agi_server(host: str, port: int, contexts_file: Path, outcomes_file: Path, audio_dir: Path,
               asterisk_audio_dir: str | None, scripts_dir: tuple[Path, ...], no_asr: bool) -> None:
    """Serve bot calls: AGI(agi://HOST:PORT/bot) with DIALER_ATTEMPT_ID and DIALER_CAMPAIGN_ID set."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    audio_dir = audio_dir.resolve()
    asr: AsrEngine = NoSpeechEngine() if no_asr else PocketsphinxEngine()
    if isinstance(asr, PocketsphinxEngine):
        asr.warm()   # load the model before the first call, not during a caller's turn
    service = BotService(contexts=JsonFileCallContexts(contexts_file), outcomes=JsonLinesOutcomes(outcomes_file),
                         scripts=ScriptLibrary(list(scripts_dir)),
                         prompts=PromptCache(EspeakEngine(), audio_dir / "tts"), asr=asr,
                         paths=AudioPaths(audio_dir, asterisk_audio_dir or str(audio_dir)))
    asyncio.run(_run(service, host, port))


async def _run(service: BotService, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)   # handlers only set a flag
    await serve(service, host, port, stop=stop)
