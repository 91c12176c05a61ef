"""The agents' local HTTP API, served by `dialer run` on 127.0.0.1 (asyncio, no framework).

    GET  /agents/{name}/next[?campaign=C]   preview: the next contact, held for the agent
    POST /agents/{name}/call                {"contact_id": 12} or {"number": "+8613..."} [, "campaign": C]
    POST /agents/{name}/skip                {"account_id": 7, "why": "..."}
    GET  /agents/{name}/screen              the call the agent is on, with the bot's hand-off context

Every request carries `Authorization: Bearer <agents.api_token>`; answers are JSON, errors are
`{"error": message, ...details}` with the console's status (403 for a gate denial, with its reason).

Why not a framework: aiohttp/starlette are not dependencies, four routes do not need one, and the
server must live on the daemon's event loop (it shares the gate, the adapter and the call tracker)
rather than in a thread beside it. HTTP/1.1 with `Connection: close`: one request per connection.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from dialer.agents.console import AgentConsole, ConsoleError

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large", 500: "Internal Server Error",
            503: "Service Unavailable"}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class AgentApi:
    def __init__(self, *, console: AgentConsole, host: str, port: int, token: str) -> None:
        if not token:
            raise ValueError("agents.api_token is required to serve the agents' API (set DIALER_AGENTS_API_TOKEN)")
        self._console = console
        self._host = host
        self._port = port
        self._token = token
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The bound port (useful with port 0: the system picks a free one)."""
        assert self._server is not None and self._server.sockets
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self._host, self._port)
        log.info("agents' API on http://%s:%d", self._host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)

    # ---- one connection, one request --------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            status, payload = await self._answer(reader)
            body = json.dumps(payload, ensure_ascii=False).encode()
            writer.write(f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: application/json; "
                         f"charset=utf-8\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, Any]]:
        try:
            request = await asyncio.wait_for(read_request(reader), timeout=10)
            if not hmac.compare_digest(request.headers.get("authorization", "").encode("latin-1", "replace"),
                                       f"Bearer {self._token}".encode("latin-1", "replace")):
                raise HttpError(401, "missing or wrong bearer token (agents.api_token)")
            return 200, await self._route(request)
        except HttpError as exc:
            return exc.status, {"error": str(exc)}
        except ConsoleError as exc:
            return exc.status, {"error": str(exc), **exc.details}
        except TimeoutError:
            return 400, {"error": "request not received in time"}
        except Exception:
            log.exception("agents' API request failed")
            return 500, {"error": "internal error (see the dialer's log)"}

    async def _route(self, request: Request) -> dict[str, Any]:
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        if len(parts) != 3 or parts[0] != "agents":
            raise HttpError(404, f"no such resource: {request.path}")
        _, agent, action = parts
        console = self._console
        if (request.method, action) == ("GET", "next"):
            return console.next_contact(agent, campaign=request.query.get("campaign"))
        if (request.method, action) == ("GET", "screen"):
            return await console.screen(agent)
        if (request.method, action) == ("POST", "call"):
            body = request.body
            started = await console.call(agent, contact_id=_int(body.get("contact_id"), "contact_id"),
                                         number=body.get("number"), campaign=body.get("campaign"))
            return {"attempt_id": started.attempt_id, "campaign": started.campaign,
                    "contact_id": started.contact_id, "agent": started.agent}
        if (request.method, action) == ("POST", "skip"):
            account_id = _int(request.body.get("account_id"), "account_id")
            if account_id is None:
                raise HttpError(400, "account_id is required")
            console.skip(agent, account_id=account_id, why=str(request.body.get("why") or ""))
            return {"skipped": account_id}
        if action in ("next", "screen", "call", "skip"):
            raise HttpError(405, f"{request.method} not allowed on /agents/{{name}}/{action}")
        raise HttpError(404, f"no such resource: {request.path}")


async def read_request(reader: asyncio.StreamReader) -> Request:
    """Parse one HTTP/1.1 request (request line, headers, JSON body of Content-Length bytes)."""
    line = (await reader.readline()).decode("latin-1").strip()
    try:
        method, target, _version = line.split(" ", 2)
    except ValueError:
        raise HttpError(400, f"malformed request line {line[:80]!r}") from None
    headers: dict[str, str] = {}
    while True:
        raw = (await reader.readline()).decode("latin-1")
        if raw in ("\r\n", "\n", ""):
            break
        name, _, value = raw.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    if length > MAX_BODY:
        raise HttpError(413, f"body over {MAX_BODY} bytes")
    body: dict[str, Any] = {}
    if length:
        try:
            parsed = json.loads(await reader.readexactly(length))
        except ValueError:
            raise HttpError(400, "body is not JSON") from None
        if not isinstance(parsed, dict):
            raise HttpError(400, "body must be a JSON object")
        body = parsed
    url = urlsplit(target)
    query = {k: v[-1] for k, v in parse_qs(url.query).items()}
    return Request(method.upper(), url.path, query, headers, body)


def _int(value: object, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        raise HttpError(400, f"{name} must be an integer, got {value!r}") from None
