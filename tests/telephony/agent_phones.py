"""SIPp softphones for agents: an auto-answer UAS per agent, registered to the real Asterisk."""

from __future__ import annotations

import asyncio
import subprocess

from tests.fixtures.asterisk import AsteriskInstance, Sipp


async def register_agent(asterisk: AsteriskInstance, sipp: Sipp, agent: str, *, phone_port: int,
                         register_port: int, talk_ms: int | None = None,
                         calls: int = 1000) -> subprocess.Popen[bytes]:
    """Start `agent`'s softphone on `phone_port` and register it; returns the phone's process.

    With `talk_ms` the phone hangs up each call itself after that long (agent-answer-hangup.xml);
    without, it waits for the caller's BYE (agent-answer.xml).
    """
    scenario = "agent-answer-hangup.xml" if talk_ms is not None else "agent-answer.xml"
    extra = ("-timeout", "900s") + (("-d", str(talk_ms)) if talk_ms is not None else ())
    phone = sipp.start(scenario, port=phone_port, calls=calls, extra=extra)
    registration = sipp.start(
        "agent-register.xml", port=register_port, remote=f"127.0.0.1:{asterisk.sip_port}",
        extra=("-s", agent, "-au", agent, "-ap", asterisk.agent_password, "-key", "contact_port", str(phone_port)))
    code = await asyncio.to_thread(registration.wait, 30)   # a REGISTER round trip; slow under load
    assert code == 0, sipp.output("agent-register.xml", register_port)
    return phone
