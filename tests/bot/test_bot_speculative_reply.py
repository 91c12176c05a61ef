"""Live listening: the reply to a complete answer is synthesised while the decoder finishes
(`AgiDialogRunner._speculate`), without moving the real dialog."""

import asyncio
import copy
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from dialer.bot.actions import Done, Heard, Keyed, Listen, Say
from dialer.bot.agi_dialog import AgiDialogRunner, AudioPaths
from dialer.bot.asr import NoSpeechEngine
from dialer.bot.engine import DialogSession
from dialer.bot.fastagi import ScriptLibrary
from dialer.bot.script_walk import example_context
from dialer.bot.tts import PromptCache, Voice

VOICE = Voice("bot", "en-us", 160, 50)


class CountingEngine:
    """Writes a tiny valid wav instead of speaking, and remembers what it was asked to say."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def synthesize(self, text: str, voice: Voice, out_wav: Path) -> None:
        import wave
        self.texts.append(text)
        with wave.open(str(out_wav), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(8000)
            wav.writeframes(b"\0" * 160)


def session_at_the_payment_question() -> DialogSession:
    context = replace(example_context("en-US", date.today()), amount_due=Decimal("200.00"), dpd=4)
    session = DialogSession(ScriptLibrary().get(context.script, "en-US"), context)
    answers = iter(["1", "1985"])          # it's me; birth year
    action = session.start()
    while not (isinstance(action, Listen) and action.grammar == "payment"):
        action = session.feed(Done() if isinstance(action, Say) else Keyed(next(answers)))
    return session


async def speculate(runner: AgiDialogRunner, text: str) -> None:
    runner._speculate(text)
    await asyncio.gather(*runner._speculating)


def test_given_a_whole_promise_heard_so_far_then_its_read_back_is_synthesised_and_the_dialog_does_not_move(tmp_path):
    engine = CountingEngine()
    runner = AgiDialogRunner(send=None, prompts=PromptCache(engine, tmp_path), asr=NoSpeechEngine(),  # type: ignore[arg-type]
                             paths=AudioPaths(tmp_path, str(tmp_path)), voice=VOICE, language="en-US")
    session = session_at_the_payment_question()
    runner._session = session
    before = copy.deepcopy(session.record)
    expected = copy.deepcopy(session, {id(session.script): session.script}).feed(
        Heard("i will pay two hundred dollars next friday"))
    assert isinstance(expected, Say) and "two hundred dollars" in expected.text

    asyncio.run(speculate(runner, "i will pay two hundred dollars next friday"))

    assert engine.texts == [expected.text]
    assert runner.prompts.is_cached(expected.text, VOICE)
    # The real dialog still waits for the payment answer, with nothing recorded from the guess.
    assert session.record == before
    assert isinstance(session._waiting, Listen) and session._waiting.grammar == "payment"
    assert session.feed(Heard("i will pay two hundred dollars next friday")) == expected


def test_given_a_reply_already_cached_then_nothing_is_synthesised_again(tmp_path):
    engine = CountingEngine()
    runner = AgiDialogRunner(send=None, prompts=PromptCache(engine, tmp_path), asr=NoSpeechEngine(),  # type: ignore[arg-type]
                             paths=AudioPaths(tmp_path, str(tmp_path)), voice=VOICE, language="en-US")
    runner._session = session_at_the_payment_question()
    asyncio.run(speculate(runner, "stop calling me"))
    asyncio.run(speculate(runner, "stop calling me"))
    assert len(engine.texts) == 1
