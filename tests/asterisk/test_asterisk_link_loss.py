"""The dialer loses its link to a running Asterisk (network blip, proxy restart) while calls are
up: both adapters reconnect, the reconnect hook sees the calls still in progress (reconciliation),
and their events keep flowing on the new link. The link is cut by a small TCP proxy (fault
injection); Asterisk and the calls are real."""

import asyncio
import contextlib
from dataclasses import replace

import pytest

from dialer.telephony.ami import AmiTelephony
from dialer.telephony.ari import AriTelephony
from dialer.telephony.interface import CallEventKind, RoutePlan
from tests.faults.proxy import CuttableProxy
from tests.fixtures.asterisk import issue_permit, started, wait_until_ended

pytestmark = pytest.mark.asterisk


async def test_given_ringing_calls_when_the_link_drops_then_adapters_reconnect_reconcile_and_follow_them(
        asterisk, permit_authority):
    async with CuttableProxy(int(asterisk.env["DIALER_ARI_PORT"])) as ari_proxy, \
            CuttableProxy(asterisk.ami.port) as ami_proxy:
        async with started(AriTelephony(settings=replace(asterisk.ari,
                                                         url=f"http://127.0.0.1:{ari_proxy.port}/ari"),
                                        authority=permit_authority, clock=asterisk.clock)) as ari, \
                started(AmiTelephony(settings=replace(asterisk.ami, port=ami_proxy.port),
                                     authority=permit_authority, clock=asterisk.clock)) as ami:
            reconciled: dict[str, set[int]] = {}
            done = {"ari": asyncio.Event(), "ami": asyncio.Event()}
            for telephony in (ari, ami):
                async def reconcile(telephony=telephony):
                    reconciled[telephony.name] = {c.attempt_id for c in await telephony.live_calls()}
                    done[telephony.name].set()
                telephony.on_reconnect(reconcile)

            handles = {}
            streams = {}
            async with contextlib.AsyncExitStack() as stack:
                for telephony in (ari, ami):
                    streams[telephony.name] = await stack.enter_async_context(telephony.events())
                    permit = issue_permit(permit_authority)
                    handles[telephony.name] = await telephony.originate(
                        permit, route=RoutePlan.to_bot(), dial="Local/noanswer@callee-sim")
                for name, events in streams.items():
                    event = await asyncio.wait_for(events.get(), 10)
                    assert event.kind is CallEventKind.RINGING, name

                ari_proxy.cut()
                ami_proxy.cut()
                await asyncio.wait_for(asyncio.gather(*(e.wait() for e in done.values())), 20)

                for telephony in (ari, ami):
                    # Still ringing in Asterisk: reconciliation finds it, nothing is lost.
                    assert handles[telephony.name].attempt_id in reconciled[telephony.name]
                    assert telephony.health().healthy and telephony.health().reconnects >= 1
                    await telephony.hangup(handles[telephony.name])
                    seen = await wait_until_ended(streams[telephony.name],
                                                  {handles[telephony.name].attempt_id},
                                                  timeout_s=30)
                    assert seen[handles[telephony.name].attempt_id][-1].kind is CallEventKind.ENDED


async def test_given_a_silent_half_open_link_when_keepalives_go_unanswered_then_both_adapters_reconnect(
        asterisk, permit_authority):
    async with CuttableProxy(int(asterisk.env["DIALER_ARI_PORT"])) as ari_proxy, \
            CuttableProxy(asterisk.ami.port) as ami_proxy:
        async with started(AriTelephony(settings=replace(asterisk.ari, ping_s=0.5,
                                                         url=f"http://127.0.0.1:{ari_proxy.port}/ari"),
                                        authority=permit_authority, clock=asterisk.clock)) as ari, \
                started(AmiTelephony(settings=replace(asterisk.ami, port=ami_proxy.port, ping_s=1),
                                     authority=permit_authority, clock=asterisk.clock)) as ami:
            reconnected = {"ari": asyncio.Event(), "ami": asyncio.Event()}
            ari.on_reconnect(reconnected["ari"].set)
            ami.on_reconnect(reconnected["ami"].set)
            ari_proxy.freeze()
            ami_proxy.freeze()
            # Nothing closes the sockets: only the adapters' own keepalives can notice (a few
            # seconds; the bound is for a loaded machine).
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in reconnected.values())), 30)
            for telephony in (ari, ami):
                assert telephony.health().healthy
                permit = issue_permit(permit_authority)
                async with telephony.events() as events:
                    await telephony.originate(permit, route=RoutePlan.to_bot(),
                                              dial="Local/busy@callee-sim")
                    seen = await wait_until_ended(events, {permit.attempt_id}, timeout_s=30)
                assert seen[permit.attempt_id][-1].cause == 17
