"""The bot contract over FastAGI (what `dialer agi-server` relies on): answered calls routed to
the bot reach agi://127.0.0.1:<port>/bot with the originate's variables readable by GET VARIABLE,
and the 2-second rule can hand a call nobody took to the bot instead of the message."""

import asyncio

import pytest
from panoramisk.fast_agi import Application

from dialer.domain import Outcome, Route
from dialer.telephony.interface import RoutePlan, SafeHarbour
from dialer.telephony.lifecycle import CallLifecycle
from tests.fixtures.asterisk import issue_permit, wait_until_ended

pytestmark = pytest.mark.asterisk

CONTRACT = ("DIALER_ATTEMPT_ID", "DIALER_CAMPAIGN_ID", "DIALER_ROUTE", "DIALER_QUEUE",
            "DIALER_SAFE_HARBOUR")


async def test_given_a_fastagi_bot_when_calls_are_answered_then_it_gets_them_with_the_variables(
        asterisk, ami_telephony, permit_authority):
    served: dict[int, dict[str, str]] = {}

    async def bot(request):
        seen = {}
        for name in CONTRACT:
            reply = await request.send_command(f"GET VARIABLE {name}")
            code, value = reply["result"]
            seen[name] = value if code == "1" else ""
        served[int(seen["DIALER_ATTEMPT_ID"])] = seen
        await request.send_command("EXEC Wait 0.5")
        # A bot that returns without a result is taken for one that died mid-call (safe harbour).
        await request.send_command("SET VARIABLE DIALER_BOT_RESULT done")

    app = Application()   # built inside the running loop (panoramisk on 3.11)
    app.add_route("bot", bot)
    server = await asyncio.start_server(app.handler, "127.0.0.1", asterisk.agi_port)
    plans = {
        "bot": RoutePlan.to_bot(),
        "nobody-then-bot": RoutePlan.to_queue("overflow", safe_harbour=SafeHarbour.BOT),
    }
    lifecycles, plan_of = {}, {}
    try:
        async with ami_telephony.events() as events:
            for name, plan in plans.items():
                permit = issue_permit(permit_authority, campaign_id=5)
                lifecycles[permit.attempt_id] = CallLifecycle(permit.attempt_id)
                lifecycles[permit.attempt_id].originating(asterisk.clock.now())
                plan_of[permit.attempt_id] = name
                await ami_telephony.originate(permit, route=plan, dial="Local/answer-1@callee-sim")
            seen = await wait_until_ended(events, set(lifecycles), timeout_s=30)
    finally:
        server.close()
        await server.wait_closed()

    for attempt_id, attempt_events in seen.items():
        lifecycle = lifecycles[attempt_id]
        for event in attempt_events:
            lifecycle.apply(event)
        variables = served[attempt_id]
        assert variables["DIALER_CAMPAIGN_ID"] == "5"
        if plan_of[attempt_id] == "bot":
            assert lifecycle.routes == [Route.BOT]
            assert lifecycle.outcome is Outcome.HUMAN
            assert variables["DIALER_ROUTE"] == "bot"
        else:
            # Nobody in the queue within 2 s: the bot took over, and it counts as abandoned.
            assert lifecycle.routes == [Route.QUEUE, Route.BOT]
            assert lifecycle.outcome is Outcome.ABANDONED
            assert (variables["DIALER_QUEUE"], variables["DIALER_SAFE_HARBOUR"]) == ("overflow", "bot")
