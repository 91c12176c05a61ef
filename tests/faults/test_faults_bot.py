"""The bot's FastAGI server killed during calls and started again (issue 8): the calls it was
serving, and those answered while it was down, fall back to the safe-harbour identification and
opt-out message (never silence) and their attempts record that route; calls answered after the
restart reach the bot again. Real Asterisk, the real `dialer agi-server` process, the real daemon."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from panoramisk.fast_agi import Application
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from dialer.bot.agi_protocol import connection_handler
from dialer.db.models import Attempt, Conversation
from dialer.domain import AttemptState, Route
from dialer.telephony.interface import RoutePlan
from dialer.telephony.lifecycle import CallLifecycle
from tests.daemon.campaign_setup import add_running_campaign, zone_at_local_hour
from tests.faults.campaign import assert_campaign_intact, build_daemon
from tests.fixtures.asterisk import REPO, AsteriskInstance, issue_permit, wait_until_ended
from tests.gate.helpers import make_debtor

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]


def _campaign(sessions: sessionmaker[Session], zone: str, accounts: int) -> tuple[int, dict[str, int]]:
    campaign_id = add_running_campaign(sessions, name="bot-killed", language="en-US", channel_limit=3,
                                       calls_per_second=5.0)
    numbers = {}
    for i in range(accounts):
        e164 = f"+86139{i:05d}{i % 4}"       # last digit 0-3: [demo-carrier] answers and says hello
        make_debtor(sessions, campaign_id, ref=f"bot-{i}", zones=[zone], numbers=[e164])
        numbers[e164] = i % 4
    return campaign_id, numbers


class BotProcess:
    """`dialer agi-server` as its own process group, so the test can SIGKILL it like a crash."""

    def __init__(self, asterisk: AsteriskInstance, db_url: str, workdir: Path) -> None:
        instance_dir = asterisk.recording_dir.parents[1]          # ROOT/srv/dialer/<instance>
        self.audio_host = instance_dir / "bot-audio-faults"
        self.audio_asterisk = "/srv/dialer/" + instance_dir.name + "/bot-audio-faults"
        self.port = asterisk.agi_port
        self.env = {**os.environ, "DIALER_DATABASE_URL": db_url, "DIALER_BOT_BUSINESS_NAME": "Acme Bank",
                    "DIALER_BOT_CALLBACK_NUMBER": "+861012345678", "DIALER_LOG_FORMAT": "text",
                    "DIALER_DATA_DIR": str(workdir)}
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.workdir / f"agi-server-{self.starts}.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from cli import main; main()", "agi-server", "--port", str(self.port), "--no-asr",
             "--audio-dir", str(self.audio_host), "--asterisk-audio-dir", self.audio_asterisk],
            env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return       # listening (the probe itself is dropped as "no environment")
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"agi-server not listening after 60 s: {self.log()}")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)

    def log(self) -> str:
        return "\n".join((self.workdir / f"agi-server-{n}.log").read_text(errors="replace")[-1500:]
                         for n in range(1, self.starts + 1))


def _in_bot(sessions: sessionmaker[Session]) -> set[int]:
    with sessions() as session:
        return set(session.scalars(select(Attempt.id).where(Attempt.route == Route.BOT,
                                                            Attempt.state != AttemptState.ENDED)))


def _fell_back_besides(sessions: sessionmaker[Session], cut: set[int]) -> bool:
    """A call answered by a person (not a machine) went to the safe-harbour message, other than
    the calls cut when the bot died."""
    with sessions() as session:
        return session.scalar(select(Attempt.id).where(
            Attempt.route == Route.SAFE_HARBOUR, Attempt.answered_at.is_not(None), Attempt.id.not_in(cut),
            or_(Attempt.amd_result.is_(None), Attempt.amd_result != "MACHINE")).limit(1)) is not None


async def test_given_the_bot_server_is_killed_during_calls_then_callers_get_the_safe_harbour_message_and_calls_after_its_restart_reach_the_bot(
        asterisk: AsteriskInstance, sqlite_url: str, sqlite_sessions: sessionmaker[Session],
        tmp_path: Path) -> None:
    sessions = sqlite_sessions
    campaign_id, numbers = _campaign(sessions, zone_at_local_hour(range(9, 20)), accounts=12)
    bot = BotProcess(asterisk, sqlite_url, tmp_path)
    bot.start()
    daemon = build_daemon(sessions, asterisk.ari, tmp_path, exit_when_idle_s=4)
    run = asyncio.create_task(daemon.run())
    try:
        deadline = time.monotonic() + 90
        while len(cut := _in_bot(sessions)) < 2:
            assert time.monotonic() < deadline and not run.done(), bot.log()
            await asyncio.sleep(0.1)
        await asyncio.to_thread(bot.kill)              # mid-conversation: the sockets just close
        killed_at = daemon.summary.placed
        while daemon.summary.placed == killed_at:     # at least one call placed while it is down
            assert not run.done()
            await asyncio.sleep(0.1)
        # ... and answered (2 s ring + AMD) meanwhile, so it fell back: waited for, not slept
        # (6 s was not always enough on a loaded machine).
        deadline = time.monotonic() + 90
        while not _fell_back_besides(sessions, cut):
            assert time.monotonic() < deadline and not run.done(), "no call fell back while the bot was down"
            await asyncio.sleep(0.1)
        await asyncio.to_thread(bot.start)
        restarted_at = asterisk.clock.now()
        summary = await asyncio.wait_for(run, timeout=300)
    finally:
        if not run.done():
            daemon.request_stop()
            await run
        bot.stop()
    assert summary.placed == len(numbers)
    rows = assert_campaign_intact(sessions, campaign_id, numbers)
    with sessions() as session:
        attempts = {a.id: a for a in session.scalars(select(Attempt))}
        conversations = set(session.scalars(select(Conversation.attempt_id)))
    # The calls the bot was serving when it died: the caller heard the identification and opt-out
    # message, and the attempt says so (route safe harbour: counted as abandoned, on the safe side).
    for attempt_id in cut:
        assert attempts[attempt_id].route is Route.SAFE_HARBOUR, (attempt_id, attempts[attempt_id].outcome)
    # Nobody was left in silence: every answered call ended with the bot or with the message.
    answered = [a for a in attempts.values() if a.answered_at is not None and a.amd_result != "MACHINE"]
    assert answered and all(a.route in (Route.BOT, Route.SAFE_HARBOUR) for a in answered)
    fell_back = [a for a in answered if a.route is Route.SAFE_HARBOUR]
    assert len(fell_back) > len(cut), "no call answered while the bot was down fell back"
    # After the restart, calls reach the bot again, and its outcome lands on the attempt.
    after = [a for a in answered if a.placed_at > restarted_at]
    assert after and all(a.route is Route.BOT for a in after), bot.log()
    assert any(a.id in conversations for a in after), bot.log()
    assert len(rows) == len(numbers)


@pytest.mark.parametrize("bot_result, routes", [
    (None, [Route.BOT, Route.SAFE_HARBOUR]),            # returned without a word: taken for a dead bot
    ("no_context", [Route.BOT, Route.SAFE_HARBOUR]),    # refused a call it cannot identify
    ("promise_to_pay", [Route.BOT]),                    # finished: nothing more is played
])
async def test_given_what_the_bot_leaves_in_dialer_bot_result_then_the_dialplan_falls_back_or_not(
        asterisk: AsteriskInstance, ami_telephony, permit_authority, bot_result: str | None,  # type: ignore[no-untyped-def]
        routes: list[Route]) -> None:
    async def bot(request):  # type: ignore[no-untyped-def]
        if bot_result is not None:
            await request.send_command(f"SET VARIABLE DIALER_BOT_RESULT {bot_result}")

    app = Application()
    app.add_route("bot", bot)
    server = await asyncio.start_server(connection_handler(app), "127.0.0.1", asterisk.agi_port)
    try:
        permit = issue_permit(permit_authority)
        lifecycle = CallLifecycle(permit.attempt_id)
        lifecycle.originating(asterisk.clock.now())
        async with ami_telephony.events() as events:
            await ami_telephony.originate(permit, route=RoutePlan.to_bot(amd=False), dial="Local/answer-1@callee-sim")
            seen = await wait_until_ended(events, {permit.attempt_id}, timeout_s=40)
    finally:
        server.close()
        await server.wait_closed()
    for event in seen[permit.attempt_id]:
        lifecycle.apply(event)
    assert lifecycle.routes == routes
