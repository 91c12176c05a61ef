"""The ARI client's event plumbing: several handlers per event, reconnect with growing backoff."""

import asyncio

from dialer.clock import SystemClock
from dialer.telephony.ari import AriClient, AriEvent, AriSettings


def settings(port: int = 9, **kw) -> AriSettings:
    return AriSettings(f"http://127.0.0.1:{port}/ari", "u", "p", **kw)


async def test_given_several_handlers_when_an_event_arrives_then_each_runs_and_a_failure_is_contained():
    client = AriClient(settings=settings())
    calls: list[str] = []

    async def second(event):
        calls.append("second")

    def broken(event):
        raise RuntimeError("handler bug")

    client.on("ChannelDestroyed", lambda e: calls.append("first"))
    client.on("ChannelDestroyed", broken)
    client.on("ChannelDestroyed", second)
    remove = client.on("*", lambda e: calls.append(f"any:{e.type}"))
    await client.dispatch(AriEvent.from_json({"type": "ChannelDestroyed"}))
    remove()
    await client.dispatch(AriEvent.from_json({"type": "ChannelDestroyed"}))
    await client.dispatch(AriEvent.from_json({"type": "StasisStart"}))
    await client.aclose()
    assert calls == ["first", "second", "any:ChannelDestroyed", "first", "second"]


async def test_given_a_server_that_drops_every_connection_then_reconnects_back_off_exponentially():
    accepted: list[float] = []
    loop = asyncio.get_running_loop()

    async def drop(reader, writer):   # fault injection: accept, then hang up at once
        accepted.append(loop.time())
        writer.close()

    server = await asyncio.start_server(drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = AriClient(settings=settings(port, backoff_initial_s=0.05, backoff_max_s=0.4))
    task = asyncio.create_task(client.run_events(SystemClock()))
    try:
        while len(accepted) < 6:
            await asyncio.sleep(0.02)
        assert not client.connected.is_set()
        assert "event socket" in client.last_error
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        server.close()
        await server.wait_closed()
        await client.aclose()
    gaps = [b - a for a, b in zip(accepted, accepted[1:])]
    # 0.05, 0.1, 0.2, 0.4, 0.4 s (+-20 % jitter): growing, then capped.
    assert gaps[0] < gaps[2] < gaps[3] * 1.3
    assert max(gaps) < 0.4 * 1.2 + 0.2
