"""A listening step heard from the audio tap: the bot, not RECORD FILE, decides when the caller is done.

While the caller answers, three things run at once:
- the tap's frames go through the `Endpointer` and, from the onset on, into a streaming decoder;
- `WAIT FOR DIGIT` runs on the call, so a key still answers the question at any moment;
- after `quick_end_s` of silence the decoder's text so far is checked: a complete answer ("yes",
  "stop calling me", "I will pay two hundred dollars next Friday") ends the step there, anything
  else gets the full `end_s` (dialer/bot/endpoint.py).

The caller may also start answering while the question's prompt still plays (voice barge-in):
`over_prompt` listens during STREAM FILE, and once `barge_in_s` of speech has come it writes NOOP,
which stops the prompt (Asterisk watches the socket there too; AgiPipe knows the stopped STREAM
FILE gets no reply). The speech so far, its endpointer and the tap stay with the ear, and the next
`hear` goes on from them, so not a syllable of the answer is lost.

When the answer is over the bot writes NOOP on the AGI socket: Asterisk sees the socket readable
and returns WAIT FOR DIGIT at once with result=1 (a key would be its character code, >= 35), then
answers the NOOP. The NOOP's reply is not awaited here: Asterisk writes it right behind the WAIT's,
and with Nagle on its side and delayed ACKs on ours the second small reply waits ~40 ms for an ACK
(measured: 41-47 ms). The next command (the reply's STREAM FILE) carries that ACK at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Awaitable

from dialer.bot.agi_protocol import result_value
from dialer.bot.asr_stream import InProcessRecognizer, LocalUtterance, StreamingRecognizer, Utterance
from dialer.bot.audio_tap import Tap, TapServer
from dialer.bot.endpoint import EndpointConfig, Endpointer, FrameSplitter, Phase, pocketsphinx_vad
from dialer.bot.intents import Intent
from dialer.bot.nlu import recognise

log = logging.getLogger(__name__)

AgiSend = Callable[[str], Awaitable[dict[str, Any]]]
INTERRUPTED = "1"     # WAIT FOR DIGIT's result when the socket, not a key, ended it


@dataclass(frozen=True)
class SpeechHeard:
    text: str
    last_voice_at: float     # time.perf_counter() of the last voiced frame's arrival
    cpu_s: float             # decoder CPU for this answer, in its worker
    # Where the end of the turn went (for benchmarks): waiting on partial texts at pauses, waiting
    # on the final text, and whether the short pause ended it (a complete answer).
    partial_wait_s: float = 0.0
    finish_wait_s: float = 0.0
    quick_end: bool = False


def answer_is_complete(text: str, language: str, grammar: str) -> bool:
    """Whether the words so far already make an answer the dialog can act on, so a short pause
    may end the turn. Digit answers never are (\"nineteen eighty\" may go on with \"five\"), nor a
    payment promise without its date, nor a callback (its time usually comes last)."""
    if not text.strip() or grammar == "digits":
        return False
    heard = recognise(text, language, date.today())
    if heard.intent in (Intent.NOT_UNDERSTOOD, Intent.SILENCE, Intent.CALLBACK):
        return False
    if heard.intent in (Intent.PROMISE_LATER, Intent.PARTIAL_PAYMENT) and heard.promised_date is None:
        return False
    return True


@dataclass
class Ears:
    """What a FastAGI server needs to hear callers live: the tap listener and the decoders."""

    taps: TapServer | None
    recognizer: StreamingRecognizer | InProcessRecognizer
    config: EndpointConfig = field(default_factory=EndpointConfig)
    vad_factory: Callable[[], Callable[[bytes], bool]] = pocketsphinx_vad
    # EAGI (classic AGI): the call's audio already comes on fd 3; no AudioSocket tap is started.
    fixed_tap: Tap | None = None

    def supports(self, language: str) -> bool:
        return self.recognizer.supports(language)

    async def open_tap(self, send: AgiSend) -> Tap | None:
        """Start the tap on this call (it connects while the greeting plays); None if it cannot."""
        if self.fixed_tap is not None:
            return self.fixed_tap
        if self.taps is None:
            return None
        value, data = result_value(await send("GET VARIABLE UNIQUEID"))
        if value != "1" or not data:
            log.warning("audio tap: the channel has no UNIQUEID; hearing this call by RECORD FILE")
            return None
        tap = self.taps.new_tap()
        reply = await send(self.taps.command_for(tap, data))
        if "error" in reply:
            log.warning("audio tap: Originate failed (%s); hearing this call by RECORD FILE", reply.get("msg"))
            self.taps.forget(tap)
            return None
        return tap

    def close_tap(self, tap: Tap) -> None:
        if self.taps is not None and tap is not self.fixed_tap:
            self.taps.forget(tap)


Frames = asyncio.Queue[tuple[bytes, float]]


@dataclass
class _EarlyAnswer:
    """Speech that began over a prompt: the answer's start, waiting for the question's `hear`."""

    frames: Frames
    endpointer: Endpointer
    heard: list[bytes]          # what the decoder should get first (pre-roll and speech so far)


class StreamingEar:
    """One call's listening steps over its tap."""

    def __init__(self, tap: Tap, ears: Ears, language: str) -> None:
        self.tap = tap
        self.ears = ears
        self.language = language
        self._vad = ears.vad_factory()
        self._interrupts: set[asyncio.Future[Any]] = set()   # NOOPs whose replies nobody awaits
        self._early: _EarlyAnswer | None = None

    def _listen_to_tap(self) -> Frames:
        frames: Frames = asyncio.Queue()
        splitter = FrameSplitter()

        def on_audio(audio: bytes, arrived_at: float) -> None:
            for frame in splitter.split(audio):
                frames.put_nowait((frame, arrived_at))

        self.tap.listener = on_audio
        return frames

    @property
    def barges_in(self) -> bool:
        """Whether prompts can be talked over on this call now (the tap is up, barge-in is on)."""
        return self.ears.config.barge_in_s > 0 and self.tap.connected.is_set() and not self.tap.closed.is_set()

    async def over_prompt(self, playing: asyncio.Future[Any], send: AgiSend) -> bool:
        """Listen while `playing` (a STREAM FILE in flight) runs. True when the caller spoke over it
        for `barge_in_s`: the prompt was stopped, and the speech is kept for the next `hear`."""
        if self._early is not None:
            # The caller began answering over the last prompt, which then ended on its own before
            # the stop reached Asterisk: they are still talking, so this one stops at once.
            self.interrupt(send)
            return True
        config = self.ears.config
        frames = self._listen_to_tap()
        endpointer = Endpointer(config, self._vad)
        heard: list[bytes] = []
        try:
            while not playing.done():
                getting = asyncio.ensure_future(frames.get())
                await asyncio.wait({getting, playing}, return_when=asyncio.FIRST_COMPLETED)
                if not getting.done():
                    getting.cancel()
                    break
                batch = [getting.result()]
                while not frames.empty():
                    batch.append(frames.get_nowait())
                for frame, arrived_at in batch:
                    if endpointer.phase is Phase.SPEAKING and endpointer.silence_s(arrived_at) >= config.end_s:
                        endpointer, heard = Endpointer(config, self._vad), []   # a short sound, over
                    heard += endpointer.push(frame, arrived_at)
                if (endpointer.phase is Phase.SPEAKING and endpointer.last_voice_at is not None
                        and endpointer.speech_started_at is not None
                        and endpointer.last_voice_at - endpointer.speech_started_at >= config.barge_in_s):
                    self.interrupt(send)
                    self._early = _EarlyAnswer(frames, endpointer, heard)
                    return True
            return False
        finally:
            if self._early is None:
                self.tap.listener = None

    def forget_early_answer(self) -> None:
        """A key answered instead: the speech that began over the prompt is not the answer."""
        if self._early is not None:
            self._early = None
            self.tap.listener = None

    async def hear(self, grammar: str, timeout_s: float, send: AgiSend,
                   on_complete: Callable[[str], None] | None = None) -> str | SpeechHeard | None:
        """A key (its character), the caller's answer, or None when nothing came in `timeout_s`.

        `on_complete(text)` is called when the words so far already make a whole answer, while the
        decoder finishes: the runner uses it to synthesise the reply it expects."""
        utterance: Utterance | LocalUtterance | None = None
        early, self._early = self._early, None
        if early is not None:        # the answer began over the prompt: go on from there
            frames, endpointer = early.frames, early.endpointer
            utterance = self.ears.recognizer.open(grammar)
            for frame in early.heard:
                utterance.feed(frame)
        else:
            frames = self._listen_to_tap()
            endpointer = Endpointer(self.ears.config, self._vad)
        speech = asyncio.ensure_future(self._answer(frames, endpointer, grammar, on_complete, utterance))
        waiting = asyncio.ensure_future(send(f"WAIT FOR DIGIT {int(timeout_s * 1000)}"))
        try:
            while True:
                await asyncio.wait({speech, waiting}, return_when=asyncio.FIRST_COMPLETED)
                if speech.done():
                    if not waiting.done():
                        self.interrupt(send)
                    value, _ = result_value(await waiting)
                    if value.isdigit() and int(value) > 1:
                        return chr(int(value))     # a key pressed as the answer ended: keys win
                    return speech.result()
                value, _ = result_value(waiting.result())
                if value.isdigit() and int(value) > 1:
                    return chr(int(value))
                if endpointer.phase is Phase.WAITING:
                    return None                    # nobody spoke in time
                # The caller is still talking when the wait ran out: keep keys open to the end.
                cap_s = self.ears.config.max_speech_s + self.ears.config.end_s
                waiting = asyncio.ensure_future(send(f"WAIT FOR DIGIT {int(cap_s * 1000)}"))
        finally:
            self.tap.listener = None
            for task in (speech, waiting):
                if not task.done():
                    task.cancel()
            await asyncio.gather(speech, return_exceptions=True)
            # An unfinished WAIT (hang-up, cancellation) still gets its reply consumed by the pipe.

    def interrupt(self, send: AgiSend) -> None:
        """Write NOOP: it ends the WAIT FOR DIGIT or STREAM FILE running now (see the module doc)."""
        noop = asyncio.ensure_future(send("NOOP"))
        self._interrupts.add(noop)
        noop.add_done_callback(self._interrupts.discard)

    async def close(self) -> None:
        self.forget_early_answer()
        if self._interrupts:
            await asyncio.gather(*self._interrupts, return_exceptions=True)

    async def _answer(self, frames: Frames, endpointer: Endpointer, grammar: str,
                      on_complete: Callable[[str], None] | None = None,
                      utterance: Utterance | LocalUtterance | None = None) -> SpeechHeard:
        checked_silence_of: float | None = None     # the voiced frame whose silence was checked
        guessed_after: float | None = None          # ... and whose reply was guessed (see below)
        guessed_text: str | None = None
        complete_guess_for: float | None = None     # the voiced frame after which the guess was whole
        partial_wait_s = 0.0
        quick_end = False
        try:
            while True:
                last_voice = endpointer.last_voice_at
                deadline = endpointer.end_deadline(quick=checked_silence_of != last_voice)
                if (on_complete is not None and deadline is not None and last_voice is not None
                        and guessed_after != last_voice):
                    # Half the quick wait: time to guess the reply and synthesise it (~50-100 ms)
                    # before the turn ends, if the words so far are a whole answer.
                    deadline = min(deadline, last_voice + self.ears.config.quick_end_s / 2)
                try:
                    timeout = None if deadline is None else max(0.0, deadline - time.perf_counter())
                    frame, arrived_at = await asyncio.wait_for(frames.get(), timeout)
                except TimeoutError:
                    frame = None
                if frame is not None:
                    utterance = self._push(endpointer, frame, arrived_at, utterance, grammar)
                    while not frames.empty():
                        utterance = self._push(endpointer, *frames.get_nowait(), utterance, grammar)
                    if endpointer.phase is Phase.SPEAKING and endpointer.should_end(time.perf_counter(), False):
                        break
                    continue
                assert utterance is not None
                if on_complete is not None and guessed_after != endpointer.last_voice_at:
                    guessed_after = endpointer.last_voice_at
                    asked_at = time.perf_counter()
                    text = await utterance.partial()
                    partial_wait_s += time.perf_counter() - asked_at
                    while not frames.empty():
                        utterance = self._push(endpointer, *frames.get_nowait(), utterance, grammar)
                    if guessed_after == endpointer.last_voice_at and answer_is_complete(text, self.language, grammar):
                        guessed_text, complete_guess_for = text, guessed_after
                        on_complete(text)
                    continue
                if checked_silence_of != endpointer.last_voice_at:
                    # quick_end_s of silence: is what was said so far a whole answer?
                    checked_silence_of = endpointer.last_voice_at
                    if complete_guess_for == endpointer.last_voice_at and guessed_text is not None:
                        # Already a whole answer at half the wait, and not a voiced frame since:
                        # silence does not change the words, so no need to ask the decoder again
                        # (that wait was 13-67 ms at 50 calls, the decoder busy with other callers).
                        text = guessed_text
                    else:
                        asked_at = time.perf_counter()
                        text = await utterance.partial()
                        partial_wait_s += time.perf_counter() - asked_at
                    while not frames.empty():        # the caller may have gone on meanwhile
                        utterance = self._push(endpointer, *frames.get_nowait(), utterance, grammar)
                    complete = answer_is_complete(text, self.language, grammar)
                    if endpointer.should_end(time.perf_counter(), complete):
                        if on_complete is not None and complete and text != guessed_text:
                            on_complete(text)
                        quick_end = complete
                        break
                elif endpointer.should_end(time.perf_counter(), False):
                    break
            ended_at = time.perf_counter()
            text = await utterance.finish()
            assert endpointer.last_voice_at is not None
            log.debug("answer over %.0f ms after the last voice, decoded %.0f ms later: %r",
                      (ended_at - endpointer.last_voice_at) * 1000, (time.perf_counter() - ended_at) * 1000, text)
            return SpeechHeard(text, endpointer.last_voice_at, utterance.cpu_s, partial_wait_s,
                               time.perf_counter() - ended_at, quick_end)
        finally:
            if utterance is not None:
                utterance.cancel()      # no-op once finished

    def _push(self, endpointer: Endpointer, frame: bytes, arrived_at: float,
              utterance: Utterance | LocalUtterance | None, grammar: str) -> Utterance | LocalUtterance | None:
        for heard in endpointer.push(frame, arrived_at):
            if utterance is None:
                utterance = self.ears.recognizer.open(grammar)
            utterance.feed(heard)
        return utterance
