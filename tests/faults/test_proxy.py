"""The fault-injection proxy itself, on real sockets: what the link-loss and daemon fault tests rely
on when they cut or freeze a link (an echo server stands in for Asterisk)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.faults.proxy import CuttableProxy


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(1024):
        writer.write(data)
        await writer.drain()
    writer.close()


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def _round_trip(port: int, payload: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    assert await asyncio.wait_for(reader.readexactly(len(payload)), 5) == payload
    return reader, writer


async def test_given_an_open_link_when_cut_then_the_client_sees_it_close_and_a_new_link_works(
        echo_port: int) -> None:
    async with CuttableProxy(echo_port) as proxy:
        reader, writer = await _round_trip(proxy.port, b"ping")
        proxy.cut()
        # A reset or an EOF, never a hang: the client learns the link is gone.
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            await asyncio.wait_for(reader.readexactly(1), 5)
        writer.close()
        assert proxy.cuts == 1
        _, again = await _round_trip(proxy.port, b"pong")
        again.close()


async def test_given_an_open_link_when_frozen_then_it_stays_open_but_silent_and_a_new_link_works(
        echo_port: int) -> None:
    async with CuttableProxy(echo_port) as proxy:
        reader, writer = await _round_trip(proxy.port, b"ping")
        proxy.freeze()
        writer.write(b"anyone there?")
        await writer.drain()
        # Half-open: no data, no EOF, no reset; only a keepalive timeout can notice.
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(reader.read(1), 0.5)
        assert not reader.at_eof()
        _, fresh = await _round_trip(proxy.port, b"pong")
        fresh.close()
        writer.close()


async def test_given_the_target_is_down_when_a_client_connects_then_it_is_reset_not_left_hanging() -> None:
    probe = await asyncio.start_server(_echo, "127.0.0.1", 0)
    dead_port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    async with CuttableProxy(dead_port) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            await asyncio.wait_for(reader.readexactly(1), 5)
        writer.close()
