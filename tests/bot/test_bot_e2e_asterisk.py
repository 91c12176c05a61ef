"""End to end on the real Asterisk 22: the FastAGI bot (`dialer agi-server`'s service) talks to
Local-channel callees that play espeak-ng speech and send keys (see benchmarks/bot_calls.py).

Every test runs twice: the bot hearing the caller live over its audio tap (AudioSocket + ChanSpy,
streaming decoders, its own end of speech: `dialer agi-server`'s default) and by RECORD FILE."""

import asyncio
import itertools
import time
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from benchmarks.bot_calls import AGI_PORT, BotHarness
from dialer.bot.agi_dialog import AudioPaths
from dialer.bot.asr_pool import RecognizerPool
from dialer.bot.asr_stream import StreamingRecognizer
from dialer.bot.audio_tap import TapServer
from dialer.bot.demo_store import InMemoryCallContexts, InMemoryOutcomes
from dialer.bot.fastagi import BotService, ScriptLibrary, serve
from dialer.bot.prompt_prep import PromptPreparer
from dialer.bot.record import Disposition
from dialer.bot.script_walk import example_context
from dialer.bot.stream_listen import Ears
from dialer.bot.tts import EspeakEngine, PromptCache, Voice
from dialer.domain import Party

pytestmark = pytest.mark.asterisk
_ids = itertools.count(int(time.time()) % 100000 * 100)


class SpokenLog(EspeakEngine):
    """The real espeak-ng engine, remembering the text of every prompt file it made."""

    def __init__(self) -> None:
        super().__init__()
        self.by_file: dict[str, str] = {}

    def synthesize(self, text: str, voice: Voice, out_wav: Path) -> None:
        # PromptCache writes ".<name>.<random>.tmp.wav" and renames it to "<name>.wav".
        self.by_file[out_wav.name.lstrip(".").split(".")[0]] = text
        super().synthesize(text, voice, out_wav)


class ListenedBotService(BotService):
    """The real service, keeping the AGI commands it sent (to know which prompts were played)."""

    commands: list[str]

    async def run_call(self, send):
        self.commands = []

        async def logged(command: str):
            self.commands.append(command)
            return await send(command)

        await super().run_call(logged)

    def played(self, spoken: SpokenLog) -> list[str]:
        files = [c.split()[2].rsplit("/", 1)[-1] for c in self.commands if c.startswith("STREAM FILE")]
        return [spoken.by_file[name] for name in files]


@pytest.fixture(scope="module")
def harness():
    instance = BotHarness.start()
    instance.install()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="module")
def recognizer():
    """The recogniser `dialer agi-server` runs: pre-warmed worker processes."""
    with RecognizerPool(workers=2) as pool:
        yield pool


@pytest.fixture(scope="module")
def streaming():
    """The live recogniser `dialer agi-server` runs by default: streaming decoders in worker processes."""
    with StreamingRecognizer(workers=2) as live:
        yield live


@pytest.fixture(params=["stream", "record"])
def listen(request, streaming):
    return streaming if request.param == "stream" else None


async def bot_call(harness: BotHarness, recognizer, behaviour: str, live: StreamingRecognizer | None = None,
                   **context_changes):
    attempt_id = str(next(_ids))
    contexts = InMemoryCallContexts()
    contexts.add(replace(example_context("en-US", date.today()), attempt_id=attempt_id, campaign_id="e2e",
                         **context_changes))
    outcomes = InMemoryOutcomes()
    spoken = SpokenLog()
    # A fresh prompt cache per test so every prompt the call plays is synthesised (and logged) here.
    cache_dir = harness.audio_host_dir / f"tts-{attempt_id}"
    preparer = PromptPreparer(workers=1)
    taps = await TapServer().start() if live is not None else None
    service = ListenedBotService(contexts=contexts, outcomes=outcomes, scripts=ScriptLibrary(),
                                 prompts=PromptCache(spoken, cache_dir), asr=recognizer,
                                 paths=AudioPaths(harness.audio_host_dir, harness.audio_asterisk_dir),
                                 preparer=preparer,
                                 ears=Ears(taps=taps, recognizer=live) if taps is not None and live else None)
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    async with asyncio.TaskGroup() as group:
        group.create_task(serve(service, "127.0.0.1", AGI_PORT, stop=stop, ready=ready))
        await ready
        try:
            await asyncio.to_thread(harness.call, behaviour, attempt_id)
            await asyncio.wait_for(outcomes.arrived.wait(), timeout=120)
        finally:
            stop.set()
            preparer.close()
            if taps is not None:
                await taps.close()
    (_, record), = outcomes.records
    if live is not None:
        # Heard live, not by RECORD FILE: the tap carried the call's audio and no recording was made.
        assert not any(c.startswith("RECORD FILE") for c in service.commands), service.commands
        assert any(c.startswith("EXEC Originate AudioSocket/") for c in service.commands)
    return record, service.played(spoken)


async def test_given_a_callee_who_says_he_will_pay_200_tomorrow_then_a_promise_of_200_on_that_date(
        harness, recognizer, listen):
    record, played = await bot_call(harness, recognizer, "promise", listen, amount_due=Decimal("200.00"), dpd=4)
    assert record.verified and record.party == Party.DEBTOR
    assert record.promise is not None, record.transcript
    assert record.promise.amount == Decimal("200.00")
    # The far end's date: the context's "today" is the test machine's date (example_context).
    assert record.promise.due == date.today() + timedelta(days=1), record.transcript
    assert record.disposition == Disposition.PROMISE_TO_PAY
    heard = [t.text for t in record.transcript if t.speaker == "caller"]
    assert any("two hundred" in text for text in heard)


async def test_given_a_wrong_number_callee_then_the_amount_is_never_spoken(harness, recognizer, listen):
    record, played = await bot_call(harness, recognizer, "wrong", listen)
    assert record.party == Party.WRONG_NUMBER and record.suppress_contact, record.transcript
    bot_said = " ".join(t.text for t in record.transcript if t.speaker == "bot")
    assert played, "no prompt was played"
    for text in (bot_said, " ".join(played)):
        assert "dollars" not in text and "twelve" not in text and "overdue" not in text
    assert not record.disclosed


async def test_given_a_callee_who_says_stop_calling_then_an_opt_out_is_recorded(harness, recognizer, listen):
    record, played = await bot_call(harness, recognizer, "stop", listen)
    assert record.opt_out and record.disposition == Disposition.OPTED_OUT, record.transcript
    assert any("will not call this number again" in text for text in played)


async def test_given_a_callee_who_answers_over_the_question_then_the_prompt_stops_and_the_answer_is_heard_whole(
        harness, recognizer, streaming):
    # Live listening only: the callee starts its promise about 2 s into the ~8 s stage prompt.
    record, played = await bot_call(harness, recognizer, "barge", streaming, amount_due=Decimal("200.00"), dpd=4)
    bot_turns = [t for t in record.transcript if t.speaker == "bot"]
    stopped = [i for i, t in enumerate(bot_turns) if t.text.startswith("[stopped: the caller spoke over")]
    # Asterisk stopped the stage prompt (STREAM FILE ended by the bot's NOOP, no reply of its own).
    assert len(stopped) == 1, record.transcript
    assert "overdue" in bot_turns[stopped[0] - 1].text
    assert record.promise is not None and record.promise.amount == Decimal("200.00"), record.transcript
    assert record.promise.due == date.today() + timedelta(days=1), record.transcript
    assert record.disposition == Disposition.PROMISE_TO_PAY
