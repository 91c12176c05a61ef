"""Agent states for the ARI back end come from a side AMI login (dialer/telephony/agent_feed.py):
ARI has no queue member events. Against the real Asterisk with a SIPp softphone."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from panoramisk.message import Message

from dialer.clock import SystemClock
from dialer.telephony.agent_feed import AmiAgentFeed, refreshed_board
from dialer.telephony.agents import AgentState
from dialer.telephony.ari import AriTelephony
from dialer.telephony.desk import AgentDesk
from tests.fixtures.asterisk import AsteriskInstance, Sipp, started
from tests.telephony.agent_phones import register_agent

T0 = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)


def test_given_queue_status_replies_then_the_board_lists_each_member_with_its_state():
    replies = [Message({"Event": "QueueParams", "Queue": "collections"}),
               Message({"Event": "QueueMember", "Queue": "collections", "Name": "agent1",
                        "Location": "PJSIP/agent1", "Status": "1", "Paused": "0", "InCall": "0"}),
               Message({"Event": "QueueMember", "Queue": "collections", "Name": "agent2",
                        "Location": "PJSIP/agent2", "Status": "5", "Paused": "1", "InCall": "0"})]
    board = refreshed_board(replies, at=T0)
    assert {a.name: a.state for a in board.snapshot(T0).agents} == {"agent1": AgentState.FREE,
                                                                    "agent2": AgentState.PAUSED}


async def wait_for(predicate, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


@pytest.mark.asterisk
async def test_given_the_ari_backend_with_an_agent_feed_then_registration_and_pause_show_in_agent_states(
        asterisk: AsteriskInstance, sipp: Sipp, permit_authority) -> None:  # type: ignore[no-untyped-def]
    clock = SystemClock()
    telephony = AriTelephony(settings=asterisk.ari, authority=permit_authority, clock=clock,
                             agent_feed=AmiAgentFeed(settings=asterisk.ami, clock=clock))
    async with started(telephony):
        def state(name: str) -> AgentState | None:
            snapshot = telephony.agents()
            assert snapshot is not None
            return {a.name: a.state for a in snapshot.agents if a.queue == "team-e2e"}.get(name)

        async with AgentDesk(settings=asterisk.ami) as desk:
            await desk.login("team-e2e", "PJSIP/agent9", "agent9")
            try:
                # Logged in but no softphone registered: unavailable (the live QueueMemberAdded).
                await wait_for(lambda: state("agent9") is AgentState.UNAVAILABLE)
                await register_agent(asterisk, sipp, "agent9", phone_port=asterisk.carrier_port + 9,
                                     register_port=asterisk.carrier_port + 29)
                await wait_for(lambda: state("agent9") is AgentState.FREE)
                await desk.pause("PJSIP/agent9", paused=True, reason="coffee")
                await wait_for(lambda: state("agent9") is AgentState.PAUSED)
                await desk.pause("PJSIP/agent9", paused=False)
                await wait_for(lambda: state("agent9") is AgentState.FREE)
                health = telephony.health()
                assert health.extra["agent_feed"]["healthy"] is True  # type: ignore[index]
            finally:
                await desk.logout("team-e2e", "PJSIP/agent9")
        await wait_for(lambda: state("agent9") is None)
    assert telephony.agents() is None   # no stale "free" agents once the AMI link is gone
