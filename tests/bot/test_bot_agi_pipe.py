"""AGI commands in flight over one FastAGI socket (AgiPipe): replies are matched in order.

Asterisk's side is played by the test: the pipe writes to a real socket pair (the test reads the
commands off the other end) and reads replies from a StreamReader the test feeds, so each reply
arrives exactly when the test says.
"""

import asyncio
import socket

import pytest

from dialer.bot.agi_protocol import AgiPipe

USAGE_520 = (b"520-Invalid command syntax.  Proper usage follows:\n"
             b"Usage: WAIT FOR DIGIT <timeout>\n"
             b"       Waits up to 'timeout' milliseconds for channel to receive a DTMF digit.\n"
             b"520 End of proper usage.\n")


class FakeAsteriskEnd:
    """The far end of the AGI socket: what the bot wrote, and the replies the test feeds it."""

    def __init__(self, replies: asyncio.StreamReader, written: asyncio.StreamReader) -> None:
        self.replies = replies
        self._written = written

    async def command(self) -> str:
        """The next command the pipe wrote (fails if none comes within a second)."""
        line = await asyncio.wait_for(self._written.readline(), 1.0)
        assert line.endswith(b"\n"), line
        return line.decode().rstrip("\n")

    async def nothing_written(self) -> bool:
        try:
            line = await asyncio.wait_for(self._written.readline(), 0.1)
        except TimeoutError:
            return True
        return line == b""

    def reply(self, lines: bytes) -> None:
        self.replies.feed_data(lines)


@pytest.fixture
async def agi():
    ours, theirs = socket.socketpair()
    _unused, writer = await asyncio.open_connection(sock=ours)
    written, their_writer = await asyncio.open_connection(sock=theirs)
    replies = asyncio.StreamReader()
    pipe = AgiPipe(replies, writer)
    yield pipe, FakeAsteriskEnd(replies, written)
    await pipe.close()
    writer.close()
    their_writer.close()


async def test_given_two_commands_in_flight_then_each_gets_its_own_reply_in_order(agi):
    pipe, asterisk = agi
    waiting = asyncio.ensure_future(pipe.send("WAIT FOR DIGIT 5000"))
    noop = asyncio.ensure_future(pipe.send("NOOP"))
    assert await asterisk.command() == "WAIT FOR DIGIT 5000"
    assert await asterisk.command() == "NOOP"        # written before the first reply came
    assert not waiting.done() and not noop.done()
    asterisk.reply(b"200 result=1\n")
    assert (await waiting)["result"] == ("1", "")
    await asyncio.sleep(0.01)
    assert not noop.done()                            # its reply has not arrived: no one else's
    asterisk.reply(b"200 result=0\n")
    assert (await noop)["result"] == ("0", "")


async def test_given_replies_arriving_together_then_they_are_shared_out_in_order(agi):
    pipe, asterisk = agi
    sends = [asyncio.ensure_future(pipe.send(f"GET VARIABLE V{n}")) for n in range(5)]
    for n in range(5):
        assert await asterisk.command() == f"GET VARIABLE V{n}"
    asterisk.reply(b"".join(f"200 result=1 (value{n})\n".encode() for n in range(5)))
    assert [(await s)["result"] for s in sends] == [("1", f"value{n}") for n in range(5)]


async def test_given_a_command_after_all_replies_came_then_the_pipe_reads_again(agi):
    pipe, asterisk = agi
    first = asyncio.ensure_future(pipe.send("NOOP"))
    await asterisk.command()
    asterisk.reply(b"200 result=0\n")
    assert (await first)["result"] == ("0", "")
    second = asyncio.ensure_future(pipe.send("ANSWER"))
    assert await asterisk.command() == "ANSWER"
    asterisk.reply(b"200 result=1 (second)\n")
    assert (await second)["result"] == ("1", "second")


async def test_given_a_cancelled_sender_then_its_reply_is_consumed_without_shifting_the_next(agi):
    pipe, asterisk = agi
    waiting = asyncio.ensure_future(pipe.send("WAIT FOR DIGIT 5000"))
    assert await asterisk.command() == "WAIT FOR DIGIT 5000"
    waiting.cancel()                                  # e.g. the dialog step was abandoned
    noop = asyncio.ensure_future(pipe.send("NOOP"))
    assert await asterisk.command() == "NOOP"
    asterisk.reply(b"200 result=1\n")                 # the cancelled WAIT's reply
    await asyncio.sleep(0.01)
    assert not noop.done()
    asterisk.reply(b"200 result=0 (noop)\n")
    assert (await noop)["result"] == ("0", "noop")
    assert waiting.cancelled()


async def test_given_a_520_usage_reply_then_its_lines_up_to_520_space_are_one_reply(agi):
    pipe, asterisk = agi
    bad = asyncio.ensure_future(pipe.send("WAIT FOR DIGIT"))
    good = asyncio.ensure_future(pipe.send("NOOP"))
    await asterisk.command()
    await asterisk.command()
    asterisk.reply(USAGE_520 + b"200 result=0\n")
    reply = await bad
    assert reply["error"] == "AGIUsageError" and reply["status_code"] == 520
    assert (await good) == {"status_code": 200, "result": ("0", ""), "msg": ""}


async def test_given_a_520_usage_reply_arriving_line_by_line_then_the_next_sender_still_waits_for_its_own(agi):
    pipe, asterisk = agi
    bad = asyncio.ensure_future(pipe.send("WAIT FOR DIGIT"))
    good = asyncio.ensure_future(pipe.send("NOOP"))
    await asterisk.command()
    await asterisk.command()
    for line in USAGE_520.splitlines(keepends=True):
        asterisk.reply(line)
        await asyncio.sleep(0.01)
    assert (await bad)["status_code"] == 520
    assert not good.done()
    asterisk.reply(b"200 result=0\n")
    assert (await good)["result"] == ("0", "")


async def test_given_hangup_from_asterisk_then_pending_and_later_sends_read_as_a_hang_up(agi):
    pipe, asterisk = agi
    pending = [asyncio.ensure_future(pipe.send("WAIT FOR DIGIT 5000")), asyncio.ensure_future(pipe.send("NOOP"))]
    await asterisk.command()
    await asterisk.command()
    asterisk.reply(b"HANGUP\n")
    for send in pending:
        assert (await send)["error"] == "AGIResultHangup"
    later = await asyncio.wait_for(pipe.send("STREAM FILE goodbye \"\""), 1.0)
    assert later["error"] == "AGIResultHangup"
    assert await asterisk.nothing_written()          # the call is gone: nothing more is sent


async def test_given_hangup_after_some_replies_then_only_the_unanswered_sends_read_as_a_hang_up(agi):
    pipe, asterisk = agi
    answered = asyncio.ensure_future(pipe.send("ANSWER"))
    unanswered = asyncio.ensure_future(pipe.send("WAIT FOR DIGIT 5000"))
    await asterisk.command()
    await asterisk.command()
    asterisk.reply(b"200 result=0\nHANGUP\n")
    assert (await answered)["result"] == ("0", "")
    assert (await unanswered)["error"] == "AGIResultHangup"


async def test_given_the_socket_closes_then_pending_and_later_sends_read_as_a_hang_up(agi):
    pipe, asterisk = agi
    pending = asyncio.ensure_future(pipe.send("WAIT FOR DIGIT 5000"))
    await asterisk.command()
    asterisk.replies.feed_eof()
    reply = await asyncio.wait_for(pending, 1.0)
    assert reply == {"error": "AGIResultHangup", "msg": "connection closed"}
    assert (await asyncio.wait_for(pipe.send("NOOP"), 1.0))["error"] == "AGIResultHangup"
    assert await asterisk.nothing_written()


@pytest.mark.parametrize("fragment", [b"200 res", b"200 result=4"])
async def test_given_a_reply_cut_by_the_socket_closing_then_the_sender_reads_a_hang_up_not_the_fragment(
        agi, fragment):
    # readline() returns the fragment at EOF; "200 result=4" cut from "200 result=49" (the key '1')
    # would otherwise read as another key.
    pipe, asterisk = agi
    pending = asyncio.ensure_future(pipe.send("WAIT FOR DIGIT 5000"))
    await asterisk.command()
    asterisk.reply(fragment)
    asterisk.replies.feed_eof()
    assert await asyncio.wait_for(pending, 1.0) == {"error": "AGIResultHangup", "msg": "connection closed"}


async def test_given_the_pipe_closed_while_a_reply_is_awaited_then_close_returns_at_once():
    ours, theirs = socket.socketpair()
    _unused, writer = await asyncio.open_connection(sock=ours)
    _written, their_writer = await asyncio.open_connection(sock=theirs)
    pipe = AgiPipe(asyncio.StreamReader(), writer)
    pending = asyncio.ensure_future(pipe.send("WAIT FOR DIGIT 5000"))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(pipe.close(), 1.0)
    pending.cancel()
    writer.close()
    their_writer.close()


async def test_given_the_socket_cannot_be_written_then_the_send_reads_as_a_hang_up():
    ours, theirs = socket.socketpair()
    _unused, writer = await asyncio.open_connection(sock=ours)
    theirs.close()
    pipe = AgiPipe(asyncio.StreamReader(), writer)
    writer.close()                                    # the transport is gone under the pipe
    await asyncio.sleep(0.01)
    reply = await asyncio.wait_for(pipe.send("NOOP"), 1.0)
    assert reply["error"] == "AGIResultHangup" and reply["msg"].startswith("connection lost")
    assert (await asyncio.wait_for(pipe.send("NOOP"), 1.0))["error"] == "AGIResultHangup"
    await pipe.close()


async def prompt_then_noop(pipe: AgiPipe, asterisk: FakeAsteriskEnd):
    """A prompt playing (keys stop it) and a NOOP written behind it, both read by Asterisk."""
    playing = asyncio.ensure_future(pipe.send('STREAM FILE /x/prompt "0123456789*#"'))
    assert await asterisk.command() == 'STREAM FILE /x/prompt "0123456789*#"'
    noop = asyncio.ensure_future(pipe.send("NOOP"))
    assert await asterisk.command() == "NOOP"
    return playing, noop


async def test_given_a_prompt_stopped_by_the_next_command_then_its_missing_reply_reads_as_stopped(agi):
    # Asterisk prints nothing for a STREAM FILE that a later command stopped (res_agi.c): the one
    # reply that comes is the NOOP's, and it must not be taken for the prompt's.
    pipe, asterisk = agi
    playing, noop = await prompt_then_noop(pipe, asterisk)
    asterisk.reply(b"200 result=0\n")
    assert (await playing)["result"] == ("1", "stopped")
    assert (await noop)["result"] == ("0", "")
    getting = asyncio.ensure_future(pipe.send("GET VARIABLE X"))
    assert await asterisk.command() == "GET VARIABLE X"
    asterisk.reply(b"200 result=1 (x)\n")
    assert (await getting)["result"] == ("1", "x")     # and the pipe stays in step afterwards


async def test_given_a_prompt_that_ended_just_before_the_next_command_then_both_replies_are_its_own(agi):
    # The race the other way: the prompt finished (its reply, with endpos, is on the wire) before
    # Asterisk read the NOOP. Then two replies come, one each.
    pipe, asterisk = agi
    playing, noop = await prompt_then_noop(pipe, asterisk)
    asterisk.reply(b"200 result=0 endpos=12345\n")
    reply = await playing
    assert reply["result"] == ("0", "") and reply["endpos"] == ("12345", "")
    await asyncio.sleep(0.01)
    assert not noop.done()
    asterisk.reply(b"200 result=0\n")
    assert (await noop)["result"] == ("0", "")


async def test_given_a_prompt_alone_then_a_reply_without_endpos_is_still_its_own(agi):
    # Nothing was written behind it, so nothing can have stopped it: no guessing.
    pipe, asterisk = agi
    playing = asyncio.ensure_future(pipe.send("STREAM FILE /x/prompt \"\""))
    await asterisk.command()
    asterisk.reply(b"200 result=0\n")
    assert (await playing)["result"] == ("0", "")


async def test_given_a_key_on_a_prompt_with_a_command_behind_it_then_the_key_is_kept(agi):
    pipe, asterisk = agi
    playing, noop = await prompt_then_noop(pipe, asterisk)
    asterisk.reply(b"200 result=49 endpos=800\n200 result=0\n")
    assert (await playing)["result"] == ("49", "")
    assert (await noop)["result"] == ("0", "")
