"""ARI adapter: a thin typed async client (httpx + websockets) and `AriTelephony`.

Why our own client: ari-py does not import on Python 3, the others keep one handler per event or
never reconnect (reference/DEPENDENCIES.md). We need ~6 endpoints and an event socket that comes
back by itself.

Events: one websocket, `/ari/events?app=<app>&subscribeAll=true`, so the dialer sees every
channel (our calls run in the dialplan, not in a Stasis app, so they are not subscribed
otherwise). ari.conf `channelvars` puts DIALER_ATTEMPT_ID in each channel object; our channel
ids (`dialer-<attempt>-<nonce>`) carry it too.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import logging
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import WebSocketException

from dialer.clock import Clock
from dialer.compliance.permit import DialPermit, PermitAuthority
from dialer.telephony.agent_feed import AmiAgentFeed
from dialer.telephony.agents import AgentSnapshot
from dialer.telephony.events import EventHub, dialplan_event
from dialer.telephony.interface import (AsteriskError, AsteriskRefused, CallEvent, CallEventHandler, CallEventKind,
                                        CallHandle, Health, LiveCall, ReconnectHandler,
                                        RoutePlan, Unsubscribe)
from dialer.telephony.originate import attempt_of_channel, plan_originate

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class AriSettings:
    url: str                  # http://127.0.0.1:8088/ari  (DIALER_ARI_URL)
    user: str                 # DIALER_ARI_USER
    password: str = field(repr=False)   # DIALER_ARI_PASSWORD
    app: str = "dialer"
    # Audio formats of originated channels: those of the trunk (pjsip.conf allow=), see originate.
    formats: str = "ulaw,alaw"
    request_timeout_s: float = 5.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    # WebSocket keepalive: a half-open link is noticed within ping_s + ping_s.
    ping_s: float = 5.0

    @property
    def events_url(self) -> str:
        ws = "wss" + self.url[5:] if self.url.startswith("https") else "ws" + self.url[4:]
        return f"{ws.rstrip('/')}/events?app={self.app}&subscribeAll=true"


@dataclass(frozen=True)
class AriChannel:
    id: str
    name: str
    state: str
    variables: Mapping[str, str]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AriChannel:
        return cls(id=data.get("id", ""), name=data.get("name", ""), state=data.get("state", ""),
                   variables=data.get("channelvars") or {})


@dataclass(frozen=True)
class AriEvent:
    type: str
    timestamp: datetime | None
    channel: AriChannel | None
    data: Mapping[str, Any]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AriEvent:
        channel = data.get("channel")
        return cls(type=data.get("type", ""), timestamp=parse_ari_time(data.get("timestamp")),
                   channel=AriChannel.from_json(channel) if isinstance(channel, dict) else None,
                   data=data)


def parse_ari_time(value: object) -> datetime | None:
    """ARI timestamps look like 2026-11-22T17:43:00.123+0000."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None


AriEventHandler = Callable[[AriEvent], Awaitable[None] | None]


class AriClient:
    """REST calls and the event socket. Handlers: several per event type, `"*"` for every event."""

    def __init__(self, *, settings: AriSettings) -> None:
        self.settings = settings
        self._http = httpx.AsyncClient(base_url=settings.url.rstrip("/") + "/",
                                       auth=(settings.user, settings.password),
                                       timeout=settings.request_timeout_s)
        self._handlers: dict[str, list[AriEventHandler]] = defaultdict(list)
        self._on_connect: list[ReconnectHandler] = []
        self.connected = asyncio.Event()
        self.connected_since: datetime | None = None
        self.connects = 0
        self.last_error = "not connected yet"

    # --- REST ----------------------------------------------------------------------------------

    async def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                      body: Mapping[str, Any] | None = None) -> Any:
        try:
            response = await self._http.request(method, path.lstrip("/"), params=params, json=body)
        except httpx.HTTPError as exc:
            raise AsteriskError(f"ARI {method} {path}: {exc!r} (is Asterisk running, "
                                f"http.conf enabled on {self.settings.url}?)") from exc
        if response.status_code == 401:
            raise AsteriskError("ARI refused the credentials (check ari.conf and DIALER_ARI_USER/"
                                "DIALER_ARI_PASSWORD)")
        if response.status_code >= 400:
            raise AsteriskRefused(f"ARI {method} {path} -> {response.status_code}: {response.text}",)
        if not response.content:
            return None
        return response.json()

    async def info(self) -> Mapping[str, Any]:
        return await self.request("GET", "asterisk/info")

    async def channels(self) -> list[AriChannel]:
        return [AriChannel.from_json(c) for c in await self.request("GET", "channels")]

    async def originate(self, *, endpoint: str, context: str, extension: str, priority: int,
                        timeout_s: int, channel_id: str, other_channel_id: str,
                        variables: Mapping[str, str], caller_id: str | None = None) -> AriChannel:
        # formats: without it ARI asks the new channel for every audio format Asterisk knows, and
        # a Local channel then transcodes each frame to an expensive one: measured ~7x Asterisk CPU
        # per answered call against the same originate over AMI (benchmarks/originate.py).
        params: dict[str, Any] = dict(endpoint=endpoint, context=context, extension=extension,
                                      priority=priority, timeout=timeout_s, channelId=channel_id,
                                      otherChannelId=other_channel_id,
                                      formats=self.settings.formats)
        if caller_id:
            params["callerId"] = caller_id
        data = await self.request("POST", "channels", params=params,
                                  body={"variables": dict(variables)})
        return AriChannel.from_json(data)

    async def variable(self, channel_id: str, name: str) -> str:
        """A channel variable's value, "" when unset (ARI answers 404 for both an unset variable and
        a missing channel: the channel's existence is checked by the caller)."""
        try:
            data = await self.request("GET", f"channels/{channel_id}/variable", params={"variable": name})
        except AsteriskError as exc:
            if "-> 404" in str(exc):
                return ""
            raise
        return str((data or {}).get("value") or "")

    async def hangup(self, channel_id: str, *, cause: int = 16) -> bool:
        """False when the channel was already gone."""
        try:
            await self.request("DELETE", f"channels/{channel_id}",
                               params={"reason_code": str(cause)})
        except AsteriskError as exc:
            if "-> 404" in str(exc):
                return False
            raise
        return True

    # --- events --------------------------------------------------------------------------------

    def on(self, event_type: str, handler: AriEventHandler) -> Callable[[], None]:
        self._handlers[event_type].append(handler)
        return lambda: self._handlers[event_type].remove(handler)

    def on_connect(self, handler: ReconnectHandler) -> Callable[[], None]:
        """Called each time the event socket (re)connects, before its first event is handled."""
        self._on_connect.append(handler)
        return lambda: self._on_connect.remove(handler)

    async def dispatch(self, event: AriEvent) -> None:
        """Run every handler of the event's type, then the "*" handlers; one failing does not stop the rest."""
        for handler in [*self._handlers.get(event.type, ()), *self._handlers.get("*", ())]:
            try:
                result = handler(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("ARI handler %r failed on %s", handler, event.type)

    async def run_events(self, clock: Clock) -> None:
        """Keep the event socket up until cancelled: reconnect with exponential backoff + jitter."""
        delay = self.settings.backoff_initial_s
        auth = base64.b64encode(f"{self.settings.user}:{self.settings.password}".encode()).decode()
        while True:
            try:
                async with ws_connect(self.settings.events_url,
                                      additional_headers={"Authorization": f"Basic {auth}"},
                                      open_timeout=self.settings.request_timeout_s,
                                      ping_interval=self.settings.ping_s,
                                      ping_timeout=self.settings.ping_s) as ws:
                    self.connects += 1
                    self.connected_since = clock.now()
                    self.last_error = ""
                    delay = self.settings.backoff_initial_s
                    for handler in list(self._on_connect):
                        result = handler()
                        if inspect.isawaitable(result):
                            await result
                    self.connected.set()
                    async for message in ws:
                        await self.dispatch(AriEvent.from_json(json.loads(message)))
                self.last_error = "event socket closed by Asterisk"
            except (OSError, WebSocketException, asyncio.TimeoutError, AsteriskError) as exc:
                self.last_error = f"event socket: {exc!r}"
            self.connected.clear()
            self.connected_since = None
            log.warning("ARI %s; reconnecting in %.1fs", self.last_error, delay)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.settings.backoff_max_s)

    async def aclose(self) -> None:
        await self._http.aclose()


class AriTelephony:
    """`Telephony` over ARI. Build with keyword arguments in the composition root."""

    name = "ari"

    def __init__(self, *, settings: AriSettings, authority: PermitAuthority, clock: Clock,
                 caller_id: str | None = None, agent_feed: AmiAgentFeed | None = None) -> None:
        self._client = AriClient(settings=settings)
        # ARI has no queue member events: agent states come from a side AMI login (agent_feed.py).
        self._agent_feed = agent_feed
        self._authority = authority
        self._clock = clock
        self._caller_id = caller_id
        self._hub = EventHub()
        self._reconnect_handlers: list[ReconnectHandler] = []
        self._task: asyncio.Task[None] | None = None
        self._client.on("*", self._on_event)
        self._client.on_connect(self._on_socket_connect)

    @property
    def client(self) -> AriClient:
        return self._client

    async def start(self, *, timeout_s: float = 10.0) -> None:
        await self._client.info()   # fail fast with a clear AsteriskError
        if self._agent_feed is not None:
            await self._agent_feed.start(timeout_s=timeout_s)
        self._task = asyncio.create_task(self._client.run_events(self._clock), name="ari-events")
        try:
            await asyncio.wait_for(self._client.connected.wait(), timeout_s)
        except asyncio.TimeoutError:
            await self.close()
            raise AsteriskError(f"ARI event socket not up after {timeout_s}s: "
                                f"{self._client.last_error}") from None

    async def close(self) -> None:
        if self._agent_feed is not None:
            await self._agent_feed.close()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await self._client.aclose()

    def subscribe(self, handler: CallEventHandler) -> Unsubscribe:
        return self._hub.subscribe(handler)

    def on_reconnect(self, handler: ReconnectHandler) -> Unsubscribe:
        self._reconnect_handlers.append(handler)
        return lambda: self._reconnect_handlers.remove(handler)

    def events(self) -> AbstractAsyncContextManager[asyncio.Queue[CallEvent]]:
        return self._hub.stream()

    def agents(self) -> AgentSnapshot | None:
        """Queue members' states from the AMI agent feed; None when built without one."""
        return self._agent_feed.agents() if self._agent_feed is not None else None

    async def originate(self, permit: DialPermit, *, route: RoutePlan,
                        ring_timeout_s: int | None = None, dial: str | None = None,
                        variables: Mapping[str, str] | None = None) -> CallHandle:
        plan = plan_originate(self._authority, permit, now=self._clock.now(), route=route,
                              ring_timeout_s=ring_timeout_s, dial=dial, variables=variables,
                              caller_id=self._caller_id)
        await self._client.originate(endpoint=plan.channel, context=plan.context,
                                     extension=plan.extension, priority=plan.priority,
                                     timeout_s=plan.originate_timeout_s,
                                     channel_id=plan.channel_id,
                                     other_channel_id=plan.other_channel_id,
                                     variables=plan.variables, caller_id=plan.caller_id)
        return CallHandle(plan.attempt_id, plan.channel_id, self.name)

    async def hangup(self, handle: CallHandle, *, cause: int = 16) -> None:
        await self._client.hangup(handle.channel_id, cause=cause)

    async def live_calls(self) -> list[LiveCall]:
        by_attempt: dict[int, LiveCall] = {}
        for channel in await self._client.channels():
            parsed = attempt_of_channel(channel.id)
            if parsed is None:
                continue
            attempt_id, ours = parsed
            # Only our ;1 half counts: it ends the call when it goes (the ENDED event), and the ;2
            # half can outlive it by a few milliseconds while Asterisk tears the call down.
            if ours:
                by_attempt[attempt_id] = LiveCall(attempt_id, channel.id, channel.state,
                                                  answered=channel.state == "Up")
        return sorted(by_attempt.values(), key=lambda c: c.attempt_id)

    async def channel_variables(self, channel_id: str, names: Sequence[str]) -> dict[str, str]:
        await self._client.request("GET", f"channels/{channel_id}")   # 404 -> AsteriskError: gone
        return {name: await self._client.variable(channel_id, name) for name in names}

    def health(self) -> Health:
        up = self._client.connected.is_set()
        detail = (f"event socket up since {self._client.connected_since:%H:%M:%S}" if up
                  else self._client.last_error)
        extra: dict[str, object] = {}
        if self._agent_feed is not None:
            feed = self._agent_feed.health()
            extra["agent_feed"] = {"healthy": feed.healthy, "detail": feed.detail, "reconnects": feed.reconnects}
        return Health("ari", up, detail, since=self._client.connected_since,
                      reconnects=max(self._client.connects - 1, 0), extra=extra)

    # --- ARI events -> CallEvents -----------------------------------------------------------

    async def _on_socket_connect(self) -> None:
        if self._client.connects > 1:
            for handler in list(self._reconnect_handlers):
                result = handler()
                if inspect.isawaitable(result):
                    await result

    async def _on_event(self, event: AriEvent) -> None:
        call_event = self.translate(event, at=self._clock.now())
        if call_event is not None:
            await self._hub.publish(call_event)

    @staticmethod
    def translate(event: AriEvent, *, at: datetime) -> CallEvent | None:
        """Pure mapping of one ARI event to a `CallEvent` (None when it is not about our calls)."""
        data = event.data
        if event.type == "ChannelUserevent":
            channel_id = event.channel.id if event.channel else None
            return dialplan_event(data.get("eventname", ""), data.get("userevent") or {}, at=at,
                                  channel_id=channel_id, asterisk_at=event.timestamp,
                                  source="ari")
        if event.type == "Dial" and data.get("dialstatus") == "RINGING":
            caller = data.get("caller") or {}
            parsed = attempt_of_channel(caller.get("id", ""))
            if parsed is not None:
                return CallEvent(parsed[0], CallEventKind.RINGING, at, channel_id=caller.get("id"),
                                 asterisk_at=event.timestamp, source="ari")
            return None
        if event.type == "ChannelDestroyed" and event.channel is not None:
            parsed = attempt_of_channel(event.channel.id)
            if parsed is not None and parsed[1]:
                return CallEvent(parsed[0], CallEventKind.ENDED, at, channel_id=event.channel.id,
                                 cause=data.get("cause"), asterisk_at=event.timestamp,
                                 source="ari")
        return None
