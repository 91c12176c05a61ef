"""Where a caller's answer starts and ends (dialer/bot/endpoint.py), on synthetic 8 kHz frames.

Voice is a harmonic buzz (a 150 Hz pitch with its overtones, what a vowel looks like to a VAD) or
loud noise; silence is zeros or line hiss far below the RMS floor. The real pocketsphinx VAD
decides on those where the test is about what the bot hears; an injected `is_speech` (every loud
frame is voice) pins the exact timing cases, where the VAD's own hangover would blur them.
"""

import numpy as np
import pytest

from dialer.bot.endpoint import (
    FRAME_BYTES, FRAME_S, EndpointConfig, Endpointer, FrameSplitter, Phase, frame_rms, pocketsphinx_vad,
)

SAMPLES = FRAME_BYTES // 2
T0 = 1000.0          # arrival times are perf_counter() readings: any origin


def pcm(samples: np.ndarray) -> bytes:
    return np.clip(np.rint(samples), -32768, 32767).astype("<i2").tobytes()


def vowel(number: int) -> bytes:
    """Frame `number` of a continuous 150 Hz buzz with 19 overtones (RMS ~5,000)."""
    t = (np.arange(SAMPLES) + number * SAMPLES) / 8000
    return pcm(6000 * sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 20)))


def hiss(seed: int, level: float = 30.0) -> bytes:
    return pcm(np.random.default_rng(seed).normal(0, level, SAMPLES))


def noise_burst(seed: int) -> bytes:
    return pcm(np.random.default_rng(seed).normal(0, 4000, SAMPLES))


SILENCE = bytes(FRAME_BYTES)


def loud(frame: bytes) -> bool:
    """An exact VAD for timing tests: voice is whatever is above the floor."""
    return True


def at(number: int) -> float:
    return T0 + number * FRAME_S


def feed(endpointer: Endpointer, frames: list[bytes], first: int = 0) -> list[list[bytes]]:
    return [endpointer.push(frame, at(first + n)) for n, frame in enumerate(frames)]


# ---- onset -----------------------------------------------------------------------------------------

def test_given_the_real_vad_when_a_20ms_click_interrupts_silence_then_speech_does_not_start():
    endpointer = Endpointer(EndpointConfig(), pocketsphinx_vad())
    frames = [hiss(n) for n in range(10)] + [noise_burst(1)] + [hiss(n) for n in range(10, 30)]
    assert all(heard == [] for heard in feed(endpointer, frames))
    assert endpointer.phase is Phase.WAITING
    assert endpointer.speech_started_at is None
    assert endpointer.should_end(at(40), complete=True) is False     # nobody spoke: nothing to end


def test_given_the_real_vad_when_a_vowel_lasts_onset_s_then_speech_starts_on_its_third_frame():
    config = EndpointConfig()                                          # onset 60 ms = 3 frames
    endpointer = Endpointer(config, pocketsphinx_vad())
    heard = feed(endpointer, [hiss(n) for n in range(20)])
    heard += feed(endpointer, [vowel(n) for n in range(3)], first=20)
    assert [len(h) for h in heard[:22]] == [0] * 22
    assert heard[22] != []
    assert endpointer.phase is Phase.SPEAKING
    assert endpointer.speech_started_at == pytest.approx(at(20))      # the first voiced frame's time
    assert endpointer.last_voice_at == at(22)


def test_given_the_real_vad_when_noise_bursts_last_onset_s_then_speech_starts_too():
    endpointer = Endpointer(EndpointConfig(), pocketsphinx_vad())
    feed(endpointer, [SILENCE] * 10)
    feed(endpointer, [noise_burst(n) for n in range(3)], first=10)
    assert endpointer.phase is Phase.SPEAKING


def test_given_two_voiced_frames_then_a_gap_then_two_more_then_the_run_restarts_and_speech_has_not_started():
    endpointer = Endpointer(EndpointConfig(), loud)
    frames = [vowel(0), vowel(1), SILENCE, vowel(3), vowel(4)]
    assert all(heard == [] for heard in feed(endpointer, frames))
    assert endpointer.phase is Phase.WAITING
    assert endpointer.push(vowel(5), at(5)) != []                    # third in a row
    assert endpointer.speech_started_at == pytest.approx(at(3))


def test_given_frames_the_vad_calls_speech_when_they_are_below_the_rms_floor_then_they_are_not_voice():
    endpointer = Endpointer(EndpointConfig(min_rms=300), loud)
    quiet = hiss(7, level=200)                                         # RMS ~200: comfort noise, not voice
    assert frame_rms(quiet) < 300
    assert all(heard == [] for heard in feed(endpointer, [quiet] * 50))
    assert endpointer.phase is Phase.WAITING


def test_given_an_onset_then_the_preroll_before_it_and_the_voiced_run_are_returned_in_order():
    config = EndpointConfig(onset_s=0.06, preroll_s=0.3)              # 15 frames kept
    endpointer = Endpointer(config, pocketsphinx_vad())
    before = [hiss(n) for n in range(40)]
    run = [vowel(n) for n in range(3)]
    heard = feed(endpointer, before + run)
    assert heard[-1] == (before + run)[-15:]                          # the last 300 ms, onset included
    assert all(h == [] for h in heard[:-1])


def test_given_an_onset_after_only_a_few_frames_then_the_preroll_is_what_arrived():
    endpointer = Endpointer(EndpointConfig(), loud)
    frames = [SILENCE, SILENCE, vowel(2), vowel(3), vowel(4)]
    assert feed(endpointer, frames)[-1] == frames


def test_given_speech_under_way_then_every_frame_goes_to_the_recogniser_voiced_or_not():
    endpointer = Endpointer(EndpointConfig(), loud)
    feed(endpointer, [vowel(n) for n in range(3)])
    assert endpointer.push(SILENCE, at(3)) == [SILENCE]               # pauses inside a sentence too
    assert endpointer.last_voice_at == at(2)                           # but silence is not voice
    assert endpointer.push(vowel(4), at(4)) == [vowel(4)]
    assert endpointer.last_voice_at == at(4)


# ---- end -------------------------------------------------------------------------------------------

def speaking(config: EndpointConfig | None = None, frames: int = 10) -> Endpointer:
    """An endpointer that heard `frames` voiced frames (the last at at(frames - 1))."""
    endpointer = Endpointer(config or EndpointConfig(), loud)
    feed(endpointer, [vowel(n) for n in range(frames)])
    assert endpointer.phase is Phase.SPEAKING
    return endpointer


def test_given_no_frames_arrive_after_speech_then_silence_is_measured_on_the_clock():
    endpointer = speaking()
    last = at(9)
    assert endpointer.silence_s(last + 0.45) == pytest.approx(0.45)
    assert endpointer.should_end(last + 0.59, complete=False) is False
    assert endpointer.phase is Phase.SPEAKING
    assert endpointer.should_end(last + 0.61, complete=False) is True
    assert endpointer.phase is Phase.ENDED


def test_given_a_complete_answer_then_quick_end_s_of_silence_ends_it():
    endpointer = speaking(EndpointConfig(quick_end_s=0.2, end_s=0.6))
    last = at(9)
    assert endpointer.should_end(last + 0.19, complete=True) is False
    assert endpointer.should_end(last + 0.21, complete=True) is True


def test_given_an_incomplete_answer_then_quick_end_s_of_silence_does_not_end_it_but_end_s_does():
    endpointer = speaking(EndpointConfig(quick_end_s=0.2, end_s=0.6))
    last = at(9)
    assert endpointer.should_end(last + 0.25, complete=False) is False
    assert endpointer.should_end(last + 0.45, complete=False) is False
    assert endpointer.should_end(last + 0.61, complete=False) is True


def test_given_silent_frames_arriving_after_speech_then_they_count_as_silence_like_no_frames():
    endpointer = speaking(EndpointConfig(quick_end_s=0.2, end_s=0.6))
    feed(endpointer, [SILENCE] * 40, first=10)                          # 800 ms of zeros
    assert endpointer.should_end(at(49), complete=False) is True


def test_given_a_pause_shorter_than_end_s_then_voice_again_then_the_silence_counts_from_the_new_voice():
    endpointer = speaking()
    assert endpointer.should_end(at(9) + 0.5, complete=False) is False
    endpointer.push(vowel(40), at(40))
    assert endpointer.silence_s(at(40) + 0.1) == pytest.approx(0.1)
    assert endpointer.should_end(at(40) + 0.5, complete=False) is False
    assert endpointer.should_end(at(40) + 0.61, complete=False) is True


def test_given_a_monologue_then_it_is_cut_at_max_speech_s_although_the_caller_never_pauses():
    config = EndpointConfig(max_speech_s=1.0)
    endpointer = Endpointer(config, loud)
    ended_at = None
    for n in range(100):
        endpointer.push(vowel(n), at(n))
        if endpointer.should_end(at(n), complete=False):
            ended_at = n
            break
    assert endpointer.silence_s(at(ended_at)) == 0.0
    assert at(ended_at) - endpointer.speech_started_at == pytest.approx(1.0, abs=FRAME_S)


def test_given_the_answer_ended_then_later_frames_are_dropped_and_it_stays_ended():
    endpointer = speaking()
    assert endpointer.should_end(at(9) + 1.0, complete=False)
    assert endpointer.push(vowel(100), at(100)) == []
    assert endpointer.phase is Phase.ENDED
    assert endpointer.should_end(at(101), complete=False) is True


def test_given_speech_then_the_end_deadline_is_the_last_voice_plus_quick_or_full_silence_capped_by_max():
    config = EndpointConfig(quick_end_s=0.2, end_s=0.6, max_speech_s=1.0)
    assert Endpointer(config, loud).end_deadline(quick=True) is None    # nobody speaks yet
    endpointer = speaking(config)
    assert endpointer.end_deadline(quick=True) == pytest.approx(at(9) + 0.2)
    assert endpointer.end_deadline(quick=False) == pytest.approx(at(9) + 0.6)
    feed(endpointer, [vowel(n) for n in range(10, 50)], first=10)
    assert endpointer.end_deadline(quick=False) == pytest.approx(at(0) + 1.0)


# ---- configuration and framing ---------------------------------------------------------------------

@pytest.mark.parametrize("quick,full", [(0.7, 0.6), (0.0, 0.6), (-0.1, 0.6)])
def test_given_quick_end_s_not_between_zero_and_end_s_then_the_config_is_rejected_naming_both(quick, full):
    with pytest.raises(ValueError, match=rf"quick_end_s \({quick}\).*end_s \({full}\)"):
        EndpointConfig(quick_end_s=quick, end_s=full)


def test_given_quick_end_s_equal_to_end_s_then_the_config_is_accepted():
    assert EndpointConfig(quick_end_s=0.6, end_s=0.6).quick_end_s == 0.6


def test_given_chunks_of_odd_sizes_then_the_splitter_yields_whole_20ms_frames_of_the_same_bytes():
    stream = bytes(range(256)) * 40                                     # 10,240 bytes, 32 frames
    splitter = FrameSplitter()
    out: list[bytes] = []
    position = 0
    for size in (1, 7, 319, 320, 321, 333, 1000, 2, 640, 5000):
        out += splitter.split(stream[position:position + size])
        position += size
    assert all(len(frame) == FRAME_BYTES for frame in out)
    assert b"".join(out) == stream[:len(out) * FRAME_BYTES]
    assert position - len(out) * FRAME_BYTES < FRAME_BYTES             # only a partial frame is held
    rest = FRAME_BYTES - (position - len(out) * FRAME_BYTES)
    completing = splitter.split(stream[position:position + rest])
    assert completing == [stream[len(out) * FRAME_BYTES:position + rest]]


def test_given_less_than_a_frame_then_the_splitter_yields_nothing_yet():
    splitter = FrameSplitter()
    assert splitter.split(b"\x01" * 319) == []
    assert splitter.split(b"") == []
    assert splitter.split(b"\x02") == [b"\x01" * 319 + b"\x02"]
