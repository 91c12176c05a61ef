"""Headless Chromium driven over the Chrome DevTools Protocol (websockets, no selenium): open a
local file, record every console error, uncaught exception and network request, evaluate a
script, take a full-page screenshot.

Debian 12: `apt-get install chromium` (the `chromium-driver` package is only needed for selenium).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    return next((path for name in BINARIES if (path := shutil.which(name))), None)


@dataclass
class PageLog:
    errors: list[str] = field(default_factory=list)        # console errors, exceptions, failed loads
    requests: list[str] = field(default_factory=list)      # every URL the page asked for


class Page:
    def __init__(self, socket: Any) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._events: dict[str, asyncio.Event] = {}
        self.log = PageLog()

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        reply = self._replies[call_id] = asyncio.get_running_loop().create_future()
        await self._socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        message = await asyncio.wait_for(reply, timeout=30)
        if "error" in message:
            raise RuntimeError(f"CDP {method}: {message['error']}")
        return message.get("result", {})  # type: ignore[no-any-return]

    def event(self, method: str) -> asyncio.Event:
        return self._events.setdefault(method, asyncio.Event())

    async def read(self) -> None:
        async for raw in self._socket:
            message = json.loads(raw)
            if "id" in message:
                self._replies.pop(message["id"]).set_result(message)
                continue
            self._record(message["method"], message.get("params", {}))
            self.event(message["method"]).set()

    def _record(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            self.log.errors.append("console: " + " ".join(str(a.get("value", a.get("description")))
                                                          for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            self.log.errors.append("exception: " + params["exceptionDetails"].get("text", ""))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.log.errors.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")
        elif method == "Network.loadingFailed":
            self.log.errors.append(f"load failed: {params.get('errorText')} ({params.get('blockedReason', '')})")
        elif method == "Network.requestWillBeSent":
            self.log.requests.append(params["request"]["url"])

    async def open(self, path: Path) -> None:
        for domain in ("Runtime", "Log", "Network", "Page"):
            await self.call(f"{domain}.enable")
        loaded = self.event("Page.loadEventFired")
        loaded.clear()
        await self.call("Page.navigate", url=path.resolve().as_uri())
        await asyncio.wait_for(loaded.wait(), timeout=30)
        # one more round trip: events emitted during load are read before anyone looks at the log
        await self.call("Runtime.evaluate", expression="1")

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def screenshot(self, path: Path) -> Path:
        shot = await self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@asynccontextmanager
async def chromium(binary: str, profile_dir: Path) -> AsyncIterator[Page]:
    """One headless Chromium with one page; killed (by its own pid) on exit."""
    args = [binary, "--headless=new", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={profile_dir}",
            "--window-size=1000,1400", "about:blank"]
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")   # Chromium refuses to start its sandbox as root (CI containers)
    process = await asyncio.create_subprocess_exec(*args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        port = await asyncio.wait_for(_devtools_port(process), timeout=30)
        async with httpx.AsyncClient() as client:
            targets = (await client.get(f"http://127.0.0.1:{port}/json/list")).json()
        page_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        async with websockets.connect(page_url, max_size=64 * 2**20) as socket:
            page = Page(socket)
            async with asyncio.TaskGroup() as tasks:
                reader = tasks.create_task(page.read())
                drain = tasks.create_task(_drain(process))   # a full stderr pipe would stall Chromium
                try:
                    yield page
                finally:
                    reader.cancel()
                    drain.cancel()
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def _drain(process: asyncio.subprocess.Process) -> None:
    assert process.stderr is not None
    while await process.stderr.read(65536):
        pass


async def _devtools_port(process: asyncio.subprocess.Process) -> int:
    assert process.stderr is not None
    seen = []
    while line := (await process.stderr.readline()).decode(errors="replace"):
        seen.append(line)
        if match := re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line):
            return int(match.group(1))
    raise RuntimeError("chromium exited before its DevTools port was known:\n" + "".join(seen))
