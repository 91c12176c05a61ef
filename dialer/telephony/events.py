"""Event plumbing shared by the adapters: the subscriber hub and the dialplan's Dialer* events.

The dialplan (asterisk_conf/extensions.conf) reports each milestone as `UserEvent(Dialer...,
AttemptId: N, ...)`; AMI delivers it as `Event: UserEvent` with headers, ARI as
`ChannelUserevent` with a `userevent` object. `dialplan_event` turns either into a `CallEvent`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime

from dialer.domain import Route
from dialer.telephony.interface import (AmdResult, CallEvent, CallEventHandler, CallEventKind,
                                        Unsubscribe)

log = logging.getLogger(__name__)

_ROUTES = {"bot": Route.BOT, "queue": Route.QUEUE, "safe_harbour": Route.SAFE_HARBOUR}


class EventHub:
    """Fan-out of `CallEvent`s to several subscribers, in subscription order."""

    def __init__(self) -> None:
        self._handlers: list[CallEventHandler] = []

    def subscribe(self, handler: CallEventHandler) -> Unsubscribe:
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)
        return unsubscribe

    async def publish(self, event: CallEvent) -> None:
        for handler in list(self._handlers):
            try:
                result = handler(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                # One broken subscriber must not blind the others (the tracker, the stats).
                log.exception("call event subscriber %r failed on %s", handler, event)

    @asynccontextmanager
    async def stream(self) -> AsyncIterator[asyncio.Queue[CallEvent]]:
        """A queue receiving every event while the context is open (tests, CLI watchers)."""
        queue: asyncio.Queue[CallEvent] = asyncio.Queue()
        unsubscribe = self.subscribe(queue.put_nowait)
        try:
            yield queue
        finally:
            unsubscribe()


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def dialplan_event(name: str, headers: Mapping[str, str], *, at: datetime,
                   channel_id: str | None = None, asterisk_at: datetime | None = None,
                   source: str = "") -> CallEvent | None:
    """The `CallEvent` for one of our dialplan's UserEvents, None for anything else."""
    if not name.startswith("Dialer"):
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    attempt_id = _int(lower.get("attemptid"))
    if attempt_id is None:
        return None
    base = CallEvent(attempt_id, CallEventKind.ANSWERED, at, channel_id=channel_id,
                     asterisk_at=asterisk_at, source=source)
    if name == "DialerAnswered":
        return replace(base, recording=lower.get("recording") or None)
    if name == "DialerAmd":
        status = (lower.get("status") or "").upper()
        amd = AmdResult(status) if status in AmdResult.__members__ else AmdResult.NOTSURE
        return replace(base, kind=CallEventKind.AMD, amd=amd, amd_cause=lower.get("cause") or None)
    if name == "DialerRouted":
        route = _ROUTES.get((lower.get("route") or "").lower())
        if route is None:
            return None
        return replace(base, kind=CallEventKind.ROUTED, route=route,
                       queue=lower.get("queue") or None)
    if name == "DialerConnected":
        return replace(base, kind=CallEventKind.CONNECTED, agent=lower.get("agent") or None)
    if name == "DialerDialEnd":
        return replace(base, kind=CallEventKind.UNANSWERED,
                       dial_status=lower.get("dialstatus") or None, cause=_int(lower.get("cause")))
    return None
