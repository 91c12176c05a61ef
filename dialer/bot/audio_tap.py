"""The caller's audio, live, for the FastAGI bot: an AudioSocket listener fed by ChanSpy.

FastAGI gives the bot no audio (EAGI's fd 3 exists only for classic AGI children), and
RECORD FILE hands a recording back only after whole seconds of silence. The tap gets the audio
while the AGI session keeps the call, so keys (WAIT FOR DIGIT, STREAM FILE escape digits) still
work at every question:

    AGI: EXEC Originate AudioSocket/<host>:<port>/<uuid>,app,ChanSpy,<uniqueid>\\,qoEu,,,a

- `Originate(..., a)` returns at once; the new AudioSocket channel connects to this listener and
  runs ChanSpy on the bot's channel. AudioSocket itself forwards no DTMF (docs/bot.md), which is
  why it is the spy and not the call that runs it.
- ChanSpy options: `u` the argument is the channel's uniqueid (a name prefix could match another
  call), `o` only the audio *from* the caller (not the bot's own prompts), `q` no beep or name
  announcement to the spy, `E` stop when the call hangs up.

The AudioSocket protocol (Asterisk's res_audiosocket): a 3-byte header, kind (1 byte) and payload
length (2 bytes, big-endian), then the payload. Kinds: 0x00 hang-up, 0x01 the 16-byte UUID (first
message), 0x10 audio (8 kHz signed 16-bit little-endian), 0xff error. Measured on the harness
(Asterisk 22.10, Local channels): 20 ms frames, ~20 ms from the caller's side to this socket, and
no frames at all while the caller is silent (Local channels carry no silence).
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

KIND_HANGUP = 0x00
KIND_UUID = 0x01
KIND_AUDIO = 0x10
KIND_ERROR = 0xFF
CONNECT_TIMEOUT_S = 2.0
MAX_PAYLOAD = 65535

AudioListener = Callable[[bytes, float], None]


class TapProtocolError(ValueError):
    pass


def encode(kind: int, payload: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise TapProtocolError(f"AudioSocket payload of {len(payload)} bytes")
    return struct.pack(">BH", kind, len(payload)) + payload


async def read_message(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    header = await reader.readexactly(3)
    kind, length = struct.unpack(">BH", header)
    return kind, (await reader.readexactly(length) if length else b"")


def originate_command(host: str, port: int, tap_id: str, uniqueid: str) -> str:
    """The AGI command that starts the tap on the channel with this uniqueid.

    AGI's argument parser turns `\\\\` into `\\`, and Originate's then keeps `\\,` as a comma inside
    its app-data argument: ChanSpy gets "<uniqueid>,qoEu".
    """
    return (f"EXEC Originate AudioSocket/{host}:{port}/{tap_id},app,ChanSpy,"
            f"{uniqueid}\\\\,qoEu,,,a")


@dataclass
class Tap:
    """One call's audio. Frames arrive from the listener; the bot sets `listener` while it listens."""

    tap_id: str
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    listener: AudioListener | None = None
    frames: int = 0
    _writer: asyncio.StreamWriter | None = None

    def deliver(self, audio: bytes, arrived_at: float) -> None:
        self.frames += 1
        if self.listener is not None:
            self.listener(audio, arrived_at)

    async def wait_connected(self, timeout_s: float = CONNECT_TIMEOUT_S) -> bool:
        try:
            await asyncio.wait_for(self.connected.wait(), timeout_s)
            return True
        except TimeoutError:
            return False

    def hang_up(self) -> None:
        """End the spy channel (Asterisk hangs it up on this message) and close the socket."""
        if self._writer is not None and not self._writer.is_closing():
            try:
                self._writer.write(encode(KIND_HANGUP))
            except (ConnectionError, RuntimeError):
                pass
            self._writer.close()


class TapServer:
    """The AudioSocket listener: connections are matched to calls by the UUID the bot chose."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, advertise_host: str | None = None) -> None:
        self.host = host
        self.port = port
        self.advertise_host = advertise_host or host   # the address Asterisk connects to
        self._taps: dict[str, Tap] = {}
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.Task] = set()

    async def start(self) -> "TapServer":
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("bot audio tap (AudioSocket) listening on %s:%s", self.host, self.port)
        return self

    def new_tap(self) -> Tap:
        tap = Tap(str(uuidlib.uuid4()))
        self._taps[tap.tap_id] = tap
        return tap

    def forget(self, tap: Tap) -> None:
        tap.hang_up()
        self._taps.pop(tap.tap_id, None)

    def command_for(self, tap: Tap, uniqueid: str) -> str:
        return originate_command(self.advertise_host, self.port, tap.tap_id, uniqueid)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        tap: Tap | None = None
        try:
            kind, payload = await asyncio.wait_for(read_message(reader), CONNECT_TIMEOUT_S)
            if kind != KIND_UUID or len(payload) != 16:
                raise TapProtocolError(f"first AudioSocket message is kind {kind:#x}, {len(payload)} bytes")
            tap = self._taps.get(str(uuidlib.UUID(bytes=payload)))
            if tap is None:
                raise TapProtocolError(f"AudioSocket connection for unknown tap {uuidlib.UUID(bytes=payload)}")
            tap._writer = writer
            tap.connected.set()
            while True:
                kind, payload = await read_message(reader)
                if kind == KIND_AUDIO:
                    tap.deliver(payload, time.perf_counter())
                elif kind == KIND_HANGUP:
                    break
                elif kind == KIND_ERROR:
                    log.warning("audio tap %s: Asterisk reported an error (%s)", tap.tap_id, payload.hex())
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass   # the spy channel ended (the call hung up) or never spoke
        except TapProtocolError as exc:
            log.warning("audio tap connection dropped: %s", exc)
        finally:
            if tap is not None:
                tap.closed.set()
            writer.close()
            if task is not None:
                self._connections.discard(task)

    async def close(self) -> None:
        for tap in list(self._taps.values()):
            tap.hang_up()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
