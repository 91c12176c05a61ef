"""Bad input fuzzing of the FastAGI protocol: whatever bytes a peer sends as its environment or as
reply lines, the parser answers with a dict or a typed `AgiProtocolError`, and the bot server keeps
serving the next, well-formed call (it found that panoramisk's own handler froze the whole process
on a peer closing mid-environment)."""

from __future__ import annotations

import asyncio
import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.bot.agi_dialog import ChannelHungUp, result_value
from dialer.bot.agi_protocol import AgiProtocolError, connection_handler, parse_environment, parse_reply
from panoramisk.fast_agi import Application

agi_line = st.one_of(
    st.binary(max_size=60),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"200 result=1 (hangup)", b"200 result=-1", b"200 result= (timeout)", b"HANGUP",
                     b"510 Invalid or unknown command", b"520-Invalid command syntax.", b"100 result=0 Trying...",
                     b"200 result=0 endpos=1234", b"200 result=1 (\xff\xfe)", b"", b"\r", b"200", b"-1 result=x",
                     b"99999999999999999999 result=1"]))


@settings(max_examples=400, deadline=None)
@given(line=agi_line)
def test_given_any_reply_line_then_it_parses_to_a_result_or_an_agi_error_never_an_exception(line: bytes) -> None:
    reply = parse_reply(line)
    assert isinstance(reply, dict) and ("result" in reply or "error" in reply)
    # What the dialog does with it: a value, a hang-up, or a RuntimeError naming the AGI error.
    try:
        value, data = result_value(reply)
    except ChannelHungUp:
        pass
    except RuntimeError as error:
        assert str(error).startswith("AGI error ")
    else:
        assert isinstance(value, str) and isinstance(data, str)


header = st.one_of(
    st.tuples(st.sampled_from(["agi_network_script", "agi_channel", "agi_uniqueid", "agi_arg_1", "x"]),
              st.text(alphabet=st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=20))
    .map(lambda kv: f"{kv[0]}: {kv[1]}".encode()),
    st.binary(max_size=30))


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(header, max_size=8))
def test_given_any_environment_block_then_it_parses_or_raises_a_protocol_error(lines: list[bytes]) -> None:
    block = b"\n".join(lines)
    try:
        headers = parse_environment(block)
    except AgiProtocolError as error:
        assert str(error)
    else:
        assert "agi_network_script" in headers and all(isinstance(v, str) for v in headers.values())


async def _served_calls(garbage: bytes, close_early: bool) -> list[str]:
    """One garbage connection, then one good call; returns what the good call read back."""
    seen: list[str] = []

    async def route(request):  # type: ignore[no-untyped-def]
        if request.headers.get("agi_channel") != "Local/good-0001;1":
            return   # the garbage happened to be a valid call: nothing to ask it
        reply = await request.send_command("GET VARIABLE DIALER_ATTEMPT_ID")
        seen.append(str(reply.get("result", reply.get("error"))))

    app = Application()
    app.add_route("bot", route)
    server = await asyncio.start_server(connection_handler(app), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(garbage)
        await writer.drain()
        if close_early:
            writer.close()
        reader2, writer2 = await asyncio.open_connection("127.0.0.1", port)
        writer2.write(b"agi_network_script: bot\nagi_channel: Local/good-0001;1\n\n")
        await writer2.drain()
        assert (await asyncio.wait_for(reader2.readline(), 5)) == b"GET VARIABLE DIALER_ATTEMPT_ID\n"
        writer2.write(b"200 result=1 (42)\n")
        await writer2.drain()
        await asyncio.wait_for(reader2.read(), 5)   # the server closes the good call when the route ends
        writer2.close()
        if not close_early:
            writer.close()
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1)
    return seen


@settings(max_examples=60, deadline=None)
@given(garbage=st.one_of(st.binary(max_size=300),
                         st.sampled_from([b"agi_network_script: bot\n", b"agi_network_script: bot", b"\xff\xfe\n\n",
                                          b"agi_network_script: nosuch\n\n", b"agi_channel: x\n\n"])),
       close_early=st.booleans())
def test_given_a_garbage_connection_then_the_next_call_is_still_served(garbage: bytes, close_early: bool) -> None:
    seen = asyncio.run(asyncio.wait_for(_served_calls(garbage, close_early), 20))
    assert seen == ["('1', '42')"]


async def _reply_seen_by_the_bot(reply_line: bytes) -> object:
    """A well-formed call whose first reply is `reply_line`: what the route's send_command returns."""
    seen: list[object] = []

    async def route(request):  # type: ignore[no-untyped-def]
        try:
            seen.append(await request.send_command("GET VARIABLE DIALER_ATTEMPT_ID"))
        except Exception as exc:   # what the fuzz looks for: nothing may escape as an exception
            seen.append(exc)

    app = Application()
    app.add_route("bot", route)
    server = await asyncio.start_server(connection_handler(app), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"agi_network_script: bot\n\n")
        await reader.readline()
        writer.write(reply_line + b"\n")
        await writer.drain()
        await asyncio.wait_for(reader.read(), 5)
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
    return seen[0]


@settings(max_examples=150, deadline=None)
# 100 (Trying) and 520 (usage follows) announce more lines; one garbage line is the whole reply here.
@given(line=agi_line.filter(lambda b: b"\n" not in b and not b.startswith((b"100", b"520"))))
def test_given_any_reply_to_a_command_then_the_bot_gets_a_result_or_an_agi_error(line: bytes) -> None:
    reply = asyncio.run(asyncio.wait_for(_reply_seen_by_the_bot(line), 20))
    assert isinstance(reply, dict) and ("result" in reply or "error" in reply), reply
