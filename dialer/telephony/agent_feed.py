"""Queue members' states for the ARI back end, from a side AMI connection.

Why AMI even when calls go through ARI: app_queue publishes its member events (QueueMemberStatus,
AgentCalled, AgentConnect, AgentComplete, QueueMemberPause) only on AMI. ARI has no queue resource
and no queue events at all (Asterisk 22 ARI: channels, bridges, endpoints, device states; a
member's device state alone cannot tell wrap-up or pause from free). So `AriTelephony` takes an
`AmiAgentFeed`: a read-only AMI login (the `agent` read class) that keeps an `AgentBoard`, asks
for every member's state (QueueStatus) at each login, then follows the live events.

It never originates: it holds no permit authority, and its actions are QueueStatus only.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from panoramisk.message import Message

from dialer.clock import Clock
from dialer.telephony.agents import AgentBoard, AgentSnapshot
from dialer.telephony.ami import AGENT_EVENTS, AmiSettings, _Manager
from dialer.telephony.interface import AsteriskError, Health

log = logging.getLogger(__name__)

_LOGIN = object()


class AmiAgentFeed:
    name = "ami-agents"

    def __init__(self, *, settings: AmiSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self.board = AgentBoard()
        self._inbox: asyncio.Queue[object] = asyncio.Queue()
        self._logged_in = asyncio.Event()
        self._refreshed = asyncio.Event()
        self._logins = 0
        self._since: datetime | None = None
        self._last_error = "not connected yet"
        self._manager: _Manager | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, *, timeout_s: float = 10.0) -> None:
        s = self._settings
        self._manager = _Manager(
            loop=asyncio.get_running_loop(), host=s.host, port=s.port, username=s.user, secret=s.password,
            ping_delay=s.ping_s, ping_interval=s.ping_s, reconnect_timeout=s.reconnect_s,
            forgetable_actions=("ping", "login", "queuestatus"),
            on_login=self._on_login, on_disconnect=self._on_disconnect)
        for event in AGENT_EVENTS:
            self._manager.register_event(event, self._on_ami_event)
        self._task = asyncio.create_task(self._pump(), name="ami-agent-feed")
        self._manager.connect()
        try:
            await asyncio.wait_for(self._refreshed.wait(), timeout_s)
        except asyncio.TimeoutError:
            await self.close()
            raise AsteriskError(f"AMI agent feed: login to {s.host}:{s.port} as {s.user!r} did not succeed in "
                                f"{timeout_s}s ({self._last_error})") from None

    async def close(self) -> None:
        if self._manager is not None:
            self._manager.closing = True
            self._manager.close()
        self._logged_in.clear()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def agents(self) -> AgentSnapshot | None:
        """None while the AMI link is down: stale "free" agents would make the pacer overdial,
        and no snapshot makes agent-staffed campaigns wait instead."""
        if not self._logged_in.is_set():
            return None
        return self.board.snapshot(self._clock.now())

    def health(self) -> Health:
        up = self._logged_in.is_set()
        detail = f"logged in since {self._since:%H:%M:%S}" if up and self._since else self._last_error
        return Health(self.name, up, detail, since=self._since, reconnects=max(self._logins - 1, 0))

    # --- AMI callbacks (synchronous, from panoramisk) -> our own task ------------------------

    def _on_login(self, manager: Any) -> None:
        if not manager.authenticated:
            self._last_error = "AMI login refused"
            return
        self._logins += 1
        self._since = self._clock.now()
        self._last_error = ""
        self._logged_in.set()
        self._inbox.put_nowait(_LOGIN)

    def _on_disconnect(self, manager: Any, exc: object) -> None:
        self._logged_in.clear()
        self._since = None
        self._last_error = f"AMI connection lost ({exc!r})"

    def _on_ami_event(self, manager: Any, message: Message) -> None:
        self._inbox.put_nowait(message)

    async def _pump(self) -> None:
        while True:
            item = await self._inbox.get()
            if item is _LOGIN:
                await self._refresh()
                continue
            assert isinstance(item, Message)
            self.board.apply(item.event, dict(item.items()), at=self._clock.now())

    async def _refresh(self) -> None:
        """Members may have changed while we were away: start again from Asterisk's list."""
        assert self._manager is not None
        try:
            replies = await asyncio.wait_for(
                self._manager.send_action({"Action": "QueueStatus"}, as_list=True), self._settings.action_timeout_s)
        except (asyncio.TimeoutError, OSError) as exc:
            log.warning("AMI agent feed: QueueStatus failed (%r); following live events only", exc)
            self._refreshed.set()
            return
        self.board = refreshed_board(replies if isinstance(replies, list) else [], at=self._clock.now())
        self._refreshed.set()


def refreshed_board(replies: list[Any], *, at: datetime) -> AgentBoard:
    """A board built from QueueStatus replies (`Event: QueueMember` entries)."""
    board = AgentBoard()
    for reply in replies:
        if reply.get("Event") == "QueueMember":
            headers = dict(reply.items())
            headers.setdefault("Interface", headers.get("Location", ""))
            board.apply("QueueMember", headers, at=at)
    return board
