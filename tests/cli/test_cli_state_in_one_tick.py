"""A supervisor's `dialer campaign pause/resume/stop/start` takes effect within one pacer tick of
the running daemon, measured on the real Asterisk 22: the daemon dials `[demo-carrier]` numbers
that answer busy at once, and the attempt rows' `placed_at` say when dialling stopped and started."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from dialer.clock import SystemClock
from dialer.compliance.book import ProfileBook
from dialer.compliance.gate import CallGate
from dialer.compliance.permit import PermitAuthority
from dialer.compliance.profiles import load_profiles
from dialer.daemon.service import Daemon
from dialer.db import migrate
from dialer.db.models import Attempt, Campaign
from dialer.db.session import make_engine, make_sessionmaker, transaction
from dialer.domain import CampaignMode, CampaignState
from dialer.telephony.ari import AriTelephony
from tests.daemon.campaign_setup import zone_at_local_hour
from tests.fixtures.asterisk import AsteriskInstance
from tests.gate.helpers import make_debtor

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]
TICK = 0.5
# the tick that reads the new state may itself take a moment on a loaded 2-core machine
MARGIN = timedelta(seconds=0.3)


@pytest.fixture
def db(tmp_path: Path) -> tuple[str, sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'tick.sqlite3'}"
    migrate.upgrade(url)
    return url, make_sessionmaker(make_engine(url))


def paused_campaign(sessions: sessionmaker[Session], accounts: int) -> None:
    with transaction(sessions) as session:
        campaign = Campaign(name="tick", profile="cn", mode=CampaignMode.BOT_ONLY, state=CampaignState.PAUSED,
                            channel_limit=4, calls_per_second=4.0, profile_overrides={}, strategy={})
        session.add(campaign)
        session.flush()
        campaign_id = campaign.id
    zone = zone_at_local_hour(range(9, 20))
    for i in range(accounts):
        # last digit 5: the demo carrier answers busy at once, so channels free up every tick
        make_debtor(sessions, campaign_id, ref=f"t{i}", zones=[zone], numbers=[f"+86138{i:05d}5"])


def placed(sessions: sessionmaker[Session], *, after: datetime | None = None) -> list[datetime]:
    with sessions() as session:
        query = select(Attempt.placed_at).order_by(Attempt.placed_at)
        if after is not None:
            query = query.where(Attempt.placed_at > after)
        return list(session.scalars(query))


async def supervisor(url: str, *args: str) -> datetime:
    """Run one CLI command (in a thread: the daemon shares this event loop); the instant it committed."""
    result = await asyncio.to_thread(CliRunner().invoke, main, ["--db-url", url, "campaign", *args, "tick"],
                                     catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return datetime.now(timezone.utc)


async def wait_for_dials(sessions: sessionmaker[Session], after: datetime, timeout: float = 10.0) -> datetime:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if rows := placed(sessions, after=after):
            return rows[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no dial within {timeout} s of {after}")


async def test_given_a_running_daemon_when_the_supervisor_pauses_resumes_stops_and_starts_then_each_takes_one_tick(
        asterisk: AsteriskInstance, db: tuple[str, sessionmaker[Session]], tmp_path: Path) -> None:
    url, sessions = db
    paused_campaign(sessions, accounts=120)
    clock, authority = SystemClock(), PermitAuthority()
    gate = CallGate(sessions=sessions, profile_for=ProfileBook(load_profiles()).for_campaign, authority=authority,
                    clock=clock, node="tick")
    daemon = Daemon(sessions=sessions, gate=gate, telephony=AriTelephony(settings=asterisk.ari, authority=authority,
                                                                         clock=clock),
                    clock=clock, node="tick", dial_template="Local/{number}@demo-carrier", tick_seconds=TICK,
                    grace_seconds=20, status_file=tmp_path / "status.json")
    delays: dict[str, float] = {}
    async with asyncio.TaskGroup() as tasks:
        running = tasks.create_task(daemon.run())
        try:
            await asyncio.sleep(4 * TICK)
            assert placed(sessions) == []                       # paused: nothing dialled

            for resume_with in ("resume", "start"):
                if resume_with == "start":
                    stopped_at = await supervisor(url, "stop")
                    await asyncio.sleep(3 * TICK)
                    assert placed(sessions, after=stopped_at + timedelta(seconds=TICK) + MARGIN) == []
                resumed_at = await supervisor(url, resume_with)
                first = await wait_for_dials(sessions, resumed_at)
                delays[resume_with] = (first - resumed_at).total_seconds()
                await asyncio.sleep(3 * TICK)
                paused_at = await supervisor(url, "pause")
                await asyncio.sleep(3 * TICK)
                late = placed(sessions, after=paused_at + timedelta(seconds=TICK) + MARGIN)
                assert late == [], f"dialled {len(late)} time(s) more than one tick after pause"
        finally:
            daemon.request_stop()
        summary = await running
    print(f"\nfirst dial after the command: {delays} s (tick {TICK} s)")
    assert all(delay <= TICK + MARGIN.total_seconds() for delay in delays.values()), delays
    with sessions() as session:
        total = session.scalar(select(func.count(Attempt.id)))
    assert summary.placed == total > 0
