"""One benchmark call on the wire, on the real Asterisk 22 and the real FastAGI bot: the "promise"
debtor (keys, keys, a spoken promise, a key) recorded on its leg; every caller turn is found and
answered, and what the caller waits is never less than what the bot measures inside itself."""

import asyncio

import pytest

from benchmarks.bot_latency import run
from dialer.bot.asr_pool import RecognizerPool
from dialer.bot.prompt_prep import PromptPreparer

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]
FRAME_MS = 20


def test_given_the_promise_debtor_on_the_wire_then_its_four_turns_are_found_and_answered(harness):
    with RecognizerPool(workers=2) as asr:
        preparer = PromptPreparer()
        try:
            row = asyncio.run(run(harness, 1, "cached", harness.audio_host_dir / "wire-test-prompts", asr, preparer))
        finally:
            preparer.close()
    assert (row["finished"], row["promises_200"]) == (1, 1)
    wire = row["wire"]
    assert (wire["speech"]["turns"], wire["keys"]["turns"], wire["unanswered"]) == (1, 3, 0)
    # The caller waits at least the bot's own part of the turn (handed back → reply sent).
    assert wire["speech"]["p50_ms"] >= row["after_speech"]["p50_ms"] - FRAME_MS
    assert wire["keys"]["p95_ms"] >= row["after_keys"]["p95_ms"] - FRAME_MS
    # A key is answered quickly by any listening mode: the wire sees it within a second.
    assert wire["keys"]["p95_ms"] < 1000
