"""The agent desk over AMI: log agents into queues, pause and resume them, list who is where.

Queue membership lives in Asterisk (app_queue); the dialer only asks. Softphone feature codes
(*51 login, *52 logout, *53 pause, *54 resume, see asterisk_conf/extensions.conf) do the same from
the agent's phone. Needs the AMI `agent` write class (asterisk_conf/manager.conf grants it).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from panoramisk import Manager

from dialer.telephony.ami import AmiSettings
from dialer.telephony.interface import AsteriskError


@dataclass(frozen=True)
class QueueMemberState:
    queue: str
    interface: str
    name: str
    paused: bool
    status: str          # Asterisk device state number: 1 not in use, 2 in use, 5 unavailable, ...
    calls_taken: int


class AgentDesk:
    def __init__(self, *, settings: AmiSettings) -> None:
        self._settings = settings
        self._manager: Manager | None = None

    async def __aenter__(self) -> AgentDesk:
        s = self._settings
        self._manager = Manager(loop=asyncio.get_running_loop(), host=s.host, port=s.port, username=s.user,
                                secret=s.password, ping_delay=0, reconnect_timeout=0)
        try:
            await asyncio.wait_for(self._manager.connect(), s.action_timeout_s)
        except (OSError, asyncio.TimeoutError) as exc:
            self._manager.close()
            raise AsteriskError(f"AMI {s.host}:{s.port} unreachable ({exc!r}): is Asterisk running?") from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._manager is not None:
            self._manager.close()

    async def login(self, queue: str, interface: str, name: str) -> None:
        await self._action({"Action": "QueueAdd", "Queue": queue, "Interface": interface, "MemberName": name,
                            "Paused": "false"}, ignore="Already there")

    async def logout(self, queue: str, interface: str) -> None:
        await self._action({"Action": "QueueRemove", "Queue": queue, "Interface": interface},
                           ignore="Not there")

    async def pause(self, interface: str, *, paused: bool, reason: str = "") -> None:
        await self._action({"Action": "QueuePause", "Interface": interface, "Paused": "true" if paused else "false",
                            "Reason": reason})

    async def members(self, queue: str | None = None) -> list[QueueMemberState]:
        action: dict[str, str] = {"Action": "QueueStatus"}
        if queue:
            action["Queue"] = queue
        replies = await self._send(action, as_list=True)
        return [QueueMemberState(queue=m.get("Queue", ""), interface=m.get("Location") or m.get("StateInterface", ""),
                                 name=m.get("Name", ""), paused=m.get("Paused") == "1", status=m.get("Status", "0"),
                                 calls_taken=int(m.get("CallsTaken") or 0))
                for m in replies if m.get("Event") == "QueueMember"]

    async def _action(self, action: dict[str, str], *, ignore: str | None = None) -> None:
        reply = await self._send(action)
        if reply.get("Response") == "Error" and not (ignore and ignore in reply.get("Message", "")):
            raise AsteriskError(f"{action['Action']} refused: {reply.get('Message')}")

    async def _send(self, action: dict[str, str], *, as_list: bool = False) -> Any:
        assert self._manager is not None, "use `async with AgentDesk(...)`"
        try:
            return await asyncio.wait_for(self._manager.send_action(action, as_list=as_list),
                                          self._settings.action_timeout_s)
        except asyncio.TimeoutError:
            raise AsteriskError(f"AMI {action['Action']} got no reply in {self._settings.action_timeout_s}s") from None
