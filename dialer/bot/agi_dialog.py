"""Runs a `DialogSession` over AGI commands: shared by the FastAGI server and the classic AGI script.

The AGI side is a `send(command) -> result dict` channel in panoramisk's result shape
({'result': (value, data), ...} or {'error': ...}); pyst2 is adapted to the same shape. Speech is
played from TTS files (STREAM FILE, DTMF barge-in), heard with RECORD FILE + ASR, and keys are read
with WAIT FOR DIGIT. Speech is heard one of two ways:
- live (FastAGI with `Ears`): the caller's audio comes over an AudioSocket tap while WAIT FOR DIGIT
  keeps keys open, and the bot ends the turn itself after 0.2-0.6 s of silence
  (dialer/bot/stream_listen.py);
- RECORD FILE (classic AGI, Mandarin by Whisper, or when the tap does not connect): Asterisk's
  silence detection works in whole seconds (reference/ASTERISK.md), so a spoken turn cannot end
  sooner than 1 s after the caller stops (docs/bot.md, "Latency").
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

from dialer.bot.actions import (Action, CallerHungUp, CollectDigits, Done, Hangup, Heard, Keyed, Listen, Result,
                                Say, SendSms, Silence, SpokeOver, Transfer)
from dialer.bot.agi_protocol import ChannelHungUp, result_value
from dialer.bot.asr import AsrEngine
from dialer.bot.engine import DialogSession
from dialer.bot.record import CallRecord
from dialer.bot.stream_listen import SpeechHeard, StreamingEar
from dialer.bot.tts import PromptCache, Voice

log = logging.getLogger(__name__)

AgiSend = Callable[[str], Awaitable[dict[str, Any]]]
DTMF_KEYS = "0123456789*#"
# RECORD FILE's end-of-speech silence, whole seconds. 1 is the least Asterisk accepts (0 disables
# detection); it cost nothing in recognition here: the recording keeps the whole utterance.
END_OF_SPEECH_SILENCE_S = 1


@dataclass(frozen=True)
class AudioPaths:
    """Where prompt and recording files live for the dialer (host) and for Asterisk.

    With the chrooted test Asterisk the two differ: host `ROOT/var/lib/asterisk/sounds/dialer` is
    `/var/lib/asterisk/sounds/dialer` inside. On a normal box both are the same path.
    """

    host_dir: Path
    asterisk_dir: str

    def for_asterisk(self, host_path: Path) -> str:
        relative = host_path.relative_to(self.host_dir)
        return f"{self.asterisk_dir.rstrip('/')}/{relative.with_suffix('')}"

    @property
    def recordings(self) -> Path:
        path = self.host_dir / "rec"
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass
class TurnTimer:
    """Bot turn latency: from the end of the caller's turn (RECORD/WAIT returned) to the first
    audio command of the reply being sent."""

    samples: list[float] = field(default_factory=list)
    synthesised: list[bool] = field(default_factory=list)   # the reply's first prompt was not cached
    kinds: list[str] = field(default_factory=list)          # "speech" or "keys": what the caller did
    # How long Asterisk waited after the caller stopped before handing the turn back (RECORD FILE's
    # silence detection; 0 after a key): sample + wait is "end of caller speech → reply".
    end_waits: list[float] = field(default_factory=list)
    heard_live: list[Any] = field(default_factory=list)     # SpeechHeard of each live answer (its parts)
    _heard_at: float | None = None
    _kind: str = "keys"
    _end_wait: float = 0.0

    def heard(self, kind: str = "keys", end_wait_s: float = 0.0) -> None:
        """The caller's turn ended (speech: RECORD returned; keys: the last key arrived)."""
        if self._heard_at is None:
            self._heard_at = time.perf_counter()
            self._kind = kind
            self._end_wait = end_wait_s

    def replied(self, synthesised: bool = False) -> None:
        if self._heard_at is not None:
            self.samples.append(time.perf_counter() - self._heard_at)
            self.synthesised.append(synthesised)
            self.kinds.append(self._kind)
            self.end_waits.append(self._end_wait)
            self._heard_at = None

    def for_call(self) -> "TurnTimer":
        """A timer for one call that appends to these sample lists (calls run concurrently)."""
        return TurnTimer(self.samples, self.synthesised, self.kinds, self.end_waits, self.heard_live)


def channel_value(value: object) -> str:
    """A hand-off value as a channel variable: yes/no, 2-decimal scores, "" for none."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


class AgiDialogRunner:
    def __init__(self, *, send: AgiSend, prompts: PromptCache, asr: AsrEngine, paths: AudioPaths,
                 voice: Voice, language: str, timer: TurnTimer | None = None, transfer_in_agi: bool = False,
                 ear: StreamingEar | None = None) -> None:
        self.send = send
        self.prompts = prompts
        self.asr = asr
        self.paths = paths
        self.voice = voice
        self.language = language
        self.timer = timer or TurnTimer()
        self.transfer_in_agi = transfer_in_agi
        self.ear = ear                          # None: speech is heard by RECORD FILE
        self._ear_checked = False
        self._session: DialogSession | None = None
        self._speculating: set[asyncio.Future[Any]] = set()   # replies synthesised ahead (see _speculate)
        self._pending_key = ""
        self.played: list[str] = []          # prompt ids actually sent to Asterisk

    async def run(self, session: DialogSession) -> CallRecord:
        self.played = session.record.prompts_played     # the record keeps what was actually played
        self._session = session
        action = session.start()
        try:
            while action is not None:
                result = await self.perform(action)
                action = session.feed(result)
        except ChannelHungUp:
            session.feed(CallerHungUp())
        finally:
            if self.ear is not None:
                await self.ear.close()
            if self._speculating:
                await asyncio.gather(*self._speculating, return_exceptions=True)
        await self._publish(session.record)
        return session.record

    async def perform(self, action: Action) -> Result:
        try:
            if isinstance(action, Say):
                return await self._say(action)
            if isinstance(action, Listen):
                return await self._listen(action)
            if isinstance(action, CollectDigits):
                digits = await self._digits(action.max_digits, action.timeout_s, action.terminator)
                return Keyed(digits) if digits else Silence()
            if isinstance(action, SendSms):
                return Done()      # the SMS is queued from the call record by the outcome sink
            if isinstance(action, Transfer):
                await self._transfer(action)
                return Done()
            if isinstance(action, Hangup):
                await self._cmd(f"SET VARIABLE DIALER_BOT_RESULT {action.reason}")
                await self._cmd("HANGUP")
                return Done()
        except ChannelHungUp:
            return CallerHungUp()
        raise TypeError(f"unknown action {action!r}")

    async def _cmd(self, command: str) -> tuple[str, str]:
        return result_value(await self.send(command))

    async def _say(self, say: Say) -> Result:
        cached = self.prompts.is_cached(say.text, self.voice)
        wav = await asyncio.to_thread(self.prompts.path_for, say.text, self.voice)
        self.timer.replied(synthesised=not cached)
        self.played.append(say.prompt_id)
        command = f'STREAM FILE {self.paths.for_asterisk(wav)} "{DTMF_KEYS}"'
        if say.barge_in and self.ear is not None and self.ear.barges_in:
            return await self._say_over_listening(command)
        value, _ = await self._cmd(command)
        if value.isdigit() and int(value) > 0:
            self._pending_key += chr(int(value))    # barge-in: the key answers the next question
        return Done()

    async def _say_over_listening(self, command: str) -> Result:
        """Play a prompt the caller may answer over: the ear listens while it plays, and stops it once
        the caller has really started talking (dialer/bot/stream_listen.py)."""
        assert self.ear is not None
        playing = asyncio.ensure_future(self.send(command))
        try:
            spoke = await self.ear.over_prompt(playing, self.send)
            value, _ = result_value(await playing)
        finally:
            if not playing.done():
                playing.cancel()
        if value.isdigit() and int(value) >= 35:    # a key (its code): keys win over speech
            self.ear.forget_early_answer()
            self._pending_key += chr(int(value))
            return Done()
        # Result 1: our NOOP stopped it (Asterisk sent no reply of its own: AgiPipe). Result 0: it
        # ended on its own just as the caller got going; the speech is kept for the question all
        # the same, but nothing was cut, so nothing is skipped or noted.
        return SpokeOver() if spoke and value == "1" else Done()

    async def _listen(self, listen: Listen) -> Result:
        result = await self._hear(listen)
        self.timer.heard()    # keys: the turn is complete now (speech started the clock earlier)
        return result

    async def _hear(self, listen: Listen) -> Result:
        if self._pending_key:
            first, self._pending_key = self._pending_key, ""
            return Keyed(first + await self._more_digits(first, listen.max_digits))
        if await self._hears_live():
            return await self._hear_live(listen)
        if not self.asr.supports(self.language):
            digits = await self._digits(listen.max_digits, listen.timeout_s, "#")
            return Keyed(digits) if digits else Silence()
        name = f"turn-{uuid.uuid4().hex[:12]}"
        host_wav = self.paths.recordings / f"{name}.wav"
        asterisk_name = self.paths.for_asterisk(host_wav)
        # s=N: stop after N s of silence (whole seconds only); the length cap bounds a monologue.
        # The 0 before it is the sample offset: without it Asterisk ignores the silence option.
        cap_ms = int((listen.timeout_s + 12) * 1000)
        value, data = await self._cmd(f'RECORD FILE {asterisk_name} wav "{DTMF_KEYS}" {cap_ms} 0 '
                                      f's={END_OF_SPEECH_SILENCE_S}')
        # Asterisk 22 reports e.g. "result=11668 (timeout)" after the silence limit: only "(dtmf)"
        # means a key, and then result is its character code.
        if data.startswith("dtmf") and value.isdigit() and int(value) > 0:
            host_wav.unlink(missing_ok=True)
            first = chr(int(value))
            return Keyed(first + await self._more_digits(first, listen.max_digits))
        self.timer.heard("speech", end_wait_s=END_OF_SPEECH_SILENCE_S)
        try:
            text = await asyncio.to_thread(self.asr.transcribe, host_wav, listen.grammar, self.language)
        finally:
            host_wav.unlink(missing_ok=True)
        return Heard(text) if text.strip() else Silence()

    async def _hears_live(self) -> bool:
        """Whether this call's speech comes from its tap: the first listening step waits for the tap
        to have connected (it was started at answer, so it normally has)."""
        if self.ear is None or not self.ear.ears.supports(self.language):
            return False
        if not self._ear_checked:
            self._ear_checked = True
            if not await self.ear.tap.wait_connected():
                log.warning("audio tap %s did not connect; hearing this call by RECORD FILE", self.ear.tap.tap_id)
                self.ear = None
                return False
        return True

    async def _hear_live(self, listen: Listen) -> Result:
        assert self.ear is not None
        heard = await self.ear.hear(listen.grammar, listen.timeout_s, self.send, on_complete=self._speculate)
        if heard is None:
            return Silence()
        if isinstance(heard, str):
            return Keyed(heard + await self._more_digits(heard, listen.max_digits))
        assert isinstance(heard, SpeechHeard)
        # The caller's turn ended at their last voiced frame: the timer's sample starts now, and
        # what passed since then (silence wait, decoder finish) is the end-of-speech wait.
        self.timer.heard("speech", end_wait_s=time.perf_counter() - heard.last_voice_at)
        self.timer.heard_live.append(heard)
        return Heard(heard.text) if heard.text.strip() else Silence()

    def _speculate(self, text: str) -> None:
        """Synthesise the reply to `text` while the decoder finishes the answer: a copy of the dialog
        is fed the words heard so far, and if its next action says something new, that prompt is
        made now. The live turn then finds it cached (the reply to a promise repeats the amount and
        date, so it cannot be prepared at call start). The final text is nearly always the same; if
        not, the work is wasted and the real reply is synthesised on the turn as before."""
        if self._session is None:
            return
        try:
            trial = copy.deepcopy(self._session, {id(self._session.script): self._session.script,
                                                  id(self._session.context): self._session.context})
            action = trial.feed(Heard(text))
        except Exception:   # a guess must never break the call: the real turn does the work
            log.exception("speculative dialog step failed")
            return
        if isinstance(action, Say) and not self.prompts.is_cached(action.text, self.voice):
            task = asyncio.ensure_future(asyncio.to_thread(self.prompts.path_for, action.text, self.voice))
            self._speculating.add(task)
            task.add_done_callback(self._speculating.discard)

    async def _more_digits(self, first: str, max_digits: int) -> str:
        if first == "#" or max_digits <= 1:
            return ""
        return await self._digits(max_digits - 1, 3.0, "#")

    async def _digits(self, max_digits: int, timeout_s: float, terminator: str) -> str:
        keyed = ""
        wait_ms = int(timeout_s * 1000)
        while len(keyed) < max_digits:
            value, _ = await self._cmd(f"WAIT FOR DIGIT {wait_ms}")
            if not value.isdigit() or int(value) <= 0:
                break
            key = chr(int(value))
            if key == terminator:
                break
            keyed += key
            wait_ms = 3000     # inter-digit timeout
        return keyed

    async def _transfer(self, transfer: Transfer) -> None:
        # The agent's screen reads these channel variables (names and formats: docs/bot.md, "Hand-off").
        await self._cmd("SET VARIABLE DIALER_BOT_RESULT transfer")
        await self._cmd(f"SET VARIABLE DIALER_QUEUE {transfer.queue}")
        for key, value in transfer.context.items():
            clean = channel_value(value).replace('"', "'").replace("\n", " ")
            await self._cmd(f'SET VARIABLE DIALER_CTX_{key.upper()} "{clean}"')
        if self.transfer_in_agi:
            await self._cmd(f"EXEC Queue {transfer.queue}")

    async def _publish(self, record: CallRecord) -> None:
        """Leave the outcome on the channel too, for the dialplan and CDRs; ignore a dead channel."""
        try:
            await self._cmd(f"SET VARIABLE DIALER_BOT_DISPOSITION {record.disposition.value if record.disposition else ''}")
        except (ChannelHungUp, RuntimeError, ConnectionError):
            pass
