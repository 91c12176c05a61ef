"""ARI and AMI originate through the real Asterisk to Local-channel callees (extensions.conf
[callee-sim]); events come back with the attempt id and the lifecycle ends in the right outcome."""

import asyncio

import pytest

from dialer.compliance.permit import PermitAuthority, PermitRejected
from dialer.domain import Outcome, Route
from dialer.telephony.interface import CallEventKind, RingTimeoutTooShort, RoutePlan
from dialer.telephony.lifecycle import CallLifecycle
from tests.fixtures.asterisk import issue_permit, wait_until_ended

pytestmark = pytest.mark.asterisk

# behaviour in [callee-sim] -> the outcome the attempt must end with
CALLEES = {
    "answer-1": Outcome.HUMAN,
    "machine-1": Outcome.MACHINE,
    "busy": Outcome.BUSY,
    "reject": Outcome.REJECTED,
    "congestion": Outcome.CONGESTION,
    "noanswer": Outcome.NO_ANSWER,   # rings out the 15 s floor
}


async def test_given_local_callees_when_originated_then_each_attempt_ends_with_its_outcome(
        telephony, permit_authority, asterisk):
    lifecycles = {}
    async with telephony.events() as events:
        behaviour_of = {}
        for behaviour in CALLEES:
            permit = issue_permit(permit_authority)
            lifecycle = CallLifecycle(permit.attempt_id)
            lifecycle.originating(asterisk.clock.now())
            handle = await telephony.originate(permit, route=RoutePlan.to_bot(),
                                               dial=f"Local/{behaviour}@callee-sim")
            assert handle.attempt_id == permit.attempt_id
            lifecycles[permit.attempt_id] = lifecycle
            behaviour_of[permit.attempt_id] = behaviour
        seen = await wait_until_ended(events, set(lifecycles), timeout_s=45)

    for attempt_id, attempt_events in seen.items():
        lifecycle = lifecycles[attempt_id]
        for event in attempt_events:
            assert event.source == telephony.name
            lifecycle.apply(event)   # raises on any out-of-order event
        behaviour = behaviour_of[attempt_id]
        assert lifecycle.outcome is CALLEES[behaviour], (behaviour, attempt_events)
        kinds = [e.kind for e in attempt_events]
        if behaviour in ("answer-1", "machine-1"):
            assert kinds[:2] == [CallEventKind.RINGING, CallEventKind.ANSWERED]
            recording = next(e.recording for e in attempt_events if e.kind is CallEventKind.ANSWERED)
            assert recording == f"dialer-77-{attempt_id}.wav"
            # MixMonitor's full-call recording, closed when the call ended.
            path = asterisk.recording_dir / recording
            # MixMonitor writes the file from its own thread after the hangup: give a loaded
            # machine up to 20 s (2 s was not always enough).
            deadline = asyncio.get_running_loop().time() + 20
            while not (path.exists() and path.stat().st_size > 44) and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.1)
            assert path.exists() and path.stat().st_size > 44, path
        if behaviour == "answer-1":
            # The bot is not running in this test: Asterisk falls back to the safe-harbour message.
            assert lifecycle.routes == [Route.BOT, Route.SAFE_HARBOUR]


async def test_given_no_valid_permit_when_originating_then_refused_and_nothing_dialled(
        telephony, permit_authority):
    forged = issue_permit(PermitAuthority())            # signed by another key: not our gate
    with pytest.raises(PermitRejected):
        await telephony.originate(forged, route=RoutePlan.to_bot(), dial="Local/busy@callee-sim")
    with pytest.raises(PermitRejected):
        await telephony.originate(None, route=RoutePlan.to_bot())   # type: ignore[arg-type]
    short = issue_permit(permit_authority, ring_timeout_s=20)
    with pytest.raises(RingTimeoutTooShort):
        await telephony.originate(short, route=RoutePlan.to_bot(), ring_timeout_s=15,
                                  dial="Local/busy@callee-sim")
    live = {c.attempt_id for c in await telephony.live_calls()}
    assert forged.attempt_id not in live and short.attempt_id not in live


async def test_given_a_ringing_call_when_listed_and_hung_up_then_reconciliation_sees_it_then_not(
        telephony, permit_authority):
    permit = issue_permit(permit_authority)
    async with telephony.events() as events:
        handle = await telephony.originate(permit, route=RoutePlan.to_bot(),
                                           dial="Local/noanswer@callee-sim")
        event = await asyncio.wait_for(events.get(), 10)
        while event.kind is not CallEventKind.RINGING:
            event = await asyncio.wait_for(events.get(), 10)
        live = [c for c in await telephony.live_calls() if c.attempt_id == permit.attempt_id]
        assert len(live) == 1 and live[0].channel_id == handle.channel_id
        assert not live[0].answered
        await telephony.hangup(handle)
        seen = await wait_until_ended(events, {permit.attempt_id}, timeout_s=30)
    assert seen[permit.attempt_id][-1].kind is CallEventKind.ENDED
    assert permit.attempt_id not in {c.attempt_id for c in await telephony.live_calls()}
    await telephony.hangup(handle)   # already gone: not an error
