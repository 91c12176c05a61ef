"""Asterisk restarted under the dialer: the ARI event socket and the AMI login come back by
themselves, reconnect hooks fire (the daemon reconciles there), and calls work again."""

import asyncio
from datetime import timedelta

import pytest

from dialer.domain import Outcome
from dialer.telephony.interface import AsteriskError, RoutePlan
from dialer.telephony.lifecycle import CallLifecycle
from dialer.telephony.tracker import CallTracker
from tests.fixtures.asterisk import issue_permit, wait_until_ended

pytestmark = pytest.mark.asterisk


async def wait_healthy(telephony, timeout_s: float = 30.0, *, healthy: bool = True) -> None:
    """Wait for the adapter's own health report (not a fixed sleep) to say `healthy`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while telephony.health().healthy is not healthy:
        assert loop.time() < deadline, f"{telephony.name} healthy is not {healthy}: {telephony.health()}"
        await asyncio.sleep(0.1)


async def test_given_both_adapters_when_asterisk_restarts_then_both_recover_and_dial_again(
        asterisk, ari_telephony, ami_telephony, permit_authority):
    reconnected = {"ari": asyncio.Event(), "ami": asyncio.Event()}
    live_after_reconnect = {}
    trackers = {"ari": CallTracker(), "ami": CallTracker()}
    for telephony in (ari_telephony, ami_telephony):
        telephony.subscribe(trackers[telephony.name].on_event)

        async def reconcile(telephony=telephony):
            # What the daemon does here: ask Asterisk for the truth before dialling again.
            live_after_reconnect[telephony.name] = await telephony.live_calls()
            trackers[telephony.name].reconcile(live_after_reconnect[telephony.name],
                                               now=asterisk.clock.now(), grace=timedelta(0))
            reconnected[telephony.name].set()
        telephony.on_reconnect(reconcile)
    assert ari_telephony.health().healthy and ami_telephony.health().healthy

    # A call rings on each adapter when Asterisk goes away.
    for telephony in (ari_telephony, ami_telephony):
        permit = issue_permit(permit_authority)
        trackers[telephony.name].track(permit.attempt_id, campaign_id=77, placed_at=asterisk.clock.now())
        trackers[telephony.name].originating(permit.attempt_id, at=asterisk.clock.now())
        await telephony.originate(permit, route=RoutePlan.to_bot(),
                                  dial="Local/noanswer@callee-sim")

    await asyncio.to_thread(asterisk.harness, "stop")
    for telephony in (ari_telephony, ami_telephony):
        # ARI sees its event socket close at once; AMI at its next ping (1 s) at the latest.
        await wait_healthy(telephony, 30, healthy=False)
    with pytest.raises(AsteriskError):
        await ami_telephony.originate(issue_permit(permit_authority), route=RoutePlan.to_bot())
    await asyncio.to_thread(asterisk.harness, "start")

    # Reconnect back-off is at most 2 s (ARI) and 1 s (AMI); the rest is a loaded machine's slack.
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in reconnected.values())), 60)
    for telephony in (ari_telephony, ami_telephony):
        await wait_healthy(telephony)
        assert telephony.health().reconnects == 1
        assert live_after_reconnect[telephony.name] == []   # a restarted Asterisk has no calls
        # ... so the ringing call was ended (by its last events or by reconciliation), not
        # left open forever.
        assert trackers[telephony.name].open_calls() == []

    for telephony in (ari_telephony, ami_telephony):
        permit = issue_permit(permit_authority)
        lifecycle = CallLifecycle(permit.attempt_id)
        lifecycle.originating(asterisk.clock.now())
        async with telephony.events() as events:
            await telephony.originate(permit, route=RoutePlan.to_bot(),
                                      dial="Local/busy@callee-sim")
            seen = await wait_until_ended(events, {permit.attempt_id}, timeout_s=30)
        for event in seen[permit.attempt_id]:
            lifecycle.apply(event)
        assert lifecycle.outcome is Outcome.BUSY, telephony.name
