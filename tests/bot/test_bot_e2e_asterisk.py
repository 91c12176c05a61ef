"""End to end on the real Asterisk 22: the FastAGI bot (`dialer agi-server`'s service) talks to
Local-channel callees that play espeak-ng speech and send keys (see benchmarks/bot_calls.py)."""

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
from dialer.bot.asr import PocketsphinxEngine
from dialer.bot.demo_store import InMemoryCallContexts, InMemoryOutcomes
from dialer.bot.fastagi import BotService, ScriptLibrary, serve
from dialer.bot.record import Disposition
from dialer.bot.script_walk import example_context
from dialer.bot.tts import EspeakEngine, PromptCache, Voice
from dialer.domain import Party

pytestmark = pytest.mark.asterisk
_ids = itertools.count(int(time.time()) % 100000 * 100)


class SpokenLog(EspeakEngine):
    """The real espeak-ng engine, remembering every text it was asked to speak."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def synthesize(self, text: str, voice: Voice, out_wav: Path) -> None:
        self.texts.append(text)
        super().synthesize(text, voice, out_wav)


@pytest.fixture(scope="module")
def harness():
    instance = BotHarness.start()
    instance.install()
    try:
        yield instance
    finally:
        instance.stop()


async def bot_call(harness: BotHarness, behaviour: str, **context_changes):
    attempt_id = str(next(_ids))
    contexts = InMemoryCallContexts()
    contexts.add(replace(example_context("en-US", date.today()), attempt_id=attempt_id, campaign_id="e2e",
                         **context_changes))
    outcomes = InMemoryOutcomes()
    spoken = SpokenLog()
    # A fresh prompt cache per test so every prompt the call plays is synthesised (and logged) here.
    cache_dir = harness.audio_host_dir / f"tts-{attempt_id}"
    service = BotService(contexts=contexts, outcomes=outcomes, scripts=ScriptLibrary(),
                         prompts=PromptCache(spoken, cache_dir), asr=PocketsphinxEngine(),
                         paths=AudioPaths(harness.audio_host_dir, harness.audio_asterisk_dir))
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
    (_, record), = outcomes.records
    return record, spoken.texts


def next_friday(today: date) -> date:
    """The Friday of the week after this one (the convention documented in dialer/bot/nlu_dates.py)."""
    monday_next_week = today + timedelta(days=7 - today.weekday())
    return monday_next_week + timedelta(days=4)


async def test_given_a_callee_who_says_he_will_pay_200_next_friday_then_a_promise_of_200_on_that_friday(harness):
    record, spoken = await bot_call(harness, "promise", amount_due=Decimal("200.00"), dpd=4)
    assert record.verified and record.party == Party.DEBTOR
    assert record.promise is not None, record.transcript
    assert record.promise.amount == Decimal("200.00")
    assert record.promise.due == next_friday(date.today()), record.transcript
    assert record.disposition == Disposition.PROMISE_TO_PAY
    heard = [t.text for t in record.transcript if t.speaker == "caller"]
    assert any("two hundred" in text for text in heard)


async def test_given_a_wrong_number_callee_then_the_amount_is_never_spoken(harness):
    record, spoken = await bot_call(harness, "wrong")
    assert record.party == Party.WRONG_NUMBER and record.suppress_contact, record.transcript
    bot_said = " ".join(t.text for t in record.transcript if t.speaker == "bot")
    for text in (bot_said, " ".join(spoken)):
        assert "dollars" not in text and "twelve" not in text and "overdue" not in text
    assert not record.disclosed


async def test_given_a_callee_who_says_stop_calling_then_an_opt_out_is_recorded(harness):
    record, spoken = await bot_call(harness, "stop")
    assert record.opt_out and record.disposition == Disposition.OPTED_OUT, record.transcript
    assert any("will not call this number again" in text for text in spoken)
