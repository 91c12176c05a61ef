"""Queue members' states (free, ringing, in call, wrap-up, paused) from Asterisk's queue events.

Pure: fed AMI event headers (`QueueMemberStatus`, `QueueMemberAdded/Removed/Pause`,
`AgentCalled`, `AgentConnect`, `AgentComplete`, `AgentRingNoAnswer`, `QueueCallerLeave/Abandon`)
with the instant they arrived; `snapshot(now)` gives what the pacer needs: who is free, who is busy and for how long.

Asterisk device states in `Status` (include/asterisk/devicestate.h): 0 unknown, 1 not in use,
2 in use, 3 busy, 4 invalid, 5 unavailable, 6 ringing, 7 ring+in use, 8 on hold.
Wrap-up: app_queue offers no call to a member for `wrapuptime` seconds after `LastCall`; the
member's device is idle then, so "free" must exclude it or the pacer overdials.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta


class AgentState(str, enum.Enum):
    FREE = "free"
    RINGING = "ringing"
    IN_CALL = "in_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    UNAVAILABLE = "unavailable"   # not registered / logged out device


_UNAVAILABLE = {"0", "4", "5"}
_RINGING = {"6", "7"}
_BUSY = {"2", "3", "8"}


@dataclass
class QueueMember:
    queue: str
    interface: str          # PJSIP/agent1
    name: str
    paused: bool = False
    device: str = "0"
    in_call_since: datetime | None = None
    ringing_since: datetime | None = None
    ringing_for: str = ""       # the caller's Uniqueid the member's phone rings for
    wrap_up_until: datetime | None = None
    wrap_up_since: datetime | None = None
    wrapup_s: int = 0

    def state(self, now: datetime) -> AgentState:
        if self.paused:
            return AgentState.PAUSED
        if self.in_call_since is not None or self.device in _BUSY:
            return AgentState.IN_CALL
        if self.ringing_since is not None or self.device in _RINGING:
            return AgentState.RINGING
        if self.device in _UNAVAILABLE:
            return AgentState.UNAVAILABLE
        if self.wrap_up_until is not None and now < self.wrap_up_until:
            return AgentState.WRAP_UP
        return AgentState.FREE


@dataclass(frozen=True)
class AgentView:
    name: str
    queue: str
    state: AgentState
    elapsed_s: float        # seconds in the current state where known (talk, wrap, ring), else 0


@dataclass(frozen=True)
class AgentSnapshot:
    at: datetime
    agents: tuple[AgentView, ...]

    def count(self, state: AgentState) -> int:
        return sum(1 for a in self.agents if a.state is state)

    @property
    def free(self) -> int:
        return self.count(AgentState.FREE)

    @property
    def logged_in(self) -> int:
        return sum(1 for a in self.agents if a.state is not AgentState.UNAVAILABLE)


@dataclass
class AgentBoard:
    """Members by (queue, interface). One board per Asterisk, fed from AMI whichever adapter places the
    calls: ARI has no queue events, so the ARI back end keeps one through `agent_feed.AmiAgentFeed`."""

    members: dict[tuple[str, str], QueueMember] = field(default_factory=dict)

    def _member(self, h: Mapping[str, str]) -> QueueMember | None:
        queue = h.get("queue")
        interface = h.get("interface") or h.get("location") or h.get("destchannel", "").rsplit("-", 1)[0]
        if not queue or not interface:
            return None
        key = (queue, interface)
        if key not in self.members:
            self.members[key] = QueueMember(queue, interface,
                                            h.get("membername") or h.get("name") or interface)
        return self.members[key]

    def apply(self, event: str, headers: Mapping[str, str], *, at: datetime) -> None:
        """Feed one AMI event (header names in any case)."""
        h = {k.lower(): v for k, v in headers.items()}
        if event in ("AgentConnect", "QueueCallerLeave", "QueueCallerAbandon") and h.get("uniqueid"):
            # ringall: once one member answers (or the caller leaves), app_queue stops ringing the
            # others without an AgentRingNoAnswer for them.
            for other in self.members.values():
                if other.ringing_for == h["uniqueid"]:
                    other.ringing_since, other.ringing_for = None, ""
        if event in ("QueueCallerLeave", "QueueCallerAbandon"):
            return
        if event == "QueueMemberRemoved":
            self.members.pop((h.get("queue", ""), h.get("interface", "")), None)
            return
        member = self._member(h)
        if member is None:
            return
        if event in ("QueueMemberStatus", "QueueMemberAdded", "QueueMember"):
            member.device = h.get("status", member.device)
            member.paused = h.get("paused", "0") == "1"
            member.wrapup_s = int(h.get("wrapuptime") or member.wrapup_s or 0)
            if h.get("incall") == "0" and member.in_call_since is not None:
                self._start_wrap_up(member, at)
            if h.get("incall") == "1" and member.in_call_since is None:
                member.in_call_since = at
            # A device back to idle no longer rings, whatever the last queue event said.
            if member.device not in _RINGING:
                member.ringing_since = None
        elif event == "QueueMemberPause":
            member.paused = h.get("paused", "0") == "1"
        elif event == "AgentCalled":
            member.ringing_since, member.ringing_for = at, h.get("uniqueid", "")
        elif event == "AgentRingNoAnswer":
            member.ringing_since = None
        elif event == "AgentConnect":
            member.ringing_since = None
            member.in_call_since = at
        elif event == "AgentComplete":
            self._start_wrap_up(member, at)

    def apply_queue_status(self, replies: Iterable[Mapping[str, str]], *, at: datetime) -> None:
        """Feed the replies to a QueueStatus action (asked at each AMI login: static members send no
        event until their state changes). Its `QueueMember` entries name the interface `Location`."""
        for reply in replies:
            headers = dict(reply.items())
            if headers.get("Event") == "QueueMember":
                headers.setdefault("Interface", headers.get("Location", ""))
                self.apply("QueueMember", headers, at=at)

    @staticmethod
    def _start_wrap_up(member: QueueMember, at: datetime) -> None:
        member.in_call_since = None
        member.ringing_since = None
        member.wrap_up_since = at
        member.wrap_up_until = at + timedelta(seconds=member.wrapup_s)

    def snapshot(self, now: datetime) -> AgentSnapshot:
        views = []
        for member in self.members.values():
            state = member.state(now)
            since = {AgentState.IN_CALL: member.in_call_since,
                     AgentState.RINGING: member.ringing_since,
                     AgentState.WRAP_UP: member.wrap_up_since}.get(state)
            elapsed = (now - since).total_seconds() if since else 0.0
            views.append(AgentView(member.name, member.queue, state, max(elapsed, 0.0)))
        return AgentSnapshot(now, tuple(sorted(views, key=lambda v: (v.queue, v.name))))
