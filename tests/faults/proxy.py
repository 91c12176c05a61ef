"""A TCP proxy the tests can cut or freeze: the fault injector between the dialer and Asterisk's
ports (ARI's HTTP/WebSocket, AMI). Used by the daemon fault tests and the adapter link-loss tests."""

from __future__ import annotations

import asyncio
import contextlib


class CuttableProxy:
    """127.0.0.1:<ephemeral> -> 127.0.0.1:<target>. `cut()` aborts every open connection (the peer
    sees a reset, as when a firewall or NAT drops the flow); `freeze()` silently stops forwarding on
    them (a half-open link: no FIN, no RST, just silence). New connections are accepted again."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._frozen: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> CuttableProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            # Target down (Asterisk stopped): the client sees a reset, as it would without us.
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        pipes = [asyncio.create_task(self._pipe(reader, up_writer)),
                 asyncio.create_task(self._pipe(up_reader, writer))]
        self._tasks.update(pipes)
        await asyncio.gather(*pipes, return_exceptions=True)
        self._tasks.difference_update(pipes)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if writer in self._frozen:
                    continue  # swallowed: the sender's keepalives go unanswered
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
            self._writers.discard(writer)
            self._frozen.discard(writer)

    def freeze(self) -> None:
        """Stop forwarding on the open connections without closing them; new ones flow again."""
        self._frozen |= self._writers
        self._writers = set()

    def cut(self) -> None:
        self.cuts += 1
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._writers.clear()
