"""The AMI login both AMI users keep up (dialer/telephony/ami_link.py): the AMI back end and the ARI
back end's agent feed. Against the real Asterisk; the link is cut by the fault-injection proxy."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace

import pytest
from panoramisk.message import Message

from dialer.clock import SystemClock
from dialer.telephony.ami_link import AmiLink, AmiSettings
from dialer.telephony.desk import AgentDesk
from dialer.telephony.interface import AsteriskError
from tests.faults.proxy import CuttableProxy
from tests.fixtures.asterisk import AsteriskInstance


class Owner:
    """What an owner of the link sees, in the order the link's task delivered it."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.lost: list[str] = []
        self.logins = asyncio.Queue[bool]()

    async def on_login(self, reconnected: bool) -> None:
        self.seen.append(f"login reconnected={reconnected}")
        self.logins.put_nowait(reconnected)

    async def on_event(self, message: Message) -> None:
        self.seen.append(message.event)

    def on_lost(self, why: str) -> None:
        self.lost.append(why)

    def link(self, settings: AmiSettings, *, events: tuple[str, ...] = ("*",)) -> AmiLink:
        return AmiLink(name="ami-test", settings=settings, clock=SystemClock(), forgetable_actions=(),
                       events=events, on_event=self.on_event, on_login=self.on_login, on_lost=self.on_lost)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_given_no_asterisk_listening_when_opened_then_it_fails_in_time_naming_host_port_and_user() -> None:
    owner = Owner()
    port = _closed_port()
    link = owner.link(AmiSettings("127.0.0.1", port, "dialer", "secret", ping_s=1, reconnect_s=1))
    with pytest.raises(AsteriskError, match=rf"127\.0\.0\.1:{port} as 'dialer' \(ami-test\) did not succeed in 1\.5s"):
        await link.open(timeout_s=1.5)
    # Nothing left running after a failed open: no task, and no reconnect loop (health stays down).
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "ami-test-events"]
    assert not link.health().healthy
    with pytest.raises(AsteriskError, match="AMI not connected"):
        link.send_action({"Action": "Ping"})


@pytest.mark.asterisk
async def test_given_a_wrong_secret_when_opened_then_it_fails_saying_the_login_was_refused(
        asterisk: AsteriskInstance) -> None:
    link = Owner().link(replace(asterisk.ami, password="not-the-secret"))
    with pytest.raises(AsteriskError, match="AMI login refused"):
        await link.open(timeout_s=3)
    assert link.health().detail.startswith("AMI login refused")


@pytest.mark.asterisk
async def test_given_a_login_when_the_link_is_cut_then_the_owner_hears_the_loss_a_reconnected_login_and_new_events(
        asterisk: AsteriskInstance) -> None:
    owner = Owner()
    async with CuttableProxy(asterisk.ami.port) as proxy:
        link = owner.link(replace(asterisk.ami, port=proxy.port), events=("QueueMemberAdded",))
        await link.open(timeout_s=10)
        try:
            assert await asyncio.wait_for(owner.logins.get(), 5) is False
            assert link.health().healthy and link.health().reconnects == 0
            reply = await asyncio.wait_for(link.send_action({"Action": "Ping"}), 5)
            assert reply.get("Response") == "Success"

            proxy.cut()
            assert await asyncio.wait_for(owner.logins.get(), 20) is True
            assert owner.lost and "AMI connection lost" in owner.lost[0]
            assert link.health().healthy and link.health().reconnects == 1

            # An event raised after the reconnect reaches the owner, after that login.
            async with AgentDesk(settings=asterisk.ami) as desk:
                await desk.login("team-e2e", "PJSIP/agent8", "agent8")
                try:
                    loop = asyncio.get_running_loop()
                    deadline = loop.time() + 10
                    while "QueueMemberAdded" not in owner.seen:
                        assert loop.time() < deadline, owner.seen
                        await asyncio.sleep(0.05)
                finally:
                    await desk.logout("team-e2e", "PJSIP/agent8")
            assert owner.seen == ["login reconnected=False", "login reconnected=True", "QueueMemberAdded"]
        finally:
            await link.close()
    assert not link.health().healthy
