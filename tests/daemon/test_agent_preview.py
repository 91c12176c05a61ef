"""Preview and manual calls on the real Asterisk 22 and PostgreSQL, through the agents' HTTP API that
`dialer run` serves: the agent asks for the next contact, accepts it or dials a number, the dialer
rings the agent's SIPp softphone first and the contact (a `[demo-carrier]` far end) once the agent
answered, every call through the compliance gate; the screen-pop shows the call and the bot's
hand-off context read from the channel."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from panoramisk import Manager
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from dialer.agents.api import AgentApi
from dialer.agents.client import AgentApiClient, ApiError
from dialer.agents.console import AgentConsole
from dialer.clock import SystemClock
from dialer.compliance.book import ProfileBook
from dialer.compliance.gate import CallGate
from dialer.compliance.permit import PermitAuthority
from dialer.compliance.profiles import load_profiles
from dialer.daemon.service import Daemon
from dialer.db.models import Account, Agent, Attempt, Campaign, Queue
from dialer.db.session import make_engine, make_sessionmaker, transaction
from dialer.domain import AttemptState, CampaignMode, CampaignState, Outcome
from dialer.telephony.agent_feed import AmiAgentFeed
from dialer.telephony.ami import AmiTelephony
from dialer.telephony.ari import AriTelephony
from tests.daemon.campaign_setup import zone_at_local_hour
from tests.fixtures.asterisk import AsteriskInstance, Sipp
from tests.gate.helpers import make_debtor
from tests.telephony.agent_phones import register_agent

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres]

TOKEN = "desk-test-token"
PERSON, BUSY, NIGHT = "+8613700000010", "+8613700000025", "+8613700000030"   # demo-carrier: 0 answers, 5 busy


@dataclass
class Desk:
    sessions: sessionmaker[Session]
    telephony: AriTelephony | AmiTelephony
    api: AgentApiClient
    port: int
    accounts: dict[str, int]
    contacts: dict[str, int]
    data_dir: Path


def make_preview_campaign(sessions: sessionmaker[Session]) -> tuple[dict[str, int], dict[str, int]]:
    with transaction(sessions) as session:
        queue = Queue(name="desk")
        session.add(queue)
        session.flush()
        session.add(Agent(name="ann", endpoint="PJSIP/agent3", queue_id=queue.id))
        campaign = Campaign(name="desk", profile="cn", mode=CampaignMode.PREVIEW, state=CampaignState.RUNNING,
                            queue_id=queue.id, channel_limit=5, calls_per_second=1.0,
                            profile_overrides={"ring": {"default_s": 15}}, strategy={})
        session.add(campaign)
        session.flush()
        campaign_id = campaign.id
    day, night = zone_at_local_hour(range(9, 20)), zone_at_local_hour(range(0, 7))
    accounts, contacts = {}, {}
    for ref, number, zone in (("person", PERSON, day), ("busy", BUSY, day), ("night", NIGHT, night)):
        account_id, (contact_id,), _ = make_debtor(sessions, campaign_id, ref=ref, zones=[zone], numbers=[number])
        accounts[number], contacts[number] = account_id, contact_id
    with transaction(sessions) as session:   # the person's account first in the preview order
        session.get(Account, accounts[PERSON]).priority = 10  # type: ignore[union-attr]
    return accounts, contacts


@pytest.fixture(params=["ari", "ami"])
async def desk(request: pytest.FixtureRequest, asterisk: AsteriskInstance, sipp: Sipp, postgres_url: str,
               tmp_path: Path) -> AsyncIterator[Desk]:
    """`dialer run` with the agents' API, once over ARI (+ the AMI agent feed), once over AMI."""
    engine = make_engine(postgres_url)
    sessions = make_sessionmaker(engine)
    accounts, contacts = make_preview_campaign(sessions)
    # Ann's softphone auto-answers and hangs up 15 s into each call (time for the screen-pop
    # checks on a loaded machine).
    await register_agent(asterisk, sipp, "agent3", phone_port=asterisk.carrier_port + 9,
                         register_port=asterisk.carrier_port + 29, talk_ms=15000)
    clock, authority = SystemClock(), PermitAuthority()
    book = ProfileBook(load_profiles())
    telephony: AriTelephony | AmiTelephony
    if request.param == "ari":
        telephony = AriTelephony(settings=asterisk.ari, authority=authority, clock=clock,
                                 agent_feed=AmiAgentFeed(settings=asterisk.ami, clock=clock))
    else:
        telephony = AmiTelephony(settings=asterisk.ami, authority=authority, clock=clock)
    gate = CallGate(sessions=sessions, profile_for=book.for_campaign, authority=authority, clock=clock, node="desk")
    daemon = Daemon(sessions=sessions, gate=gate, telephony=telephony, clock=clock, node="desk",
                    dial_template="Local/{number}@demo-carrier", tick_seconds=0.25, grace_seconds=20,
                    status_file=tmp_path / "daemon-status.json", agents=telephony.agents)
    console = AgentConsole(sessions=sessions, gate=gate, telephony=telephony, tracker=daemon.tracker, clock=clock,
                           dial_template="Local/{number}@demo-carrier")
    api = AgentApi(console=console, host="127.0.0.1", port=0, token=TOKEN)
    daemon.add_service(api)
    run = asyncio.create_task(daemon.run())
    while telephony.health().healthy is False or api._server is None:
        assert not run.done(), run
        await asyncio.sleep(0.1)
    try:
        yield Desk(sessions, telephony, AgentApiClient(host="127.0.0.1", port=api.port, token=TOKEN), api.port,
                   accounts, contacts, tmp_path)
    finally:
        daemon.request_stop()
        await asyncio.wait_for(run, 60)
        engine.dispose()


async def ended(sessions: sessionmaker[Session], attempt_id: int, timeout_s: float = 40) -> Attempt:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        with sessions() as session:
            attempt = session.get(Attempt, attempt_id)
            if attempt is not None and attempt.state is AttemptState.ENDED:
                session.expunge(attempt)
                return attempt
        assert loop.time() < deadline, f"attempt {attempt_id} not ended after {timeout_s}s"
        await asyncio.sleep(0.2)


async def test_given_a_preview_campaign_when_the_agent_accepts_the_next_contact_then_agent_first_then_contact_bridged(
        desk: Desk, asterisk: AsteriskInstance) -> None:
    preview = await asyncio.to_thread(desk.api.next, "ann")
    assert preview["campaign"] == "desk" and preview["debtor"]["ref"] == "person"
    assert preview["account"]["amount_due"] == "100.00" and preview["account"]["days_past_due"] == 5
    (contact,) = preview["contacts"]
    assert contact["contact_id"] == desk.contacts[PERSON]
    assert contact["number"] != PERSON and contact["number"].endswith(PERSON[-2:])   # masked
    # Held for Ann: asking again gives the same account, and nobody else's hopper proposes it.
    assert (await asyncio.to_thread(desk.api.next, "ann"))["account"]["id"] == desk.accounts[PERSON]
    with desk.sessions() as session:
        assert session.get(Account, desk.accounts[PERSON]).held_by == "agent:ann"  # type: ignore[union-attr]

    started = await asyncio.to_thread(desk.api.call, "ann", contact_id=contact["contact_id"])
    attempt_id = started["attempt_id"]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    screen: dict = {}  # type: ignore[type-arg]
    while not (screen.get("on_call") and screen["call"]["state"] == "connected"):
        assert loop.time() < deadline, screen
        screen = await asyncio.to_thread(desk.api.screen, "ann")
        await asyncio.sleep(0.2)
    assert screen["call"]["attempt_id"] == attempt_id and screen["debtor"]["name"] == "Debtor person"
    assert screen["handoff"] == {"from_bot": False, "disposition": None}
    # What the bot leaves on the channel when it hands a call over (dialer/bot/agi_dialog.py
    # `_transfer`, tested in tests/bot); set here with AMI Setvar on the same channel (ARI sets
    # variables only on channels in a Stasis app; ours run in the dialplan), then read back.
    with desk.sessions() as session:
        channel_id = session.get(Attempt, attempt_id).channel_id  # type: ignore[union-attr]
    ami = asterisk.ami
    manager = Manager(loop=loop, host=ami.host, port=ami.port, username=ami.user, secret=ami.password,
                      ping_delay=0, reconnect_timeout=0)
    await manager.connect()
    try:
        for name, value in (("DIALER_BOT_RESULT", "transfer"), ("DIALER_CTX_DEBTOR", "Debtor person"),
                            ("DIALER_CTX_STAGE", "willingness"), ("DIALER_CTX_INTENTS", "hardship,promise_later"),
                            ("DIALER_CTX_PROMISE", "50.00 CNY 2026-11-30")):
            reply = await manager.send_action({"Action": "Setvar", "Channel": channel_id, "Variable": name,
                                               "Value": value})
            assert reply.success, reply
    finally:
        manager.close()
    screen = await asyncio.to_thread(desk.api.screen, "ann")
    assert screen["handoff"] == {"from_bot": True, "disposition": None, "debtor": "Debtor person",
                                 "stage": "willingness", "intents": "hardship,promise_later",
                                 "promise": "50.00 CNY 2026-11-30"}

    attempt = await ended(desk.sessions, attempt_id)
    with desk.sessions() as session:
        ann = session.scalar(select(Agent.id).where(Agent.name == "ann"))
        held_by = session.get(Account, desk.accounts[PERSON]).held_by  # type: ignore[union-attr]
    assert attempt.outcome is Outcome.HUMAN and attempt.agent_id == ann and attempt.connected_at is not None
    assert attempt.live_agent_guaranteed and attempt.ring_timeout_s >= 15 and held_by is None
    assert attempt.recording_path and (asterisk.recording_dir / attempt.recording_path).exists()
    assert (await asyncio.to_thread(desk.api.screen, "ann")) == {"agent": "ann", "on_call": False}


async def test_given_manual_calls_then_each_goes_through_the_gate_and_a_denial_dials_nothing(
        desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    started = await asyncio.to_thread(desk.api.call, "ann", number=BUSY)
    attempt = await ended(desk.sessions, started["attempt_id"])
    assert attempt.outcome is Outcome.BUSY and attempt.e164 == BUSY   # the agent answered; the contact was busy

    # Night in the debtor's zone: the gate denies, with its reason, and no attempt row is written.
    with pytest.raises(ApiError) as denied:
        await asyncio.to_thread(desk.api.call, "ann", number=NIGHT)
    assert denied.value.status == 403 and denied.value.details["reason"] == "outside_window"
    with pytest.raises(ApiError) as unknown:
        await asyncio.to_thread(desk.api.call, "ann", number="+8613799999999")
    assert unknown.value.status == 404
    with pytest.raises(ApiError) as unauthorised:
        await asyncio.to_thread(AgentApiClient(host="127.0.0.1", port=desk.port, token="wrong").screen, "ann")
    assert unauthorised.value.status == 401
    with desk.sessions() as session:
        assert session.scalar(select(func.count(Attempt.id)).where(Attempt.e164 != BUSY)) == 0

    # The CLI is a thin client of the same API.
    monkeypatch.setenv("DIALER_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("DIALER_AGENTS_API_PORT", str(desk.port))
    monkeypatch.setenv("DIALER_AGENTS_API_TOKEN", TOKEN)
    runner = CliRunner()
    result = await asyncio.to_thread(runner.invoke, main, ["agent", "next", "ann", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["debtor"]["ref"] == "person"
    result = await asyncio.to_thread(runner.invoke, main, ["agent", "skip", "ann", "--account",
                                                           str(desk.accounts[PERSON])])
    assert result.exit_code == 0, result.output
    # Person skipped, busy rescheduled after its call, night parked by the gate's denial until its
    # window opens: nothing to preview. A call the gate would deny is refused from the CLI too.
    result = await asyncio.to_thread(runner.invoke, main, ["agent", "next", "ann"])
    assert result.exit_code == 1 and "no account is due now" in result.output, result.output
    result = await asyncio.to_thread(runner.invoke, main, ["agent", "call", "ann", "--contact",
                                                           str(desk.contacts[NIGHT])])
    assert result.exit_code == 1 and "outside_window" in result.output, result.output
    # `dialer status` shows where agent states come from: the AMI side login when dialling over ARI.
    monkeypatch.setenv("DIALER_DATA_DIR", str(desk.data_dir))
    result = await asyncio.to_thread(runner.invoke, main, ["status", "--json"])
    components = {c["component"]: c["healthy"] for c in json.loads(result.output)["components"]}
    assert components.get("agent states (ami)") is (True if desk.telephony.name == "ari" else None), components
    result = await asyncio.to_thread(runner.invoke, main, ["agent", "screen", "ann"])
    assert result.exit_code == 0 and "not on a call" in result.output


async def test_given_an_agent_whose_softphone_is_not_registered_then_the_contact_is_not_dialled_and_the_agent_not_left_busy(
        desk: Desk) -> None:
    with transaction(desk.sessions) as session:
        queue_id = session.scalar(select(Queue.id).where(Queue.name == "desk"))
        session.add(Agent(name="bob", endpoint="PJSIP/agent2", queue_id=queue_id))   # never registered here
    try:
        # Asterisk may create the channel and fail it at once (the call starts, then ends) ...
        attempt_id = (await asyncio.to_thread(desk.api.call, "bob", contact_id=desk.contacts[PERSON]))["attempt_id"]
    except ApiError as exc:
        # ... or refuse it outright: 503, with the attempt the gate wrote.
        assert exc.status == 503, exc
        attempt_id = int(exc.details["attempt_id"])
    attempt = await ended(desk.sessions, attempt_id)
    assert attempt.outcome is Outcome.FAILED and attempt.answered_at is None
    assert "agent" in (attempt.hangup_cause_text or "")
    assert (await asyncio.to_thread(desk.api.screen, "bob")) == {"agent": "bob", "on_call": False}
