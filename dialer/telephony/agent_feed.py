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
from dialer.telephony.ami import AGENT_EVENTS
from dialer.telephony.ami_link import AmiLink, AmiSettings
from dialer.telephony.interface import AsteriskError, Health

log = logging.getLogger(__name__)


class AmiAgentFeed:
    name = "ami-agents"

    def __init__(self, *, settings: AmiSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self.board = AgentBoard()
        self._refreshed = asyncio.Event()
        self._link = AmiLink(name=self.name, settings=settings, clock=clock,
                             forgetable_actions=("queuestatus",), events=AGENT_EVENTS,
                             on_event=self._on_ami_event, on_login=self._on_login)

    async def start(self, *, timeout_s: float = 10.0) -> None:
        await self._link.open(timeout_s=timeout_s)
        # The first login's QueueStatus runs on the link's task (in order with the live events);
        # it is bounded by the action timeout, so this wait is too.
        try:
            await asyncio.wait_for(self._refreshed.wait(), timeout_s)
        except asyncio.TimeoutError:
            await self.close()
            raise AsteriskError(f"AMI agent feed: no QueueStatus answer from {self._settings.host}:"
                                f"{self._settings.port} in {timeout_s}s after login") from None

    async def close(self) -> None:
        await self._link.close()

    def agents(self) -> AgentSnapshot | None:
        """None while the AMI link is down: stale "free" agents would make the pacer overdial,
        and no snapshot makes agent-staffed campaigns wait instead."""
        if not self._link.logged_in.is_set():
            return None
        return self.board.snapshot(self._clock.now())

    def health(self) -> Health:
        return self._link.health()

    # --- on the link's task, in arrival order ------------------------------------------------

    async def _on_login(self, reconnected: bool) -> None:
        await self._refresh()

    async def _on_ami_event(self, message: Message) -> None:
        self.board.apply(message.event, dict(message.items()), at=self._clock.now())

    async def _refresh(self) -> None:
        """Members may have changed while we were away: start again from Asterisk's list."""
        try:
            replies = await asyncio.wait_for(
                self._link.send_action({"Action": "QueueStatus"}, as_list=True), self._settings.action_timeout_s)
        except (asyncio.TimeoutError, OSError, AsteriskError) as exc:
            log.warning("AMI agent feed: QueueStatus failed (%r); following live events only", exc)
            self._refreshed.set()
            return
        self.board = refreshed_board(replies if isinstance(replies, list) else [], at=self._clock.now())
        self._refreshed.set()


def refreshed_board(replies: list[Any], *, at: datetime) -> AgentBoard:
    """A board built from QueueStatus replies alone (members gone while the link was down vanish)."""
    board = AgentBoard()
    board.apply_queue_status(replies, at=at)
    return board
