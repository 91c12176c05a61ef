"""The on-the-wire turn latency analysis (benchmarks/wire_latency.py) on synthetic calls whose gaps
are known to the sample: it must find each gap within +-20 ms."""

import numpy as np
import pytest

from benchmarks.wire_latency import (
    RATE,
    active_segments,
    direction_lag_s,
    key_mark,
    key_mark_starts,
    read_wav,
    wire_turns,
    write_wav,
)

TOLERANCE_S = 0.020
KEY_TAIL_S = 0.25


class Call:
    """Two directions of one call on one clock, built by placing sounds at known times."""

    def __init__(self, seconds: float, seed: int = 6) -> None:
        self.rng = np.random.default_rng(seed)
        n = int(seconds * RATE)
        # A quiet line (-65 dBFS noise) rather than digital silence: the detector must not need zeros.
        self.heard = self.rng.normal(0, 18, n)
        self.said = self.rng.normal(0, 18, n)

    def speak(self, direction: str, at_s: float, words: list[float], pause_s: float = 0.15) -> float:
        """Speech-like bursts (noise shaped by a syllable-rate envelope, 5 ms attack and release)
        of the given word lengths, with short pauses between words; returns where it ends."""
        target = self.heard if direction == "heard" else self.said
        t = at_s
        for length in words:
            n = int(length * RATE)
            envelope = 0.55 + 0.45 * np.sin(np.linspace(0, 2 * np.pi * 4 * length, n))
            ramp = min(40, n // 2)
            envelope[:ramp] *= np.linspace(0, 1, ramp)
            envelope[-ramp:] *= np.linspace(1, 0, ramp)
            start = int(t * RATE)
            target[start:start + n] += self.rng.normal(0, 4000, n) * envelope
            t += length + pause_s
        return t - pause_s

    def key(self, ends_at_s: float) -> None:
        """What the wire callee does after its last key: KEY_TAIL_S later, the mark."""
        start = int((ends_at_s + KEY_TAIL_S) * RATE)
        self.said[start:start + len(key_mark())] = key_mark()

    def pcm(self) -> tuple[np.ndarray, np.ndarray]:
        clip = lambda x: np.clip(np.round(x), -32768, 32767).astype(np.int32)  # noqa: E731
        return clip(self.heard), clip(self.said)


def test_given_speech_turns_with_known_gaps_when_analysed_then_each_gap_is_found_within_20_ms():
    call = Call(30)
    call.speak("heard", 0.5, [0.4, 0.6, 0.3])                    # the greeting: no turn before it
    gaps = [0.1234, 1.3071, 0.2919]     # not on the analysis' 5 ms grid
    at = 4.0013
    for gap in gaps:
        end = call.speak("said", at, [0.3, 0.5, 0.25, 0.4])       # pauses between words: 150 ms
        reply_end = call.speak("heard", end + gap, [0.5, 0.7])
        at = reply_end + 2.0
    turns = wire_turns(*call.pcm(), key_tail_s=KEY_TAIL_S)
    assert [t.kind for t in turns] == ["speech"] * 3
    for turn, gap in zip(turns, gaps):
        assert turn.latency_s == pytest.approx(gap, abs=TOLERANCE_S)


def test_given_key_turns_when_analysed_then_the_gap_runs_from_the_end_of_the_keys():
    call = Call(12)
    call.key(ends_at_s=2.0)
    call.speak("heard", 2.0 + 0.0437, [0.6])       # a fast reply: starts before the mark is played
    call.key(ends_at_s=5.0031)
    call.speak("heard", 5.0031 + 0.9012, [0.6])
    turns = wire_turns(*call.pcm(), key_tail_s=KEY_TAIL_S)
    assert [t.kind for t in turns] == ["keys", "keys"]
    assert turns[0].caller_done_s == pytest.approx(2.0, abs=0.001)
    assert turns[0].latency_s == pytest.approx(0.0437, abs=TOLERANCE_S)
    assert turns[1].latency_s == pytest.approx(0.9012, abs=TOLERANCE_S)


def test_given_the_key_mark_when_searched_then_it_is_found_to_the_sample_and_nowhere_in_speech():
    call = Call(6)
    call.speak("said", 0.5, [0.5, 0.5, 0.5, 0.5])
    heard, said = call.pcm()
    said[int(4.0 * RATE):int(4.0 * RATE) + 160] = key_mark()
    assert key_mark_starts(said) == [4.0]


def test_given_a_turn_the_bot_never_answers_then_it_has_no_reply_rather_than_the_next_turns():
    call = Call(14)
    end = call.speak("said", 1.0, [0.5])
    call.key(ends_at_s=6.0)
    call.speak("heard", 6.5, [0.5])
    first, second = wire_turns(*call.pcm(), key_tail_s=KEY_TAIL_S)
    assert (first.kind, first.reply_s, first.latency_s) == ("speech", None, None)
    assert first.caller_done_s == pytest.approx(end, abs=TOLERANCE_S)
    assert second.latency_s == pytest.approx(0.5, abs=TOLERANCE_S)


def test_given_pauses_between_words_when_segmented_then_one_utterance_not_one_per_word():
    call = Call(5)
    end = call.speak("said", 1.0, [0.3, 0.3, 0.3], pause_s=0.25)
    segments = active_segments(call.pcm()[1], min_silence_s=0.5)
    assert len(segments) == 1
    assert segments[0].start_s == pytest.approx(1.0, abs=TOLERANCE_S)
    assert segments[0].end_s == pytest.approx(end, abs=TOLERANCE_S)


def test_given_a_far_end_echoing_20_ms_late_when_calibrating_then_the_lag_is_measured():
    call = Call(4)
    call.speak("said", 0.5, [0.4, 0.6])
    heard, said = call.pcm()
    echo = np.concatenate([np.zeros(160, dtype=np.int32), said[:-160]])
    assert direction_lag_s(echo, said) == pytest.approx(0.020, abs=1 / RATE)
    assert direction_lag_s(said, echo) == pytest.approx(-0.020, abs=1 / RATE)


def test_given_directions_of_different_lengths_then_refused_as_not_one_recording():
    with pytest.raises(ValueError, match="differ in length"):
        wire_turns(np.zeros(800), np.zeros(960), key_tail_s=KEY_TAIL_S)


def test_given_a_wav_file_when_read_then_its_samples_come_back_and_a_stereo_file_is_refused(tmp_path):
    samples = np.array([0, 1, -1, 32767, -32768, 32, -32], dtype=np.int32)
    write_wav(tmp_path / "mono.wav", samples)
    assert read_wav(tmp_path / "mono.wav").tolist() == samples.tolist()
    import wave
    with wave.open(str(tmp_path / "stereo.wav"), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"\0" * 16)
    with pytest.raises(ValueError, match=r"stereo\.wav: expected mono 16-bit 8000 Hz audio, found 2 channel"):
        read_wav(tmp_path / "stereo.wav")
