"""SIPp as the far ends: a carrier (answers / busy / rings out) behind the PJSIP trunk, and an
agent's softphone that registers with digest auth and auto-answers queue calls."""

import asyncio

import pytest

from dialer.domain import Outcome, Route
from dialer.telephony.agents import AgentState
from dialer.telephony.interface import RoutePlan
from dialer.telephony.lifecycle import CallLifecycle
from tests.fixtures.asterisk import issue_permit, wait_until_ended

pytestmark = pytest.mark.asterisk


async def test_given_a_sipp_carrier_when_calls_go_out_the_trunk_then_outcomes_follow_the_sip_answers(
        asterisk, sipp, ami_telephony, permit_authority):
    base = asterisk.carrier_port
    behaviours = {  # scenario, port -> expected outcome
        ("carrier-answer.xml", base + 1): Outcome.ABANDONED,   # answered, no agent in 2 s
        ("carrier-busy.xml", base + 2): Outcome.BUSY,           # 486
        ("carrier-ringout.xml", base + 3): Outcome.NO_ANSWER,   # 180 until the 15 s floor
    }
    procs = {key: sipp.start(key[0], port=key[1]) for key in behaviours}
    lifecycles = {}
    expected = {}
    async with ami_telephony.events() as events:
        for (scenario, port), outcome in behaviours.items():
            permit = issue_permit(permit_authority, e164="+15550123")
            lifecycles[permit.attempt_id] = CallLifecycle(permit.attempt_id)
            lifecycles[permit.attempt_id].originating(asterisk.clock.now())
            expected[permit.attempt_id] = (scenario, outcome)
            # A dial string naming the trunk endpoint and an explicit URI: one SIPp per behaviour.
            await ami_telephony.originate(
                permit, route=RoutePlan.to_queue("overflow", amd=False),
                dial=f"PJSIP/carrier-trunk/sip:+15550123@127.0.0.1:{port}")
        seen = await wait_until_ended(events, set(lifecycles), timeout_s=45)
    for attempt_id, attempt_events in seen.items():
        lifecycle = lifecycles[attempt_id]
        for event in attempt_events:
            lifecycle.apply(event)
        scenario, outcome = expected[attempt_id]
        assert lifecycle.outcome is outcome, (scenario, attempt_events)
        if scenario == "carrier-answer.xml":
            assert lifecycle.routes == [Route.QUEUE, Route.SAFE_HARBOUR]
    for (scenario, port), proc in procs.items():
        # Each SIPp ran its one call through the scripted dialog to the end: exit status 0.
        assert await asyncio.to_thread(proc.wait, 20) == 0, sipp.output(scenario, port)


async def test_given_a_registered_auto_answering_agent_when_a_human_answers_then_the_queue_bridges_them(
        asterisk, sipp, ami_telephony, permit_authority):
    agent_port, register_port = asterisk.carrier_port + 11, asterisk.carrier_port + 21
    phone = sipp.start("agent-answer.xml", port=agent_port)
    registration = sipp.start(
        "agent-register.xml", port=register_port, remote=f"127.0.0.1:{asterisk.sip_port}",
        extra=("-s", "agent1", "-au", "agent1", "-ap", asterisk.agent_password,
               "-key", "contact_port", str(agent_port)))
    assert await asyncio.to_thread(registration.wait, 30) == 0, \
        sipp.output("agent-register.xml", register_port)

    # Asterisk now sees agent1 as a free queue member (device state from the registration): a
    # deadline, not a count of tries, since each AMI round trip is slower on a loaded machine.
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        agents = {(a.queue, a.name): a.state for a in (await ami_telephony.refresh_agents()).agents}
        if agents.get(("collections", "agent1")) is AgentState.FREE or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.1)
    assert agents[("collections", "agent1")] is AgentState.FREE
    assert agents[("collections", "agent2")] is AgentState.UNAVAILABLE

    permit = issue_permit(permit_authority)
    lifecycle = CallLifecycle(permit.attempt_id)
    lifecycle.originating(asterisk.clock.now())
    async with ami_telephony.events() as events:
        handle = await ami_telephony.originate(permit, route=RoutePlan.to_queue("collections"),
                                               dial="Local/answer-1@callee-sim")
        while lifecycle.state.value != "connected":
            event = await asyncio.wait_for(events.get(), 20)
            if event.attempt_id == permit.attempt_id:
                lifecycle.apply(event)
        assert lifecycle.agent == "agent1"
        assert ami_telephony.agents().count(AgentState.IN_CALL) == 1
        await ami_telephony.hangup(handle)
        seen = await wait_until_ended(events, {permit.attempt_id}, timeout_s=30)
    for event in seen[permit.attempt_id]:
        lifecycle.apply(event)
    assert lifecycle.outcome is Outcome.HUMAN
    assert lifecycle.routes == [Route.QUEUE]
    assert lifecycle.connected_at is not None and lifecycle.answered_at is not None
    # Connected within the 2-second rule (AMD ran first, the 2 s count from its verdict).
    assert (lifecycle.connected_at - lifecycle.answered_at).total_seconds() < 2 + 4
    assert await asyncio.to_thread(phone.wait, 10) == 0, sipp.output("agent-answer.xml", agent_port)
    assert (asterisk.recording_dir / f"dialer-77-{permit.attempt_id}.wav").exists()
    # After the call, the agent is in wrap-up (queues.conf wrapuptime 5), not free.
    assert ami_telephony.agents().count(AgentState.IN_CALL) == 0


async def test_given_an_agent_softphone_when_it_dials_the_pause_codes_then_the_agent_state_follows(
        asterisk, sipp, ami_telephony):
    async def dial(code: str, port: int) -> None:
        proc = sipp.start("agent-feature-code.xml", port=port,
                          remote=f"127.0.0.1:{asterisk.sip_port}",
                          extra=("-s", code, "-key", "agent", "agent2", "-au", "agent2",
                                 "-ap", asterisk.agent_password))
        assert await asyncio.to_thread(proc.wait, 15) == 0, sipp.output("agent-feature-code.xml", port)

    async def state_of_agent2() -> AgentState:
        snapshot = await ami_telephony.refresh_agents()
        return {a.name: a.state for a in snapshot.agents if a.queue == "collections"}["agent2"]

    await dial("*53", asterisk.carrier_port + 22)
    assert await state_of_agent2() is AgentState.PAUSED
    await dial("*54", asterisk.carrier_port + 23)
    # The live QueueMemberPause event updated the board, without a refresh.
    assert ami_telephony.agents().count(AgentState.PAUSED) == 0
    assert await state_of_agent2() is AgentState.UNAVAILABLE   # unpaused, but not registered
