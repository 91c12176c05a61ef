"""The on-the-wire latency's clock, checked on the real Asterisk 22: a wire callee (MixMonitor on its
leg, keys marked in its audio) calls a far end whose delays are known to be ~0 (it answers a key at
once with a tone, then echoes the callee). The analysis must see those delays as ~0: the two
recorded directions share one clock to within one 20 ms frame."""

import asyncio

import pytest

from benchmarks.bot_latency import calibrate

pytestmark = pytest.mark.asterisk
FRAME_MS = 20


def test_given_a_far_end_answering_a_key_at_once_then_the_wire_gap_is_within_a_frame_of_zero(harness):
    result = asyncio.run(calibrate(harness))
    # Read returns at the key's end and Playback starts the tone a few ms later; MixMonitor may
    # place the far end's direction up to one frame late.
    assert 0 <= result["key_to_tone_ms"] <= FRAME_MS + 10
    # Echo writes back each frame as it reads it: the echo is on the same clock to within a frame.
    assert abs(result["echo_lag_ms"]) <= FRAME_MS
