"""FastAGI framing as pure code: the `agi_*` environment block and `200 result=` reply lines.

panoramisk's own connection handler reads the environment with `while b'\\n\\n' not in buffer:
buffer += await reader.read(100)`: a peer that closes before the blank line (Asterisk killed
mid-handshake, a port scanner, a truncated packet) makes `read` return b'' forever without ever
yielding, and the whole bot process (every call it serves) freezes. Found by the fuzz test
tests/fuzz/test_fuzz_agi.py. `connection_handler` replaces it: bounded, EOF-aware, and a bad
environment is logged and the socket closed, never raised into asyncio's server.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from panoramisk.fast_agi import Application, Request
from panoramisk.utils import parse_agi_result

log = logging.getLogger(__name__)

# Asterisk sends ~25 agi_* lines plus agi_arg_N: a few KiB at most. Anything larger is not Asterisk.
MAX_ENVIRONMENT_BYTES = 64 * 1024
# Asterisk sends the environment at once on connect; a peer silent this long is not Asterisk.
ENVIRONMENT_TIMEOUT_S = 10.0


class AgiProtocolError(ValueError):
    """What the peer sent is not a FastAGI session (the message says what was wrong)."""


def parse_environment(block: bytes) -> OrderedDict[str, str]:
    """The `agi_name: value` lines of one environment block (without its blank line).

    Lines without ': ' are ignored, as Asterisk never sends them and panoramisk skips them too.
    """
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AgiProtocolError(f"AGI environment is not UTF-8 (byte {exc.start})") from None
    headers: OrderedDict[str, str] = OrderedDict()
    for line in text.split("\n"):
        name, sep, value = line.rstrip("\r").partition(": ")
        if sep:
            headers[name] = value
    if "agi_network_script" not in headers:
        raise AgiProtocolError("AGI environment has no agi_network_script line")
    return headers


async def read_environment(reader: asyncio.StreamReader, *, limit: int = MAX_ENVIRONMENT_BYTES,
                           timeout_s: float = ENVIRONMENT_TIMEOUT_S) -> OrderedDict[str, str]:
    """Read up to the blank line that ends the environment; fail on EOF, oversize or silence."""
    buffer = b""
    async with asyncio.timeout(timeout_s):
        while b"\n\n" not in buffer:
            chunk = await reader.read(4096)
            if not chunk:
                raise AgiProtocolError(f"peer closed after {len(buffer)} bytes, before the end of the "
                                       "AGI environment")
            buffer += chunk
            if len(buffer) > limit:
                raise AgiProtocolError(f"AGI environment longer than {limit} bytes")
    block, _, _rest = buffer.partition(b"\n\n")
    return parse_environment(block)


def parse_reply(line: bytes) -> dict[str, Any]:
    """One reply line from Asterisk in panoramisk's result shape; garbage becomes an error dict
    (AGIUnknownError), never an exception, so the dialog treats it like any failed command."""
    text = line.decode("utf-8", errors="replace").rstrip("\r\n")
    if not text:
        # An empty read is a closed socket: the call is gone.
        return {"error": "AGIResultHangup", "msg": "connection closed"}
    try:
        return dict(parse_agi_result(text))
    except ValueError:
        # panoramisk does int() on the leading digits: a line without any ("garbage") raises.
        return {"error": "AGIUnknownError", "msg": text[:200]}


class AgiRequest(Request):
    """panoramisk's request, reading replies with `parse_reply` (garbage is an error dict, EOF a
    hang-up) instead of raising from `int('')` deep in panoramisk."""

    async def _read_result(self) -> dict[str, Any]:
        return parse_reply(await self.reader.readline())


class ChannelHungUp(Exception):
    """Asterisk reported a hang-up (or a dead channel) in reply to a command."""


def result_value(reply: dict[str, Any]) -> tuple[str, str]:
    """A reply's (result, data); a hang-up raises `ChannelHungUp`, any other error RuntimeError."""
    if "error" in reply:
        if reply["error"] in ("AGIResultHangup", "AGIAppError"):
            raise ChannelHungUp(reply.get("msg", reply["error"]))
        raise RuntimeError(f"AGI error {reply['error']}: {reply.get('msg', '')}")
    value = reply.get("result", ("", ""))
    return str(value[0]), str(value[1])


# What a STREAM FILE stopped by a later command reads as (Asterisk itself says nothing for it):
# result 1, the value WAIT FOR DIGIT reports when a command ends it (a key would be its code, >= 35).
STOPPED_PLAYBACK: dict[str, Any] = {"status_code": 200, "result": ("1", "stopped"), "msg": ""}


class AgiPipe:
    """AGI commands over one FastAGI socket, several in flight: replies are matched in order.

    Asterisk answers each command with one line, in the order received (a usage error, "520-...",
    runs over several lines up to "520 ..."). Why more than one in flight: a command written while
    WAIT FOR DIGIT runs interrupts it (Asterisk watches the socket and returns result=1), which is
    how the streaming bot ends a listening step the moment it has heard the caller out. The
    interrupted command's reply and the next one's come back in order here.

    "HANGUP" is Asterisk telling a FastAGI script that the channel hung up; it answers no command.
    From then on every pending and later command reads as a hang-up.

    One command breaks the one-reply rule: a STREAM FILE stopped by the next command (how the bot
    stops a prompt the caller talks over) prints *no* reply at all (res_agi.c, handle_streamfile:
    "don't print a result line, as there is a new command"). Every STREAM FILE reply carries
    `endpos=`, so a STREAM FILE with a later command written behind it that meets a 200 reply
    without `endpos=` was stopped: it reads as `STOPPED_PLAYBACK` and that reply is the next one's.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._waiting: deque[asyncio.Future[dict[str, Any]]] = deque()
        self._overtaken: set[asyncio.Future[dict[str, Any]]] = set()   # STREAM FILEs a command followed
        self._playing: set[asyncio.Future[dict[str, Any]]] = set()     # STREAM FILEs not answered yet
        self._reading: asyncio.Task[None] | None = None
        self._hung_up: dict[str, Any] | None = None

    async def send(self, command: str) -> dict[str, Any]:
        if self._hung_up is not None:
            return self._hung_up
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._overtaken |= self._playing
        if command.upper().startswith("STREAM FILE"):
            self._playing.add(future)
        self._waiting.append(future)
        try:
            self._writer.write(command.encode("utf-8") + b"\n")
            await self._writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            self._hang_up({"error": "AGIResultHangup", "msg": f"connection lost: {exc!r}"})
        if self._reading is None or self._reading.done():
            self._reading = asyncio.ensure_future(self._read())
        return await future

    async def _read(self) -> None:
        while self._waiting:
            try:
                line = await self._reader.readline()
                if line.startswith(b"520-"):          # usage text follows, up to "520 End of ..."
                    while line and not line.startswith(b"520 "):
                        line = await self._reader.readline()
            except (ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
                self._hang_up({"error": "AGIResultHangup", "msg": f"connection lost: {exc!r}"})
                return
            if not line.endswith(b"\n"):
                # readline() hands back a fragment at EOF: Asterisk went away mid-reply, and a cut
                # "200 result=4" (of "200 result=49", the key '1') must not read as a reply.
                line = b""
            reply = parse_reply(line)
            if not line or line.strip() == b"HANGUP":
                self._hang_up(reply)
                return
            future = self._waiting.popleft()
            if future in self._overtaken and reply.get("status_code") == 200 and "endpos" not in reply:
                self._answer(future, STOPPED_PLAYBACK)      # stopped: this reply is the next command's
                future = self._waiting.popleft()
            self._answer(future, reply)

    def _answer(self, future: asyncio.Future[dict[str, Any]], reply: dict[str, Any]) -> None:
        self._overtaken.discard(future)
        self._playing.discard(future)
        if not future.done():      # a cancelled sender's reply is still consumed, in order
            future.set_result(reply)

    def _hang_up(self, reply: dict[str, Any]) -> None:
        self._hung_up = reply
        while self._waiting:
            self._answer(self._waiting.popleft(), reply)

    async def close(self) -> None:
        if self._reading is not None and not self._reading.done():
            self._reading.cancel()
            try:
                await self._reading
            except asyncio.CancelledError:
                pass


def connection_handler(app: Application) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                                      Awaitable[None]]:
    """An `asyncio.start_server` callback that routes to `app`'s routes like panoramisk's own
    handler, with the robust environment reader above."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            try:
                headers = await read_environment(reader)
            except (AgiProtocolError, TimeoutError) as exc:
                log.warning("FastAGI connection from %r dropped: %s", peer, exc or "no environment in time")
                return
            script = headers["agi_network_script"]
            route = app._route.get(script)   # panoramisk keeps routes there; no public getter
            if route is None:
                log.error("FastAGI: no route for %r (from %r)", script, peer)
                return
            try:
                await route(AgiRequest(app=app, headers=headers, reader=reader, writer=writer,
                                       encoding=app.default_encoding))
            except Exception:   # one broken call must not take the server down; CancelledError passes
                log.exception("FastAGI route %r failed", script)
        finally:
            writer.close()

    return handle
