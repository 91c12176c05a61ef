"""The bot's AudioSocket listener (dialer/bot/audio_tap.py) over real TCP, with the test playing
Asterisk's res_audiosocket: a UUID message first, then 20 ms audio frames, then a hang-up (kind 0)."""

import asyncio
import logging
import uuid

import pytest

from dialer.bot.audio_tap import (
    KIND_AUDIO, KIND_ERROR, KIND_HANGUP, KIND_UUID, TapProtocolError, TapServer, encode, originate_command,
    read_message,
)

FRAME = 320       # 20 ms of 8 kHz 16-bit audio


def frame(number: int) -> bytes:
    return bytes([number % 256]) * FRAME


class AudioSocketCaller:
    """Asterisk's AudioSocket channel as seen from the bot's listener."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, server: TapServer, tap_id: str | None = None) -> "AudioSocketCaller":
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        caller = cls(reader, writer)
        if tap_id is not None:
            await caller.send(KIND_UUID, uuid.UUID(tap_id).bytes)
        return caller

    async def send(self, kind: int, payload: bytes = b"") -> None:
        self.writer.write(encode(kind, payload))
        await self.writer.drain()

    async def dropped(self) -> bool:
        """Whether the listener closed this connection (EOF within a second)."""
        return await asyncio.wait_for(self.reader.read(), 1.0) == b""

    def close(self) -> None:
        self.writer.close()


@pytest.fixture
async def taps():
    server = await TapServer(port=0).start()
    yield server
    await server.close()


class Heard:
    def __init__(self) -> None:
        self.frames: list[tuple[bytes, float]] = []

    def __call__(self, audio: bytes, arrived_at: float) -> None:
        self.frames.append((audio, arrived_at))


async def test_given_a_tap_when_asterisk_connects_and_streams_then_frames_reach_the_listener_in_order(taps):
    tap = taps.new_tap()
    heard = Heard()
    tap.listener = heard
    caller = await AudioSocketCaller.connect(taps, tap.tap_id)
    assert await tap.wait_connected(1.0)
    for number in range(10):
        await caller.send(KIND_AUDIO, frame(number))
        await asyncio.sleep(0.02)                   # a live channel's pace
    await caller.send(KIND_HANGUP)
    await asyncio.wait_for(tap.closed.wait(), 1.0)
    assert [audio for audio, _ in heard.frames] == [frame(n) for n in range(10)]
    times = [arrived_at for _, arrived_at in heard.frames]
    assert all(later > earlier for earlier, later in zip(times, times[1:]))
    assert times[-1] - times[0] >= 0.1              # arrival times, not one stamp for a batch
    assert tap.frames == 10
    assert await caller.dropped()
    caller.close()


async def test_given_no_listener_yet_then_frames_are_counted_and_later_ones_reach_the_listener_set_later(taps):
    tap = taps.new_tap()
    caller = await AudioSocketCaller.connect(taps, tap.tap_id)
    await tap.wait_connected(1.0)
    await caller.send(KIND_AUDIO, frame(1))
    await caller.send(KIND_AUDIO, frame(2))
    await asyncio.sleep(0.05)
    heard = Heard()
    tap.listener = heard                            # the bot starts listening at its question
    await caller.send(KIND_AUDIO, frame(3))
    await caller.send(KIND_HANGUP)
    await asyncio.wait_for(tap.closed.wait(), 1.0)
    assert tap.frames == 3
    assert [audio for audio, _ in heard.frames] == [frame(3)]
    caller.close()


async def test_given_a_tap_nobody_connects_to_then_wait_connected_says_so_after_its_timeout(taps):
    tap = taps.new_tap()
    assert await tap.wait_connected(0.1) is False
    assert not tap.closed.is_set()


async def test_given_an_unknown_uuid_then_that_connection_is_dropped_and_other_taps_keep_streaming(taps, caplog):
    tap = taps.new_tap()
    heard = Heard()
    tap.listener = heard
    good = await AudioSocketCaller.connect(taps, tap.tap_id)
    await tap.wait_connected(1.0)
    stranger_id = str(uuid.uuid4())
    with caplog.at_level(logging.WARNING, logger="dialer.bot.audio_tap"):
        stranger = await AudioSocketCaller.connect(taps, stranger_id)
        await stranger.send(KIND_AUDIO, frame(9))
        assert await stranger.dropped()
    assert f"unknown tap {stranger_id}" in caplog.text
    await good.send(KIND_AUDIO, frame(1))
    await good.send(KIND_HANGUP)
    await asyncio.wait_for(tap.closed.wait(), 1.0)
    assert [audio for audio, _ in heard.frames] == [frame(1)]
    stranger.close()
    good.close()


@pytest.mark.parametrize("first", [
    encode(KIND_AUDIO, bytes(FRAME)),               # audio before the UUID
    encode(KIND_UUID, b"short"),                    # a UUID message that is not 16 bytes
    encode(KIND_HANGUP),
])
async def test_given_a_first_message_that_is_not_a_uuid_then_the_connection_is_dropped_alone(taps, caplog, first):
    tap = taps.new_tap()
    good = await AudioSocketCaller.connect(taps, tap.tap_id)
    await tap.wait_connected(1.0)
    bad = await AudioSocketCaller.connect(taps)
    with caplog.at_level(logging.WARNING, logger="dialer.bot.audio_tap"):
        bad.writer.write(first)
        assert await bad.dropped()
    assert "first AudioSocket message is kind" in caplog.text
    assert not tap.closed.is_set()
    await good.send(KIND_AUDIO, frame(1))
    await asyncio.sleep(0.05)
    assert tap.frames == 1
    bad.close()
    good.close()


async def test_given_a_peer_that_connects_and_says_nothing_then_it_is_dropped_after_the_connect_timeout(taps):
    silent = await AudioSocketCaller.connect(taps)
    assert await asyncio.wait_for(silent.reader.read(), 3.0) == b""   # CONNECT_TIMEOUT_S is 2 s
    silent.close()


async def test_given_asterisk_reports_an_error_then_it_is_logged_and_audio_keeps_flowing(taps, caplog):
    tap = taps.new_tap()
    caller = await AudioSocketCaller.connect(taps, tap.tap_id)
    await tap.wait_connected(1.0)
    with caplog.at_level(logging.WARNING, logger="dialer.bot.audio_tap"):
        await caller.send(KIND_ERROR, b"\x02")
        await caller.send(KIND_AUDIO, frame(1))
        await caller.send(KIND_HANGUP)
        await asyncio.wait_for(tap.closed.wait(), 1.0)
    assert "Asterisk reported an error (02)" in caplog.text
    assert tap.frames == 1
    caller.close()


async def test_given_the_caller_hangs_up_the_socket_without_a_hangup_message_then_the_tap_is_closed(taps):
    tap = taps.new_tap()
    caller = await AudioSocketCaller.connect(taps, tap.tap_id)
    await tap.wait_connected(1.0)
    await caller.send(KIND_AUDIO, frame(1))
    caller.writer.write(encode(KIND_AUDIO, frame(2))[:50])   # the spy channel dies mid-message
    caller.close()
    await asyncio.wait_for(tap.closed.wait(), 1.0)
    assert tap.frames == 1


async def test_given_the_bot_hangs_up_the_tap_then_asterisk_receives_kind_0_and_the_socket_closes(taps):
    tap = taps.new_tap()
    caller = await AudioSocketCaller.connect(taps, tap.tap_id)
    await tap.wait_connected(1.0)
    tap.hang_up()
    assert await asyncio.wait_for(read_message(caller.reader), 1.0) == (KIND_HANGUP, b"")
    assert await caller.dropped()
    await asyncio.wait_for(tap.closed.wait(), 1.0)
    tap.hang_up()                                   # twice is harmless
    caller.close()


async def test_given_a_forgotten_tap_then_its_channel_is_hung_up_and_its_uuid_no_longer_connects(taps):
    tap = taps.new_tap()
    caller = await AudioSocketCaller.connect(taps, tap.tap_id)
    await tap.wait_connected(1.0)
    taps.forget(tap)
    assert await asyncio.wait_for(read_message(caller.reader), 1.0) == (KIND_HANGUP, b"")
    late = await AudioSocketCaller.connect(taps, tap.tap_id)
    assert await late.dropped()
    caller.close()
    late.close()


async def test_given_open_connections_when_the_server_closes_then_each_gets_a_hangup_and_is_ended():
    server = await TapServer(port=0).start()
    identified = server.new_tap()
    caller = await AudioSocketCaller.connect(server, identified.tap_id)
    await identified.wait_connected(1.0)
    anonymous = await AudioSocketCaller.connect(server)      # not yet sent its UUID
    await asyncio.sleep(0.02)
    await asyncio.wait_for(server.close(), 1.0)
    assert await asyncio.wait_for(read_message(caller.reader), 1.0) == (KIND_HANGUP, b"")
    assert await caller.dropped()
    assert await anonymous.dropped()
    assert identified.closed.is_set()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", server.port)
    caller.close()
    anonymous.close()


def test_given_a_tap_then_the_originate_command_spies_on_the_call_by_uniqueid_with_an_escaped_comma():
    # AGI turns "\\\\" into "\\", then Originate keeps "\\," as a comma inside ChanSpy's argument.
    command = originate_command("10.0.0.5", 4574, "3f2a7c1e-0000-4000-8000-000000000001", "1700000000.42")
    assert command == ("EXEC Originate AudioSocket/10.0.0.5:4574/3f2a7c1e-0000-4000-8000-000000000001,"
                       "app,ChanSpy,1700000000.42" "\\" "\\" ",qoEu,,,a")


async def test_given_an_advertised_address_then_the_command_names_it_and_the_bound_port():
    server = await TapServer(host="127.0.0.1", port=0, advertise_host="dialer-bot").start()
    try:
        tap = server.new_tap()
        assert server.port > 0
        assert server.command_for(tap, "1.2") == originate_command("dialer-bot", server.port, tap.tap_id, "1.2")
    finally:
        await server.close()


async def test_given_messages_then_encode_and_read_message_agree_and_oversize_payloads_are_refused():
    reader = asyncio.StreamReader()
    reader.feed_data(encode(KIND_UUID, b"\x01" * 16) + encode(KIND_HANGUP) + encode(KIND_AUDIO, b"\xff" * 65535))
    assert await read_message(reader) == (KIND_UUID, b"\x01" * 16)
    assert await read_message(reader) == (KIND_HANGUP, b"")
    assert await read_message(reader) == (KIND_AUDIO, b"\xff" * 65535)
    assert encode(KIND_AUDIO, b"ab") == b"\x10\x00\x02ab"
    with pytest.raises(TapProtocolError, match="65536 bytes"):
        encode(KIND_AUDIO, bytes(65536))
