"""One AMI login kept up: what the AMI back end (`AmiTelephony`, ami.py) and the ARI back end's side
feed of agent states (`AmiAgentFeed`, agent_feed.py) share.

- panoramisk's reconnecting Manager, made to stop once closed and to notice a dead link;
- the login state (`logged_in`, logins, since when, the last error) that `health()` reports;
- a first login bounded in time, failing with an `AsteriskError` that names host, port and user;
- events and logins handed from panoramisk's synchronous callbacks to one owned task through a
  queue, so the owner's coroutines run in order and nothing is fire-and-forget.

The owner says which actions may be forgotten on a reconnect (an Originate must never be re-sent:
it would dial the debtor twice), which events it wants, and what it does at each login and at each
loss of the link.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from panoramisk import Manager
from panoramisk.message import Message

from dialer.clock import Clock
from dialer.telephony.interface import AsteriskError, Health

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AmiSettings:
    host: str                 # DIALER_AMI_HOST
    port: int                 # DIALER_AMI_PORT
    user: str                 # DIALER_AMI_USER
    password: str = field(repr=False)  # DIALER_AMI_PASSWORD
    action_timeout_s: float = 5.0
    ping_s: int = 5           # keepalive: a dead link is noticed within ~2 pings
    reconnect_s: int = 1


class _Manager(Manager):
    """panoramisk's Manager that stops reconnecting once closed and notices a dead link.

    panoramisk sends a Ping every interval but never looks at the answer, so a half-open TCP
    connection (Asterisk's host gone, a NAT or firewall dropping state) would leave the dialer
    "connected" and blind forever. Here a Ping still unanswered at the next tick aborts the
    connection, which makes panoramisk reconnect (and the owner reconcile).
    """

    closing = False
    refused = False   # the last Login was answered with an error (panoramisk says nothing of it)
    _last_ping: Any = None

    def connect(self, run_forever: bool = False, on_startup: Any = None,
                on_shutdown: Any = None) -> Any:
        if self.closing:
            return None
        return super().connect(run_forever, on_startup, on_shutdown)

    def connection_made(self, f: Any) -> None:
        self._last_ping = None
        self.refused = False
        super().connection_made(f)

    def login(self, future: Any) -> bool:
        authenticated: bool = super().login(future)
        self.refused = not authenticated
        return authenticated

    def ping(self) -> None:
        protocol = self.protocol
        if self.closing or protocol is None or getattr(protocol, "closed", True):
            return
        if self._last_ping is not None and not self._last_ping.done():
            self.log.warning("AMI: no answer to Ping within %ss, dropping the connection",
                             self.ping_interval)
            self._last_ping = None
            protocol.transport.abort()
            return
        self.pinger = self.loop.call_later(self.ping_interval, self.ping)
        self._last_ping = protocol.send({"Action": "Ping"})


_REFUSED = "AMI login refused (wrong user or secret?)"


@dataclass(frozen=True)
class _LoggedIn:
    reconnected: bool   # False for the first login after open()


class AmiLink:
    """One AMI login, reconnected by panoramisk until `close()`.

    `on_event(message)` runs for each event named in `events` ("*" for all), `on_login(reconnected)`
    after each successful login, both in arrival order on the link's own task. `on_lost(why)` runs
    synchronously the moment the link drops (for failing requests in flight at once)."""

    def __init__(self, *, name: str, settings: AmiSettings, clock: Clock,
                 forgetable_actions: Iterable[str], events: Iterable[str],
                 on_event: Callable[[Message], Awaitable[None]],
                 on_login: Callable[[bool], Awaitable[None]],
                 on_lost: Callable[[str], None] | None = None) -> None:
        self.name = name
        self.settings = settings
        self._clock = clock
        # Ping and Login are panoramisk's own; re-sending them after a reconnect is pointless.
        self._forgetable = ("ping", "login", *(a.lower() for a in forgetable_actions))
        self._events = tuple(events)
        self._on_event = on_event
        self._on_login = on_login
        self._on_lost = on_lost
        self.logged_in = asyncio.Event()
        self.last_error = "not connected yet"
        self._logins = 0
        self._since: datetime | None = None
        self._inbox: asyncio.Queue[Message | _LoggedIn] = asyncio.Queue()
        self._manager: _Manager | None = None
        self._task: asyncio.Task[None] | None = None

    async def open(self, *, timeout_s: float) -> None:
        """Connect and wait for the first login; on failure nothing is left running."""
        s = self.settings
        self._manager = _Manager(
            loop=asyncio.get_running_loop(), host=s.host, port=s.port, username=s.user,
            secret=s.password, ping_delay=s.ping_s, ping_interval=s.ping_s,
            reconnect_timeout=s.reconnect_s, forgetable_actions=self._forgetable,
            on_login=self._logged_in_cb, on_disconnect=self._disconnected_cb)
        for event in self._events:
            self._manager.register_event(event, self._event_cb)
        self._task = asyncio.create_task(self._pump(), name=f"{self.name}-events")
        self._manager.connect()
        try:
            await asyncio.wait_for(self.logged_in.wait(), timeout_s)
        except asyncio.TimeoutError:
            await self.close()
            raise AsteriskError(
                f"AMI login to {s.host}:{s.port} as {s.user!r} ({self.name}) did not succeed in "
                f"{timeout_s}s ({self.last_error}): is the [{s.user}] user in manager.conf enabled, "
                f"its secret right, and Asterisk's AMI port open?") from None

    async def close(self) -> None:
        if self._manager is not None:
            self._manager.closing = True
            self._manager.close()
        self.logged_in.clear()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def send_action(self, action: Mapping[str, Any], *, as_list: bool | None = False) -> asyncio.Future[Any]:
        """panoramisk's future for the reply; `AsteriskError` at once while logged out."""
        if self._manager is None or not self.logged_in.is_set():
            raise AsteriskError(f"AMI not connected: {self.last_error}")
        return self._manager.send_action(dict(action), as_list=as_list)

    def health(self) -> Health:
        up = self.logged_in.is_set()
        detail = f"logged in since {self._since:%H:%M:%S}" if up and self._since else self.last_error
        return Health(self.name, up, detail, since=self._since, reconnects=max(self._logins - 1, 0))

    # --- panoramisk's synchronous callbacks -> our own task ------------------------------------

    def _logged_in_cb(self, manager: Manager) -> None:
        self._logins += 1
        self._since = self._clock.now()
        self.last_error = ""
        self.logged_in.set()
        self._inbox.put_nowait(_LoggedIn(reconnected=self._logins > 1))

    def _disconnected_cb(self, manager: _Manager, exc: object) -> None:
        self.logged_in.clear()
        self._since = None
        # Asterisk hangs up right after a refused Login: the refusal is what the admin needs.
        self.last_error = _REFUSED if manager.refused else f"AMI connection lost ({exc!r})"
        if self._on_lost is not None:
            self._on_lost(self.last_error)

    def _event_cb(self, manager: Manager, message: Message) -> None:
        self._inbox.put_nowait(message)

    async def _pump(self) -> None:
        while True:
            item = await self._inbox.get()
            if isinstance(item, _LoggedIn):
                await self._on_login(item.reconnected)
            else:
                await self._on_event(item)
