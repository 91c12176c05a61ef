"""A listening step heard live (dialer/bot/stream_listen.py).

First when the words heard so far already make an answer (answer_is_complete): only then may a
short pause (quick_end_s) end the caller's turn; anything that usually goes on waits the full end_s.
Then whole steps (StreamingEar, Ears.open_tap) over the real tap listener, AGI pipe and decoder,
with Asterisk played by the test (the real-Asterisk tests are test_bot_e2e_asterisk.py's)."""

import asyncio
import socket
import time
import uuid
import wave
from datetime import date

import numpy as np
import pytest

from dialer.bot.agi_protocol import AgiPipe
from dialer.bot.asr_stream import StreamingRecognizer
from dialer.bot.audio_tap import KIND_AUDIO, KIND_UUID, TapServer, encode
from dialer.bot.endpoint import FRAME_S, EndpointConfig, FrameSplitter
from dialer.bot.intents import Intent
from dialer.bot.nlu import recognise
from dialer.bot.stream_listen import Ears, SpeechHeard, StreamingEar, answer_is_complete
from dialer.bot.tts import EspeakEngine, PromptCache, Voice


@pytest.mark.parametrize("text,language,grammar", [
    ("yes", "en-US", "identity"),
    ("yes speaking", "en-US", "identity"),
    ("stop calling me", "en-US", "payment"),
    ("sorry you have the wrong number", "en-US", "identity"),
    ("I will pay two hundred dollars next Friday", "en-US", "payment"),
    ("I will pay next Friday", "en-US", "payment"),
    ("I can pay fifty dollars on Friday", "en-US", "payment"),
    ("I already paid", "en-US", "payment"),
    ("是的", "zh-CN", "identity"),
    ("别再打了", "zh-CN", "payment"),
    ("你打错了", "zh-CN", "identity"),
    ("我月底还", "zh-CN", "payment"),
    ("我下周五还两百", "zh-CN", "payment"),
])
def test_given_a_whole_answer_when_checked_at_a_short_pause_then_it_is_complete(text, language, grammar):
    assert answer_is_complete(text, language, grammar)


@pytest.mark.parametrize("text,language,grammar", [
    # A promise without its date: the date usually comes next ("... next Friday").
    ("I will pay two hundred dollars", "en-US", "payment"),
    ("I will pay", "en-US", "payment"),
    ("I can pay fifty dollars", "en-US", "payment"),
    ("我会还的", "zh-CN", "payment"),
    # A callback: its time usually comes last, with or without one heard so far.
    ("call me back later", "en-US", "payment"),
    ("call me at six p m", "en-US", "identity"),
    ("你晚点再打", "zh-CN", "payment"),
    # Nothing, or nothing the recogniser understands.
    ("", "en-US", "payment"),
    ("   ", "en-US", "identity"),
    ("", "zh-CN", "payment"),
    ("purple elephant", "en-US", "payment"),
])
def test_given_an_answer_that_usually_goes_on_when_checked_at_a_short_pause_then_it_is_incomplete(
        text, language, grammar):
    assert not answer_is_complete(text, language, grammar)


@pytest.mark.parametrize("text", ["one nine eight five", "yes", "stop calling me", "nineteen eighty"])
def test_given_the_digits_grammar_then_no_answer_is_ever_complete_as_more_digits_may_follow(text):
    assert not answer_is_complete(text, "en-US", "digits")
    assert not answer_is_complete("一九八五", "zh-CN", "digits")


# ---- a listening step end to end, without Asterisk ---------------------------------------------------
# The real tap listener, the real AgiPipe and a real streaming decoder; Asterisk's side is played
# by FakeChannel (WAIT FOR DIGIT ends on a key, its timeout, or a command written meanwhile, which
# it answers with result=1 as Asterisk does) and FakeAudioSocket (the ChanSpy leg: speech frames at
# 20 ms pace, then nothing, as over a Local channel).

QUICK_END_S = 0.2
END_S = 1.5          # far from the quick end, so which one ended the turn shows despite a loaded CPU
CALLER = Voice("caller", "en-us", 160, 50)


async def _cancelled(tasks: set[asyncio.Future]) -> None:
    # Awaited, not just cancelled: a readline cancelled but not yet unwound still holds the
    # StreamReader, and the next readline would fail ("already waiting for incoming data").
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class FakeChannel:
    """Asterisk's AGI side of one call, as far as a listening step uses it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, taps: TapServer) -> None:
        self.reader = reader
        self.writer = writer
        self.taps = taps
        self.commands: list[str] = []
        self.keys: asyncio.Queue[str] = asyncio.Queue()
        self.spies: list[FakeAudioSocket] = []
        self.uniqueid: str | None = "1700000000.42"
        self.originate_fails = False
        self.prompt_s = 3.0             # how long a STREAM FILE plays
        self.prompt_ends_first = False  # the race: a prompt ends just before the NOOP meant to stop it

    async def run(self) -> None:
        line = await self.reader.readline()
        while line:
            command = line.decode().rstrip("\n")
            self.commands.append(command)
            line = b""
            if command.startswith("WAIT FOR DIGIT"):
                reply, line = await self._wait_for_digit(int(command.split()[-1]) / 1000)
            elif command.startswith("STREAM FILE"):
                reply, line = await self._stream_file()
                if reply is None:       # stopped by the next command: Asterisk prints nothing
                    continue
            elif command == "GET VARIABLE UNIQUEID":
                reply = f"200 result=1 ({self.uniqueid})" if self.uniqueid else "200 result=0"
            elif command.startswith("EXEC Originate AudioSocket/"):
                reply = "200 result=-1" if self.originate_fails else await self._originate(command)
            else:
                reply = "200 result=0"
            self.writer.write(reply.encode() + b"\n")
            await self.writer.drain()
            if not line:
                line = await self.reader.readline()

    async def _wait_for_digit(self, timeout_s: float) -> tuple[str, bytes]:
        next_line = asyncio.ensure_future(self.reader.readline())
        key = asyncio.ensure_future(self.keys.get())
        done, _ = await asyncio.wait({next_line, key}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        await _cancelled({next_line, key} - done)   # StreamReader keeps unread data when readline is cancelled
        if key in done:
            return f"200 result={ord(key.result())}", b""
        if next_line in done:
            return "200 result=1", next_line.result()      # the socket became readable
        return "200 result=0", b""

    async def _stream_file(self) -> tuple[str | None, bytes]:
        next_line = asyncio.ensure_future(self.reader.readline())
        key = asyncio.ensure_future(self.keys.get())
        done, _ = await asyncio.wait({next_line, key}, timeout=self.prompt_s, return_when=asyncio.FIRST_COMPLETED)
        await _cancelled({next_line, key} - done)
        if key in done:
            return f"200 result={ord(key.result())} endpos=800", b""
        if next_line in done:
            if self.prompt_ends_first:
                return f"200 result=0 endpos={int(self.prompt_s * 8000)}", next_line.result()
            return None, next_line.result()
        return f"200 result=0 endpos={int(self.prompt_s * 8000)}", b""

    async def _originate(self, command: str) -> str:
        # EXEC Originate AudioSocket/<host>:<port>/<uuid>,app,ChanSpy,<uniqueid>\\,qoEu,,,a
        target = command.split()[2]
        address, tap_id = target.split(",")[0].removeprefix("AudioSocket/").split("/")
        host, port = address.rsplit(":", 1)
        assert f"ChanSpy,{self.uniqueid}" in command
        reader, writer = await asyncio.open_connection(host, int(port))
        spy = FakeAudioSocket(reader, writer)
        await spy.send(KIND_UUID, uuid.UUID(tap_id).bytes)
        self.spies.append(spy)
        return "200 result=0"


class FakeAudioSocket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, kind: int, payload: bytes = b"") -> None:
        self.writer.write(encode(kind, payload))
        await self.writer.drain()

    async def speak(self, pcm: bytes) -> None:
        """The caller's audio at its real pace, 20 ms frames; then nothing (a silent Local channel)."""
        started = asyncio.get_running_loop().time()
        for number, frame in enumerate(FrameSplitter().split(pcm)):
            await asyncio.sleep(max(0.0, started + number * FRAME_S - asyncio.get_running_loop().time()))
            await self.send(KIND_AUDIO, frame)


@pytest.fixture(scope="module")
def recognizer():
    with StreamingRecognizer(workers=1, preload=1) as started:
        yield started


@pytest.fixture(scope="module")
def caller_says(tmp_path_factory):
    cache = PromptCache(EspeakEngine(), tmp_path_factory.mktemp("callers"))

    def pcm(text: str) -> bytes:
        with wave.open(str(cache.path_for(text, CALLER))) as wav:
            return wav.readframes(wav.getnframes())

    return pcm


@pytest.fixture
async def call(recognizer):
    taps = await TapServer(port=0).start()
    ours, theirs = socket.socketpair()
    agi_reader, agi_writer = await asyncio.open_connection(sock=ours)
    channel = FakeChannel(*(await asyncio.open_connection(sock=theirs)), taps)
    running = asyncio.ensure_future(channel.run())
    pipe = AgiPipe(agi_reader, agi_writer)
    ears = Ears(taps=taps, recognizer=recognizer, config=EndpointConfig(quick_end_s=QUICK_END_S, end_s=END_S))
    yield ears, pipe, channel
    await pipe.close()
    agi_writer.close()
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    channel.writer.close()
    for spy in channel.spies:
        spy.writer.close()
    await taps.close()


async def listen(ears: Ears, pipe: AgiPipe, channel: FakeChannel, pcm: bytes | None, grammar: str,
                 timeout_s: float = 5.0, key: tuple[float, str] | None = None):
    """One listening step while the caller says `pcm` (None: silence) or presses `key` (after s)."""
    tap = await ears.open_tap(pipe.send)
    assert tap is not None and await tap.wait_connected(1.0)
    ear = StreamingEar(tap, ears, "en-US")
    step = asyncio.ensure_future(ear.hear(grammar, timeout_s, pipe.send))
    await asyncio.sleep(0.05)                       # the question has been asked
    speaking = asyncio.ensure_future(channel.spies[-1].speak(pcm or b""))
    if key is not None:
        await asyncio.sleep(key[0])
        channel.keys.put_nowait(key[1])
    heard = await asyncio.wait_for(step, timeout_s + END_S + 10)
    speaking.cancel()                               # a key may end the step mid-sentence
    await asyncio.gather(speaking, return_exceptions=True)
    ended_at = time.perf_counter()
    await ear.close()
    ears.close_tap(tap)
    return heard, ended_at


@pytest.mark.slow
@pytest.mark.parametrize("text,intent", [("stop calling me", Intent.STOP_CALLING),
                                         ("I will pay two hundred dollars next Friday", Intent.PROMISE_LATER)])
async def test_given_a_complete_answer_on_the_tap_then_the_step_ends_a_short_pause_after_it(
        call, caller_says, text, intent):
    ears, pipe, channel = call
    heard, ended_at = await listen(ears, pipe, channel, caller_says(text), "payment")
    assert isinstance(heard, SpeechHeard)
    assert recognise(heard.text, "en-US", date.today()).intent == intent, heard.text
    assert QUICK_END_S <= ended_at - heard.last_voice_at < END_S, "the full end_s was waited"
    # WAIT FOR DIGIT was ended by a NOOP on the socket, not by its own timeout.
    assert channel.commands[-2:] == ["WAIT FOR DIGIT 5000", "NOOP"]


@pytest.mark.slow
async def test_given_a_promise_without_its_date_then_the_step_waits_the_full_end_s(call, caller_says):
    ears, pipe, channel = call
    heard, ended_at = await listen(ears, pipe, channel, caller_says("I will pay two hundred dollars"), "payment")
    assert isinstance(heard, SpeechHeard)
    assert recognise(heard.text, "en-US", date.today()).intent == Intent.PROMISE_LATER, heard.text
    assert ended_at - heard.last_voice_at >= END_S


@pytest.mark.slow
async def test_given_a_key_while_the_caller_speaks_then_the_key_is_the_answer(call, caller_says):
    ears, pipe, channel = call
    started = time.perf_counter()
    heard, ended_at = await listen(ears, pipe, channel, caller_says("I will pay two hundred dollars"), "payment",
                                   key=(0.6, "5"))
    assert heard == "5"
    assert ended_at - started < 1.5                 # the sentence lasts ~2 s: the key did not wait for it


@pytest.mark.slow
async def test_given_silence_until_the_timeout_then_the_step_hears_nothing(call):
    ears, pipe, channel = call
    heard, _ = await listen(ears, pipe, channel, None, "payment", timeout_s=0.5)
    assert heard is None
    assert channel.commands[-1] == "WAIT FOR DIGIT 500"


@pytest.mark.slow
async def test_given_a_channel_without_uniqueid_or_a_failed_originate_then_no_tap_is_opened(call):
    ears, pipe, channel = call
    channel.uniqueid = None
    assert await ears.open_tap(pipe.send) is None
    channel.uniqueid = "1700000000.42"
    channel.originate_fails = True
    assert await ears.open_tap(pipe.send) is None
    assert not channel.spies


# ---- voice barge-in: the caller answers while the question still plays -------------------------------

async def prompt_then_question(ears: Ears, pipe: AgiPipe, channel: FakeChannel, pcm: bytes, speak_after_s: float,
                               grammar: str = "payment"):
    """Play a prompt the caller may talk over, starting to speak `speak_after_s` into it, then ask."""
    tap = await ears.open_tap(pipe.send)
    assert tap is not None and await tap.wait_connected(1.0)
    ear = StreamingEar(tap, ears, "en-US")
    assert ear.barges_in
    started = time.perf_counter()
    playing = asyncio.ensure_future(pipe.send('STREAM FILE /x/question "0123456789*#"'))
    spoke_over = asyncio.ensure_future(ear.over_prompt(playing, pipe.send))
    await asyncio.sleep(speak_after_s)
    speaking = asyncio.ensure_future(channel.spies[-1].speak(pcm))
    barged = await asyncio.wait_for(spoke_over, channel.prompt_s + 5)
    prompt_reply = await playing
    prompt_over_s = time.perf_counter() - started
    heard = await asyncio.wait_for(ear.hear(grammar, 5.0, pipe.send), 20)
    await speaking
    await ear.close()
    ears.close_tap(tap)
    return barged, prompt_reply, prompt_over_s, heard


@pytest.mark.slow
async def test_given_the_caller_answers_over_the_prompt_then_it_stops_and_the_whole_answer_is_heard(
        call, caller_says):
    ears, pipe, channel = call
    channel.prompt_s = 6.0
    barged, prompt_reply, prompt_over_s, heard = await prompt_then_question(
        ears, pipe, channel, caller_says("I will pay two hundred dollars next Friday"), speak_after_s=0.5)
    assert barged
    assert prompt_reply["result"] == ("1", "stopped")
    assert prompt_over_s < 2.5, "the prompt was not stopped soon after the caller began"
    # Nothing of the answer was lost to the switch from the prompt to the question.
    assert isinstance(heard, SpeechHeard)
    recognition = recognise(heard.text, "en-US", date.today())
    assert recognition.intent == Intent.PROMISE_LATER and recognition.amount == 200, heard.text
    # The prompt stopped by a NOOP, the question's wait for keys, and the NOOP that ended it.
    stream, noop, wait, last = channel.commands[-4:]
    assert stream.startswith("STREAM FILE") and noop == "NOOP" and wait.startswith("WAIT FOR DIGIT")
    assert last == "NOOP"


@pytest.mark.slow
async def test_given_a_short_sound_over_the_prompt_then_the_prompt_plays_to_its_end(call, caller_says):
    # A click or a breath under barge_in_s (0.4 s) of voice: not the answer starting.
    ears, pipe, channel = call
    channel.prompt_s = 2.0
    burst = (np.random.default_rng(7).normal(0, 6000, 1600)).astype("<i2").tobytes()   # 0.2 s of noise
    barged, prompt_reply, prompt_over_s, heard = await prompt_then_question(
        ears, pipe, channel, burst, speak_after_s=0.3)
    assert not barged
    assert prompt_reply["result"] == ("0", "") and "endpos" in prompt_reply
    assert prompt_over_s >= channel.prompt_s
    assert heard is None or isinstance(heard, SpeechHeard)


@pytest.mark.slow
async def test_given_barge_in_off_then_the_ear_never_stops_a_prompt(recognizer):
    taps = await TapServer(port=0).start()
    try:
        ears = Ears(taps=taps, recognizer=recognizer, config=EndpointConfig(barge_in_s=0))
        tap = taps.new_tap()
        tap.connected.set()
        assert not StreamingEar(tap, ears, "en-US").barges_in
    finally:
        await taps.close()


@pytest.mark.slow
async def test_given_a_prompt_that_ended_as_the_caller_began_then_the_next_prompt_stops_at_once_and_nothing_is_lost(
        call, caller_says):
    ears, pipe, channel = call
    channel.prompt_s, channel.prompt_ends_first = 6.0, True
    tap = await ears.open_tap(pipe.send)
    assert tap is not None and await tap.wait_connected(1.0)
    ear = StreamingEar(tap, ears, "en-US")
    first = asyncio.ensure_future(pipe.send('STREAM FILE /x/first ""'))
    spoke = asyncio.ensure_future(ear.over_prompt(first, pipe.send))
    await asyncio.sleep(0.3)
    speaking = asyncio.ensure_future(channel.spies[-1].speak(caller_says("I will pay two hundred dollars next Friday")))
    assert await asyncio.wait_for(spoke, 10)
    assert (await first)["result"] == ("0", "")          # it ended on its own: its reply came
    channel.prompt_ends_first = False
    second = asyncio.ensure_future(pipe.send('STREAM FILE /x/second ""'))
    assert await asyncio.wait_for(ear.over_prompt(second, pipe.send), 1.0)
    assert (await asyncio.wait_for(second, 1.0))["result"] == ("1", "stopped")
    heard = await asyncio.wait_for(ear.hear("payment", 5.0, pipe.send), 20)
    await speaking
    await ear.close()
    ears.close_tap(tap)
    assert isinstance(heard, SpeechHeard)
    recognition = recognise(heard.text, "en-US", date.today())
    assert recognition.intent == Intent.PROMISE_LATER and recognition.amount == 200, heard.text
