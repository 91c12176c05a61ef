"""`dialer agi-server`: one asyncio process serving every bot call over FastAGI (panoramisk).

Asterisk runs `AGI(agi://127.0.0.1:4573/bot)` with DIALER_ATTEMPT_ID and DIALER_CAMPAIGN_ID set on
the channel at originate. The server reads them, asks the `CallContextProvider` for the call
context, runs the script's `DialogSession` through `AgiDialogRunner`, and hands the record to the
`OutcomeSink`. panoramisk quirks (reference/DEPENDENCIES.md): only `async def` routes work on 3.11,
and `Application()` must be built inside the running loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from panoramisk.fast_agi import Application, Request

from dialer.bot.agi_protocol import AgiPipe, connection_handler
from dialer.bot.agi_dialog import AgiDialogRunner, AudioPaths, ChannelHungUp, TurnTimer, result_value
from dialer.bot.asr import AsrEngine
from dialer.bot.context import CallContextProvider, OutcomeSink
from dialer.bot.engine import DialogSession
from dialer.bot.prompt_prep import PromptPreparer
from dialer.bot.script import Script, load_script, shipped_script_path
from dialer.bot.stream_listen import Ears, StreamingEar
from dialer.bot.tts import PromptCache, TtsError, Voice, find_voice, voice_for_attempt

log = logging.getLogger(__name__)
ROUTE = "bot"


class ScriptLibrary:
    """Scripts by (name, language): a deployment's directory first, then the shipped ones."""

    def __init__(self, directories: list[Path] | None = None) -> None:
        self.directories = list(directories or [])
        self._cache: dict[tuple[str, str], Script] = {}

    def get(self, name: str, language: str) -> Script:
        key = (name, language)
        if key not in self._cache:
            candidates = [d / f"{name}.{language}.yaml" for d in self.directories]
            candidates.append(shipped_script_path(name, language))
            path = next((p for p in candidates if p.exists()), None)
            if path is None:
                raise LookupError(f"no script {name!r} for {language}; looked in {[str(p) for p in candidates]}")
            self._cache[key] = load_script(path)
        return self._cache[key]


@dataclass
class BotService:
    contexts: CallContextProvider
    outcomes: OutcomeSink
    scripts: ScriptLibrary
    prompts: PromptCache
    asr: AsrEngine
    paths: AudioPaths
    timer: TurnTimer = field(default_factory=TurnTimer)
    transfer_in_agi: bool = False
    # Synthesises each call's debtor-specific prompts at its start (None: on the turns that play them).
    preparer: PromptPreparer | None = None
    # Hears callers live over an audio tap (stream_listen.py); None: RECORD FILE, 1 s end of speech.
    ears: Ears | None = None

    async def handle(self, request: Request) -> None:
        # Several commands may be in flight (a NOOP interrupts WAIT FOR DIGIT): replies in order.
        pipe = AgiPipe(request.reader, request.writer)
        try:
            await self.run_call(pipe.send)
        finally:
            await pipe.close()

    async def run_call(self, send: Any) -> None:
        try:
            attempt_id = (await _variable(send, "DIALER_ATTEMPT_ID")).strip()
            campaign_id = (await _variable(send, "DIALER_CAMPAIGN_ID")).strip()
            context = await self.contexts.context_for(attempt_id, campaign_id)
            script = self.scripts.get(context.script, context.language)
        except ChannelHungUp:
            return
        except LookupError as exc:
            # Nothing is said on a call the bot cannot identify: it could be anyone.
            log.error("bot call refused: %s", exc)
            await send("SET VARIABLE DIALER_BOT_RESULT no_context")
            return
        voice = self._voice(context.voice, context.language)
        tap = None
        if self.ears is not None and self.ears.supports(context.language):
            try:
                tap = await self.ears.open_tap(send)
            except ChannelHungUp:
                return
        runner = AgiDialogRunner(send=send, prompts=self.prompts, asr=self.asr, paths=self.paths, voice=voice,
                                 language=context.language, timer=self.timer.for_call(),
                                 transfer_in_agi=self.transfer_in_agi,
                                 ear=StreamingEar(tap, self.ears, context.language) if tap and self.ears else None)
        # The debtor's name and amount are known now: synthesise the prompts that carry them while
        # the greeting plays, not on the caller's turns. The thread stops between prompts when the
        # call ends, and is awaited so no synthesis outlives its call.
        stop_preparing = threading.Event()
        preparing = (asyncio.ensure_future(self.preparer.prepare(self.prompts, script, context, voice, stop_preparing))
                     if self.preparer is not None else None)
        try:
            record = await runner.run(DialogSession(script, context))
        finally:
            stop_preparing.set()
            if tap is not None and self.ears is not None:
                self.ears.close_tap(tap)
            if preparing is not None:
                await _prepared(preparing)
        await self.outcomes.record_outcome(context, record)

    @staticmethod
    def _voice(name: str, language: str) -> Voice:
        if name.startswith("attempt:"):
            return voice_for_attempt(language, int(name.split(":", 1)[1]))
        try:
            return find_voice(name)
        except TtsError:
            return voice_for_attempt(language, 1)


async def _prepared(preparing: "asyncio.Future[int]") -> None:
    try:
        await preparing
    except TtsError as exc:
        # The runner synthesises (and reports) any prompt it still needs on its own.
        log.warning("prompt preparation failed: %s", exc)


async def _variable(send: Any, name: str) -> str:
    value, data = result_value(await send(f"GET VARIABLE {name}"))
    return data if value == "1" else ""


async def serve(service: BotService, host: str = "127.0.0.1", port: int = 4573,
                stop: asyncio.Event | None = None, ready: asyncio.Future[int] | None = None) -> None:
    """Serve until `stop` is set. Each connection is a task owned by asyncio's server; on stop the
    listener closes and in-flight calls are awaited (Server.wait_closed)."""
    app = Application()   # inside the running loop, as panoramisk requires
    app.add_route(ROUTE, service.handle)
    # Not app.handler: it spins forever on a peer that closes mid-environment (agi_protocol.py).
    server = await asyncio.start_server(connection_handler(app), host, port)
    log.info("bot FastAGI listening on %s:%s/%s", host, port, ROUTE)
    if ready is not None:
        ready.set_result(server.sockets[0].getsockname()[1])   # the bound port (port=0 in tests)
    try:
        await (stop.wait() if stop is not None else asyncio.Event().wait())
    finally:
        server.close()
        await server.wait_closed()
