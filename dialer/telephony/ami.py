"""AMI adapter: `AmiTelephony` on panoramisk (Originate, Hangup, CoreShowChannels, events).

What panoramisk gives: the AMI framing, ActionID-matched futures, and a reconnect loop with a
fixed delay. What we add:
- an Originate is never re-sent after a reconnect (panoramisk re-sends unanswered actions on
  FullyBooted; a re-sent Originate would dial the debtor twice): originate/hangup are
  "forgetable" and their futures fail with `AsteriskError` when the link drops;
- `Async: true` Originates answer at once ("successfully queued"); what follows arrives as
  events, matched by our channel ids (`ChannelId`/`OtherChannelId`) and DIALER_ATTEMPT_ID;
- the login itself (keepalive that notices a half-open link, login state, health, events handed
  to one owned task so subscribers run in order) is `AmiLink` (ami_link.py), shared with the ARI
  back end's agent feed;
- queue and agent events feed an `AgentBoard` (free / ringing / in call / wrap-up / paused).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timezone
from typing import Any

from panoramisk.message import Message

from dialer.clock import Clock
from dialer.compliance.permit import DialPermit, PermitAuthority
from dialer.telephony.agents import AgentBoard, AgentSnapshot
from dialer.telephony.ami_link import AmiLink, AmiSettings  # AmiSettings: callers import it from here
from dialer.telephony.events import EventHub, dialplan_event
from dialer.telephony.interface import (AsteriskError, AsteriskRefused, CallEvent, CallEventHandler, CallEventKind,
                                        CallHandle, Health, LiveCall, ReconnectHandler,
                                        RoutePlan, Unsubscribe)
from dialer.telephony.originate import attempt_of_channel, plan_originate

log = logging.getLogger(__name__)


AGENT_EVENTS = frozenset({"QueueMemberStatus", "QueueMemberAdded", "QueueMemberRemoved",
                          "QueueMemberPause", "AgentCalled", "AgentConnect", "AgentComplete",
                          "AgentRingNoAnswer", "QueueMember", "QueueCallerLeave", "QueueCallerAbandon"})


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
        self._pending: set[asyncio.Future[Any]] = set()
        self._link = AmiLink(name=self.name, settings=settings, clock=clock,
                             forgetable_actions=("originate", "hangup", "coreshowchannels"),
                             events=("*",), on_event=self._on_ami_event, on_login=self._on_login,
                             on_lost=self._fail_pending)

    # --- connection ------------------------------------------------------------------------

    async def start(self, *, timeout_s: float = 10.0) -> None:
        await self._link.open(timeout_s=timeout_s)
        # Static queue members send no event until their state changes: ask for all of them.
        await self._refresh_agents_quietly()

    async def close(self) -> None:
        await self._link.close()
        self._fail_pending("AMI adapter closed")

    def _fail_pending(self, why: str) -> None:
        for future in list(self._pending):
            if not future.done():
                future.set_exception(AsteriskError(why))
        self._pending.clear()

    async def _send(self, action: dict[str, Any], *, as_list: bool | None = False) -> Any:
        future = self._link.send_action(action, as_list=as_list)
        self._pending.add(future)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self._settings.action_timeout_s)
        except asyncio.TimeoutError:
            raise AsteriskError(f"AMI {action['Action']} unanswered after "
                                f"{self._settings.action_timeout_s}s") from None
        finally:
            self._pending.discard(future)

    # --- events ------------------------------------------------------------------------------

    async def _on_login(self, reconnected: bool) -> None:
        if not reconnected:
            return   # start() asks for the queue members itself
        await self._refresh_agents_quietly()   # members may have changed while away
        for handler in list(self._reconnect_handlers):
            try:
                result = handler()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("AMI reconnect handler %r failed", handler)

    async def _on_ami_event(self, message: Message) -> None:
        now = self._clock.now()
        headers = dict(message.items())
        if message.event in AGENT_EVENTS:
            self.agent_board.apply(message.event, headers, at=now)
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
        self.agent_board.apply_queue_status(replies if isinstance(replies, list) else [], at=now)
        return self.agent_board.snapshot(now)

    # --- calls -------------------------------------------------------------------------------

    async def originate(self, permit: DialPermit, *, route: RoutePlan,
                        ring_timeout_s: int | None = None, dial: str | None = None,
                        variables: Mapping[str, str] | None = None) -> CallHandle:
        if not self._link.logged_in.is_set():
            # Checked before the permit is spent: a call that cannot be sent keeps its permit.
            raise AsteriskError(f"AMI not connected: {self._link.last_error}")
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
        return self._link.health()
