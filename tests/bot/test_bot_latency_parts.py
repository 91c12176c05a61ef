"""The pieces that keep a caller's turn short: prompts prepared at call start, recognition in a pool
of pre-warmed worker processes, and reading the recording without a sox child."""

import wave
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from dialer.bot.actions import CollectDigits, Done, Keyed, Listen, Say
from dialer.bot.asr import read_pcm16k
from dialer.bot.asr_pool import RecognizerPool
from dialer.bot.engine import DialogSession
from dialer.bot.prompt_prep import call_prompt_texts, prepare_call, static_prompt_texts, warm_static
from dialer.bot.script import load_script, shipped_script_path
from dialer.bot.script_walk import example_context
from dialer.bot.tts import DEFAULT_VOICES, EspeakEngine, PromptCache, Voice

TODAY = date(2026, 11, 22)


class CountingEngine(EspeakEngine):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def synthesize(self, text, voice, out_wav):
        self.texts.append(text)
        super().synthesize(text, voice, out_wav)


def keyed_call(language: str, context) -> list[Say]:
    """The prompts of a call where the debtor keys 1 (it's me), 1985 (birth year), 1, 1, ..."""
    session = DialogSession(load_script(shipped_script_path("collection", language)), context)
    answers = [Keyed("1"), Keyed("1985")]
    says, action = [], session.start()
    while action is not None:
        if isinstance(action, Say):
            says.append(action)
        answer = (answers.pop(0) if answers else Keyed("1")) if isinstance(action, (Listen, CollectDigits)) else Done()
        action = session.feed(answer)
    return says


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
def test_given_a_call_prepared_at_its_start_then_every_prompt_it_plays_with_the_debtors_data_is_already_cached(
        tmp_path, language):
    script = load_script(shipped_script_path("collection", language))
    context = replace(example_context(language, TODAY), debtor_name="Ana Garcia 417" if language == "en-US" else "李娜")
    voice = DEFAULT_VOICES[language][0]
    cache = PromptCache(CountingEngine(), tmp_path)
    assert warm_static(cache, script, context, [voice]) == len(static_prompt_texts(script, context))
    made = prepare_call(cache, script, context, voice)
    assert made == len(call_prompt_texts(script, context)) > 0
    assert all(context.debtor_name not in text for text in static_prompt_texts(script, context))
    for say in keyed_call(language, context):
        if not ({"promise_amount", "promise_date"} & set(say.variables)):
            assert cache.is_cached(say.text, voice), f"{say.prompt_id} not prepared: {say.text}"


def test_given_a_reminder_stage_call_then_the_prompts_of_the_other_stages_are_not_prepared():
    script = load_script(shipped_script_path("collection", "en-US"))
    reminder = replace(example_context("en-US", TODAY), dpd=2)
    texts = " ".join(call_prompt_texts(script, reminder))
    assert "friendly reminder" in texts
    assert "is now overdue" not in texts and "credit" not in texts.lower()


async def test_given_the_preparer_then_it_prepares_on_its_own_low_priority_threads(tmp_path):
    import os
    import threading

    from dialer.bot.prompt_prep import PREPARATION_NICENESS, PromptPreparer

    seen = []

    class NiceRecordingEngine(CountingEngine):
        def synthesize(self, text, voice, out_wav):
            seen.append((threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
            super().synthesize(text, voice, out_wav)

    script = load_script(shipped_script_path("collection", "en-US"))
    context = example_context("en-US", TODAY)
    preparer = PromptPreparer(workers=1)
    try:
        made = await preparer.prepare(PromptCache(NiceRecordingEngine(), tmp_path), script, context,
                                      DEFAULT_VOICES["en-US"][0], threading.Event())
    finally:
        preparer.close()
    assert made == len(call_prompt_texts(script, context)) == len(seen)
    assert all(name.startswith("prompt-prep") and nice >= PREPARATION_NICENESS for name, nice in seen)


def test_given_a_stopped_call_then_preparation_synthesises_nothing_more(tmp_path):
    import threading

    script = load_script(shipped_script_path("collection", "en-US"))
    engine = CountingEngine()
    stop = threading.Event()
    stop.set()
    assert prepare_call(PromptCache(engine, tmp_path), script, example_context("en-US", TODAY),
                        DEFAULT_VOICES["en-US"][0], stop) == 0
    assert engine.texts == []


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype("<i2").tobytes())
    return path


def test_given_an_8khz_recording_then_it_is_read_at_16khz_with_its_tone_kept_and_silence_around_it(tmp_path):
    t = np.arange(8000) / 8000
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)     # 1 s of 440 Hz at 8 kHz
    pcm = read_pcm16k(_write_wav(tmp_path / "tone.wav", tone, 8000))
    assert len(pcm) == 16000 + int(0.3 * 16000) + int(0.5 * 16000)
    assert not pcm[:4800].any() and not pcm[-8000:].any()
    body = pcm[4800 + 1000: 4800 + 15000].astype(float)
    spectrum = np.abs(np.fft.rfft(body))
    assert abs(np.argmax(spectrum) * 16000 / len(body) - 440) < 5


def test_given_a_recording_that_is_not_16_bit_then_the_error_names_the_file(tmp_path):
    from dialer.bot.asr import AsrError

    path = tmp_path / "eight-bit.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(b"\x80" * 800)
    with pytest.raises(AsrError, match="eight-bit.wav"):
        read_pcm16k(path)


@pytest.mark.slow
def test_given_a_pool_of_warm_workers_then_concurrent_turns_are_recognised_in_separate_processes(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    speech = PromptCache(EspeakEngine(), tmp_path)
    caller = Voice("caller", "en-us", 160, 50)
    turns = [("stop calling me", "payment"), ("sorry, you have the wrong number", "identity"),
             ("yes speaking", "identity"), ("I already paid", "payment")]
    with RecognizerPool(workers=2) as pool:
        assert pool.supports("en-US") and not pool.supports("zh-CN")
        with ThreadPoolExecutor(max_workers=4) as threads:
            heard = list(threads.map(lambda turn: pool.transcribe(speech.path_for(turn[0], caller), turn[1], "en-US"),
                                     turns))
        assert pool.transcribe(speech.path_for("yes speaking", caller), "identity", "zh-CN") == ""
    assert heard[0] == "stop calling me" and "wrong number" in heard[1] and "speaking" in heard[2]
    assert "already paid" in heard[3]
