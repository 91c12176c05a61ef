"""AMI adapter: `AmiTelephony` on panoramisk (Originate, Hangup, CoreShowChannels, events).

What panoramisk gives: the AMI framing, ActionID-matched futures, and a reconnect loop with a
fixed delay. What we add:
- an Originate is never re-sent after a reconnect (panoramisk re-sends unanswered actions on
  FullyBooted; a re-sent Originate would dial the debtor twice): originate/hangup are
  "forgetable" and their futures fail with `AsteriskError` when the link drops;
- `Async: true` Originates answer at once ("successfully queued"); what follows arrives as
  events, matched by our channel ids (`ChannelId`/`OtherChannelId`) and DIALER_ATTEMPT_ID;
- events are handed from panoramisk's synchronous callbacks to one owned task through a queue,
  so subscribers run in order and nothing is fire-and-forget;
- queue and agent events feed an `AgentBoard` (free / ringing / in call / wrap-up / paused).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from panoramisk import Manager
from panoramisk.message import Message

from dialer.clock import Clock
from dialer.compliance.permit import DialPermit, PermitAuthority
from dialer.telephony.agents import AgentBoard, AgentSnapshot
from dialer.telephony.events import EventHub, dialplan_event
from dialer.telephony.interface import (AsteriskError, AsteriskRefused, CallEvent, CallEventHandler, CallEventKind,
                                        CallHandle, Health, LiveCall, ReconnectHandler,
                                        RoutePlan, Unsubscribe)
from dialer.telephony.originate import attempt_of_channel, plan_originate

log = logging.getLogger(__name__)


AGENT_EVENTS = frozenset({"QueueMemberStatus", "QueueMemberAdded", "QueueMemberRemoved",
                          "QueueMemberPause", "AgentCalled", "AgentConnect", "AgentComplete",
                          "AgentRingNoAnswer", "QueueMember", "QueueCallerLeave", "QueueCallerAbandon"})


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
    connection, which makes panoramisk reconnect (and the adapter reconcile).
    """

    closing = False
    _last_ping: Any = None

    def connect(self, run_forever: bool = False, on_startup: Any = None,
                on_shutdown: Any = None) -> Any:
        if self.closing:
            return None
        return super().connect(run_forever, on_startup, on_shutdown)

    def connection_made(self, f: Any) -> None:
        self._last_ping = None
        super().connection_made(f)

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


_RECONNECTED = object()


def ami_time(headers: Mapping[str, str]) -> datetime | None:
    """`Timestamp: 1795369564.123456` (manager.conf timestampevents = yes)."""
    try:
        return datetime.fromtimestamp(float(headers["Timestamp"]), tz=timezone.utc)
    except (KeyError, ValueError, TypeError):
        return None


def translate(headers: Mapping[str, str], *, at: datetime) -> CallEvent | None:
    """Pure mapping of one AMI event (headers, any case) to a `CallEvent`."""
    h = {k.lower(): v for k, v in headers.items()}
    event = h.get("event", "")
    asterisk_at = ami_time({"Timestamp": h.get("timestamp", "")})
    uniqueid = h.get("uniqueid", "")
    parsed = attempt_of_channel(uniqueid)
    if event == "UserEvent":
        return dialplan_event(h.get("userevent", ""), headers, at=at, channel_id=uniqueid or None,
                              asterisk_at=asterisk_at, source="ami")
    if event == "OriginateResponse" and h.get("response", "").lower() == "failure":
        # Our Originates carry our channel id as ActionID. A Local channel (every pacer call)
        # always ends with a Hangup of our ;1 half carrying the cause, so its OriginateResponse is
        # not used (its Reason is 0 for busy and rejected calls too). A device originated directly
        # (an agent's softphone, preview/manual calls) that Asterisk could not create, e.g. not
        # registered, gets no Hangup at all (measured on Asterisk 22: the OriginateResponse even
        # names our channel id): the attempt fails here. If the device existed and did not answer,
        # its Hangup may come too and is ignored, the call being over.
        failed = attempt_of_channel(h.get("actionid", ""))
        if failed is not None and failed[1] and not h.get("channel", "").startswith("Local/"):
            return CallEvent(failed[0], CallEventKind.FAILED, at, channel_id=h.get("actionid"),
                             asterisk_at=asterisk_at, source="ami")
    if parsed is None:
        return None
    attempt_id, ours = parsed
    if event == "DialState" and h.get("dialstatus") == "RINGING" and not ours:
        return CallEvent(attempt_id, CallEventKind.RINGING, at, channel_id=uniqueid,
                         asterisk_at=asterisk_at, source="ami")
    if event == "Hangup" and ours:
        cause = h.get("cause")
        return CallEvent(attempt_id, CallEventKind.ENDED, at, channel_id=uniqueid,
                         cause=int(cause) if cause and cause.isdigit() else None,
                         asterisk_at=asterisk_at, source="ami")
    return None


class AmiTelephony:
    """`Telephony` over AMI. Build with keyword arguments in the composition root."""

    name = "ami"

    def __init__(self, *, settings: AmiSettings, authority: PermitAuthority, clock: Clock,
                 caller_id: str | None = None) -> None:
        self._settings = settings
        self._authority = authority
        self._clock = clock
        self._caller_id = caller_id
        self._hub = EventHub()
        self.agent_board = AgentBoard()
        self._reconnect_handlers: list[ReconnectHandler] = []
        self._inbox: asyncio.Queue[object] = asyncio.Queue()
        self._logged_in = asyncio.Event()
        self._logins = 0
        self._since: datetime | None = None
        self._last_error = "not connected yet"
        self._pending: set[asyncio.Future[Any]] = set()
        self._manager: _Manager | None = None
        self._pump_task: asyncio.Task[None] | None = None

    # --- connection ------------------------------------------------------------------------

    async def start(self, *, timeout_s: float = 10.0) -> None:
        s = self._settings
        self._manager = _Manager(
            loop=asyncio.get_running_loop(), host=s.host, port=s.port, username=s.user,
            secret=s.password, ping_delay=s.ping_s, ping_interval=s.ping_s,
            reconnect_timeout=s.reconnect_s,
            forgetable_actions=("ping", "login", "originate", "hangup", "coreshowchannels"),
            on_login=self._on_login, on_disconnect=self._on_disconnect)
        self._manager.register_event("*", self._on_ami_event)
        self._pump_task = asyncio.create_task(self._pump(), name="ami-events")
        self._manager.connect()
        try:
            await asyncio.wait_for(self._logged_in.wait(), timeout_s)
        except asyncio.TimeoutError:
            await self.close()
            raise AsteriskError(f"AMI login to {s.host}:{s.port} as {s.user!r} did not succeed in "
                                f"{timeout_s}s (manager.conf enabled? secret right?)") from None
        # Static queue members send no event until their state changes: ask for all of them.
        await self._refresh_agents_quietly()

    async def close(self) -> None:
        if self._manager is not None:
            self._manager.closing = True
            self._manager.close()
        self._logged_in.clear()
        self._fail_pending("AMI adapter closed")
        if self._pump_task is not None:
            self._pump_task.cancel()
            try:
                await self._pump_task
            except asyncio.CancelledError:
                pass
            self._pump_task = None

    def _on_login(self, manager: Manager) -> None:
        if not manager.authenticated:
            self._last_error = "AMI login refused"
            return
        self._logins += 1
        self._since = self._clock.now()
        self._last_error = ""
        self._logged_in.set()
        if self._logins > 1:
            self._inbox.put_nowait(_RECONNECTED)

    def _on_disconnect(self, manager: Manager, exc: object) -> None:
        self._logged_in.clear()
        self._since = None
        self._last_error = f"AMI connection lost ({exc!r})"
        self._fail_pending(self._last_error)

    def _fail_pending(self, why: str) -> None:
        for future in list(self._pending):
            if not future.done():
                future.set_exception(AsteriskError(why))
        self._pending.clear()

    async def _send(self, action: dict[str, Any], *, as_list: bool | None = False) -> Any:
        if self._manager is None or not self._logged_in.is_set():
            raise AsteriskError(f"AMI not connected: {self._last_error}")
        future = self._manager.send_action(action, as_list=as_list)
        self._pending.add(future)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self._settings.action_timeout_s)
        except asyncio.TimeoutError:
            raise AsteriskError(f"AMI {action['Action']} unanswered after "
                                f"{self._settings.action_timeout_s}s") from None
        finally:
            self._pending.discard(future)

    # --- events ------------------------------------------------------------------------------

    def _on_ami_event(self, manager: Manager, message: Message) -> None:
        # panoramisk calls this synchronously for every event; hand over to our own task.
        self._inbox.put_nowait(message)

    async def _pump(self) -> None:
        while True:
            item = await self._inbox.get()
            if item is _RECONNECTED:
                await self._refresh_agents_quietly()   # members may have changed while away
                for handler in list(self._reconnect_handlers):
                    try:
                        result = handler()
                        if inspect.isawaitable(result):
                            await result
                    except Exception:
                        log.exception("AMI reconnect handler %r failed", handler)
                continue
            assert isinstance(item, Message)
            now = self._clock.now()
            headers = dict(item.items())
            if item.event in AGENT_EVENTS:
                self.agent_board.apply(item.event, headers, at=now)
            event = translate(headers, at=now)
            if event is not None:
                await self._hub.publish(event)

    def subscribe(self, handler: CallEventHandler) -> Unsubscribe:
        return self._hub.subscribe(handler)

    def events(self) -> AbstractAsyncContextManager[asyncio.Queue[CallEvent]]:
        return self._hub.stream()

    def on_reconnect(self, handler: ReconnectHandler) -> Unsubscribe:
        self._reconnect_handlers.append(handler)
        return lambda: self._reconnect_handlers.remove(handler)

    def agents(self) -> AgentSnapshot:
        return self.agent_board.snapshot(self._clock.now())

    async def _refresh_agents_quietly(self) -> None:
        try:
            await self.refresh_agents()
        except AsteriskError as exc:
            log.warning("AMI QueueStatus failed (%s); agent states follow live events only", exc)

    async def refresh_agents(self) -> AgentSnapshot:
        """Ask Asterisk for every queue member's state (at start and after a reconnect)."""
        replies = await self._send({"Action": "QueueStatus"}, as_list=True)
        now = self._clock.now()
        for reply in replies if isinstance(replies, list) else []:
            if reply.event == "QueueMember":
                headers = dict(reply.items())
                headers.setdefault("Interface", headers.get("Location", ""))
                self.agent_board.apply("QueueMember", headers, at=now)
        return self.agent_board.snapshot(now)

    # --- calls -------------------------------------------------------------------------------

    async def originate(self, permit: DialPermit, *, route: RoutePlan,
                        ring_timeout_s: int | None = None, dial: str | None = None,
                        variables: Mapping[str, str] | None = None) -> CallHandle:
        if not self._logged_in.is_set():
            # Checked before the permit is spent: a call that cannot be sent keeps its permit.
            raise AsteriskError(f"AMI not connected: {self._last_error}")
        plan = plan_originate(self._authority, permit, now=self._clock.now(), route=route,
                              ring_timeout_s=ring_timeout_s, dial=dial, variables=variables,
                              caller_id=self._caller_id)
        action: dict[str, Any] = {
            "Action": "Originate", "Channel": plan.channel, "Context": plan.context,
            "Exten": plan.extension, "Priority": str(plan.priority),
            "Timeout": str(plan.originate_timeout_s * 1000), "Async": "true",
            "ChannelId": plan.channel_id, "OtherChannelId": plan.other_channel_id,
            # Echoed in OriginateResponse: how a call whose channel was never created is found.
            "ActionID": plan.channel_id,
            "Variable": [f"{k}={v}" for k, v in plan.variables.items()],
        }
        if plan.caller_id:
            action["CallerID"] = plan.caller_id
        reply = await self._send(action)
        if not reply.success:
            raise AsteriskRefused(f"AMI Originate for attempt {plan.attempt_id} refused: "
                                f"{reply.get('Message', reply)}")
        return CallHandle(plan.attempt_id, plan.channel_id, self.name)

    async def hangup(self, handle: CallHandle, *, cause: int = 16) -> None:
        # Asterisk looks channels up by name or uniqueid, and our channel id is the uniqueid.
        reply = await self._send({"Action": "Hangup", "Channel": handle.channel_id,
                                  "Cause": str(cause)})
        if not reply.success and "No such channel" not in str(reply.get("Message", "")):
            raise AsteriskError(f"AMI Hangup {handle.channel_id}: {reply.get('Message')}")

    async def live_calls(self) -> list[LiveCall]:
        replies = await self._send({"Action": "CoreShowChannels"}, as_list=True)
        by_attempt: dict[int, LiveCall] = {}
        for reply in replies if isinstance(replies, list) else []:
            if reply.event != "CoreShowChannel":
                continue
            uniqueid = reply.get("Uniqueid", "")
            parsed = attempt_of_channel(uniqueid)
            if parsed is None:
                continue
            attempt_id, ours = parsed
            state = reply.get("ChannelStateDesc", "")
            # Only our ;1 half counts (see AriTelephony.live_calls).
            if ours:
                by_attempt[attempt_id] = LiveCall(attempt_id, uniqueid, state,
                                                  answered=state == "Up")
        return sorted(by_attempt.values(), key=lambda c: c.attempt_id)

    async def channel_variables(self, channel_id: str, names: Sequence[str]) -> dict[str, str]:
        values = {}
        for name in names:
            # Getvar finds channels by name or uniqueid, and our channel id is the uniqueid.
            reply = await self._send({"Action": "Getvar", "Channel": channel_id, "Variable": name})
            if not reply.success:
                raise AsteriskError(f"AMI Getvar {name} on {channel_id}: {reply.get('Message')}")
            values[name] = reply.get("Value") or ""
        return values

    def health(self) -> Health:
        up = self._logged_in.is_set()
        detail = f"logged in since {self._since:%H:%M:%S}" if up and self._since else self._last_error
        return Health("ami", up, detail, since=self._since, reconnects=max(self._logins - 1, 0))
