"""The barge-in analysis of benchmarks/barge_in.py on synthetic calls whose times are known to the
sample: a prompt the callee talks over, where it stops, and the reply after the callee's answer."""

import numpy as np
import pytest

from benchmarks.barge_in import measure_call, talk_overs
from benchmarks.wire_latency import RATE

TOLERANCE_S = 0.020
KEY_TAIL_S = 0.25


class Line:
    """The two directions of one call on one clock, sounds placed at known times on a quiet line."""

    def __init__(self, seconds: float, seed: int = 6) -> None:
        self.rng = np.random.default_rng(seed)
        n = int(seconds * RATE)
        self.heard = self.rng.normal(0, 18, n)      # -65 dBFS: the detector must not need zeros
        self.said = self.rng.normal(0, 18, n)

    def sound(self, direction: str, start_s: float, end_s: float) -> None:
        """Speech-like noise (syllable-rate envelope, 5 ms ramps) from start_s to end_s."""
        target = self.heard if direction == "heard" else self.said
        n = int((end_s - start_s) * RATE)
        envelope = 0.55 + 0.45 * np.sin(np.linspace(0, 2 * np.pi * 4 * (end_s - start_s), n))
        envelope[:40] *= np.linspace(0, 1, 40)
        envelope[-40:] *= np.linspace(1, 0, 40)
        start = int(start_s * RATE)
        target[start:start + n] += self.rng.normal(0, 4000, n) * envelope

    def prompt(self, start_s: float, end_s: float, *, cut_at_s: float | None = None) -> None:
        """A prompt of 0.5 s words 0.15 s apart, a 0.4 s pause between sentences every 4 words;
        cut off at `cut_at_s` (mid-word) when the bot stopped it."""
        t, words = start_s, 0
        stop = end_s if cut_at_s is None else min(end_s, cut_at_s)
        while t < stop:
            self.sound("heard", t, t + 0.5 if cut_at_s is None else min(t + 0.5, cut_at_s))
            words += 1
            t += 0.5 + (0.4 if words % 4 == 0 else 0.15)

    def pcm(self) -> tuple[np.ndarray, np.ndarray]:
        def clip(x: np.ndarray) -> np.ndarray:
            return np.clip(np.round(x), -32768, 32767).astype(np.int32)
        return clip(self.heard), clip(self.said)


def test_given_a_callee_who_talks_over_the_prompt_and_the_bot_stops_it_then_the_stop_delay_and_reply_are_found():
    line = Line(14)
    line.prompt(0.5, 2.0)                           # an earlier prompt, answered by a key (no speech)
    line.prompt(4.0, 12.0, cut_at_s=6.22)           # the stage prompt, stopped 0.47 s after the onset
    line.sound("said", 5.75, 8.5)                   # the answer, begun 1.75 s into the prompt
    line.sound("heard", 8.78, 10.0)                 # the reply, 280 ms after the answer ended
    heard, said = line.pcm()

    over, = talk_overs(heard, said)
    assert over.prompt_start_s == pytest.approx(4.0, abs=TOLERANCE_S)
    assert over.speech_start_s == pytest.approx(5.75, abs=TOLERANCE_S)
    assert over.prompt_end_s == pytest.approx(6.22, abs=TOLERANCE_S)
    assert over.stop_delay_s == pytest.approx(0.47, abs=TOLERANCE_S)

    call = measure_call(heard, said, key_tail_s=KEY_TAIL_S)
    assert call.over == over
    assert call.reply_latency_s == pytest.approx(0.28, abs=TOLERANCE_S)


def test_given_a_prompt_that_plays_on_under_the_callee_then_the_stop_delay_runs_to_the_end_of_its_sentence():
    line = Line(14)
    line.prompt(4.0, 12.0)                          # sentences 4.0-6.45, 6.85-9.3, 9.7-12.15
    line.sound("said", 5.0, 7.0)
    heard, said = line.pcm()

    over, = talk_overs(heard, said)
    # The prompt is counted up to the end of the sentence playing when the callee fell silent: a
    # prompt not stopped shows as a long delay, not as the barge-in working.
    assert over.prompt_end_s == pytest.approx(9.3, abs=TOLERANCE_S)
    assert over.stop_delay_s > 2.0


def test_given_a_callee_who_waits_for_the_prompt_to_end_then_no_talk_over_is_found():
    line = Line(10)
    line.prompt(0.5, 3.9)                           # last word 3.35-3.85
    line.sound("said", 5.5, 7.0)                    # after 1.65 s of silence: an ordinary turn
    line.sound("heard", 7.3, 8.0)
    heard, said = line.pcm()

    assert talk_overs(heard, said) == []
    assert measure_call(heard, said, key_tail_s=KEY_TAIL_S).over is None


def test_given_a_callee_who_starts_in_the_pause_after_the_prompts_last_word_then_it_is_not_a_talk_over():
    line = Line(10)
    line.prompt(0.5, 3.9)                           # last word 3.35-3.85
    line.sound("said", 4.3, 6.0)                    # 0.45 s later: the bot had finished
    line.sound("heard", 6.3, 7.0)                   # the reply
    heard, said = line.pcm()

    assert talk_overs(heard, said) == []


def test_given_a_callee_who_starts_in_a_pause_between_the_prompts_sentences_then_it_is_a_talk_over():
    line = Line(12)
    line.prompt(1.0, 9.0, cut_at_s=4.0)             # sentence pause 3.45-3.85, a word until the cut
    line.sound("said", 3.6, 6.0)
    heard, said = line.pcm()

    over, = talk_overs(heard, said)
    assert over.speech_start_s == pytest.approx(3.6, abs=TOLERANCE_S)
    assert over.stop_delay_s == pytest.approx(0.4, abs=TOLERANCE_S)


def test_given_directions_of_different_lengths_then_the_pair_is_refused():
    heard, said = Line(3).pcm()
    with pytest.raises(ValueError, match="differ in length"):
        talk_overs(heard, said[:-160])
