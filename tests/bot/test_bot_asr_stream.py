"""Streaming recognition (dialer/bot/asr_stream.py): real pocketsphinx decoders in a real worker
process, fed espeak-ng answers at 8 kHz in 20 ms frames as the live tap would (from the onset's
pre-roll to the end of speech, cut by the Endpointer with the real VAD)."""

import asyncio
import logging
import os
import threading
import time
import wave
from datetime import date
from decimal import Decimal

import pytest

from dialer.bot.asr_stream import StreamingRecognizer
from dialer.bot.endpoint import EndpointConfig, Endpointer, FrameSplitter, Phase, pocketsphinx_vad
from dialer.bot.intents import Intent
from dialer.bot.nlu import recognise
from dialer.bot.tts import EspeakEngine, PromptCache, Voice

pytestmark = pytest.mark.slow   # a worker process loading decoders, ~25 s of decoding on 2 cores

CALLER = Voice("caller", "en-us", 160, 50)     # not the warm-up voice (en-us+m3)
TODAY = date(2026, 11, 22)                    # a Sunday
PAYMENT = "I will pay two hundred dollars next Friday"
DECODER_MB = 70      # a loaded decoder: ~70 MB resident (asr_stream.py), measured ~95 MB here


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    cache = PromptCache(EspeakEngine(), tmp_path_factory.mktemp("callers"))

    def frames_heard(text: str) -> list[bytes]:
        with wave.open(str(cache.path_for(text, CALLER))) as wav:
            assert wav.getframerate() == 8000
            pcm = wav.readframes(wav.getnframes())
        endpointer = Endpointer(EndpointConfig(), pocketsphinx_vad())
        heard: list[bytes] = []
        for number, frame in enumerate(FrameSplitter().split(pcm)):
            heard.extend(endpointer.push(frame, number * 0.02))
        assert endpointer.phase is Phase.SPEAKING, f"no speech found in {text!r}"
        return heard

    return frames_heard


@pytest.fixture(scope="module")
def recognizer():
    # One decoder preloaded, so two answers at once already need a decoder loaded on demand.
    with StreamingRecognizer(workers=1, preload=1) as started:
        yield started


def worker_rss_mb(recognizer: StreamingRecognizer) -> float:
    pid = recognizer._workers[0].process.pid
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


async def hear(recognizer: StreamingRecognizer, frames: list[bytes], grammar: str) -> str:
    utterance = recognizer.open(grammar)
    for frame in frames:
        utterance.feed(frame)
    return await utterance.finish()


@pytest.mark.parametrize("text,grammar,intent", [
    ("stop calling me", "payment", Intent.STOP_CALLING),
    ("yes", "confirm", Intent.AFFIRM),
    ("yes", "identity", Intent.AFFIRM),
    (PAYMENT, "payment", Intent.PROMISE_LATER),
])
async def test_given_an_answer_fed_frame_by_frame_then_the_step_grammar_hears_its_intent(
        recognizer, speech, text, grammar, intent):
    heard = await hear(recognizer, speech(text), grammar)
    assert recognise(heard, "en-US", TODAY).intent == intent, heard


async def test_given_a_payment_promise_fed_live_then_its_amount_and_a_friday_are_heard(recognizer, speech):
    heard = await hear(recognizer, speech(PAYMENT), "payment")
    promise = recognise(heard, "en-US", TODAY)
    assert promise.amount == Decimal("200"), heard
    assert promise.promised_date is not None and promise.promised_date.weekday() == 4, heard


async def test_given_half_an_answer_then_partial_is_roughly_a_prefix_of_the_final_text(recognizer, speech):
    frames = speech(PAYMENT)
    utterance = recognizer.open("payment")
    for frame in frames[:len(frames) * 2 // 3]:
        utterance.feed(frame)
    so_far = await utterance.partial()
    for frame in frames[len(frames) * 2 // 3:]:
        utterance.feed(frame)
    final = await utterance.finish()
    # The last word of a partial hypothesis is still in flux ("two hundred the" -> "two hundred dollars").
    settled = so_far.split()[:-1]
    assert len(settled) >= 2, (so_far, final)
    assert final.split()[:len(settled)] == settled, (so_far, final)
    assert len(so_far.split()) < len(final.split()) + 1


async def test_given_a_whole_answer_fed_then_partial_already_holds_its_words(recognizer, speech):
    utterance = recognizer.open("payment")
    for frame in speech("stop calling me"):
        utterance.feed(frame)
    so_far = await utterance.partial()
    assert recognise(so_far, "en-US", TODAY).intent == Intent.STOP_CALLING, so_far
    assert recognise(await utterance.finish(), "en-US", TODAY).intent == Intent.STOP_CALLING


async def test_given_cancelled_answers_one_after_another_then_their_decoder_is_reused_not_reloaded(
        recognizer, speech):
    frames = speech(PAYMENT)
    await hear(recognizer, speech("yes"), "confirm")          # the worker's steady state
    before = worker_rss_mb(recognizer)
    for _ in range(4):                     # four answers abandoned (the caller pressed a key), one decoder
        utterance = recognizer.open("payment")
        for frame in frames[:40]:
            utterance.feed(frame)
        utterance.cancel()
        utterance.cancel()                 # twice is harmless
    heard = await hear(recognizer, speech("stop calling me"), "payment")
    assert recognise(heard, "en-US", TODAY).intent == Intent.STOP_CALLING, heard
    grown = worker_rss_mb(recognizer) - before
    assert grown < DECODER_MB / 2, f"worker grew {grown:.0f} MB over four cancelled answers"


async def test_given_more_answers_at_once_than_preloaded_decoders_then_all_finish_with_their_own_text(
        recognizer, speech):
    answers = [("stop calling me", "payment", Intent.STOP_CALLING),
               ("yes", "confirm", Intent.AFFIRM),
               (PAYMENT, "payment", Intent.PROMISE_LATER)]
    frames = [speech(text) for text, _, _ in answers]
    utterances = [recognizer.open(grammar) for _, grammar, _ in answers]
    for number in range(max(len(f) for f in frames)):            # three callers talking at once
        for utterance, heard in zip(utterances, frames):
            if number < len(heard):
                utterance.feed(heard[number])
    texts = await asyncio.gather(*(u.finish() for u in utterances))
    assert [recognise(t, "en-US", TODAY).intent for t in texts] == [i for _, _, i in answers], texts


async def test_given_concurrent_answers_some_cancelled_then_the_others_finish_and_later_ones_too(
        recognizer, speech):
    kept = [recognizer.open("payment") for _ in range(2)]
    dropped = [recognizer.open("payment") for _ in range(2)]
    for frame in speech("stop calling me"):
        for utterance in kept + dropped:
            utterance.feed(frame)
    for utterance in dropped:
        utterance.cancel()
    texts = await asyncio.gather(*(u.finish() for u in kept))
    assert all(recognise(t, "en-US", TODAY).intent == Intent.STOP_CALLING for t in texts), texts
    later = await hear(recognizer, speech("yes"), "confirm")
    assert recognise(later, "en-US", TODAY).intent == Intent.AFFIRM, later


async def test_given_an_unknown_grammar_then_the_answer_is_empty_at_once_with_an_error_and_the_worker_goes_on(
        recognizer, speech, caplog):
    with caplog.at_level(logging.ERROR, logger="dialer.bot.asr_stream"):
        utterance = recognizer.open("no_such_grammar")
        for frame in speech("yes"):
            utterance.feed(frame)
        await asyncio.sleep(0.5)           # the caller speaks: the worker's error came long before finish
        started = time.monotonic()
        assert await utterance.partial() == ""
        assert await utterance.finish() == ""
        waited = time.monotonic() - started
    assert "no_such_grammar" in caplog.text and "failed in the worker" in caplog.text
    assert waited < 2.0, f"an utterance that failed in the worker took {waited:.1f} s to answer"
    heard = await hear(recognizer, speech("stop calling me"), "payment")
    assert recognise(heard, "en-US", TODAY).intent == Intent.STOP_CALLING, heard


def test_given_a_started_recognizer_with_an_answer_in_flight_when_closed_then_no_process_or_thread_is_left():
    threads_before = set(threading.enumerate())    # the module's recogniser has its own reader thread
    recognizer = StreamingRecognizer(workers=1, preload=0).start()
    pids = [worker.process.pid for worker in recognizer._workers]
    processes = [worker.process for worker in recognizer._workers]
    utterance = recognizer.open("payment")
    utterance.feed(bytes(320) * 10)
    recognizer.close()
    assert all(not process.is_alive() and process.exitcode == 0 for process in processes)
    for pid in pids:
        with pytest.raises(ProcessLookupError):    # reaped, not a zombie
            os.kill(pid, 0)
    assert not [t for t in set(threading.enumerate()) - threads_before if t.name == "asr-stream-results"]
    with pytest.raises(Exception, match="not started"):
        recognizer.open("payment")
