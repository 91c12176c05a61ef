"""Campaign hours: jobs stored in the database resume and pause a campaign at its daily hours in
its own zone; a supervisor's pause is never undone by them."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from dialer.campaigns import change_state
from dialer.clock import FixedClock
from dialer.config import load_settings
from dialer.db.models import Campaign
from dialer.db.session import transaction
from dialer.domain import CampaignState
from dialer.scheduling.campaign_hours import HOURS_ACTOR, CampaignHours, HoursError, apply_hours, wanted_state
from dialer.scheduling.scheduler import HOURS_SYNC, build_scheduler, hours_job_specs
from tests.scheduling import seed

SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(timezone.utc)


def with_hours(sessions: sessionmaker[Session], start: str = "09:00", end: str = "20:00",
               zone: str = "Asia/Shanghai") -> int:
    campaign_id = seed.campaign(sessions)
    with transaction(sessions) as session:
        row = session.get_one(Campaign, campaign_id)
        row.hours_start, row.hours_end, row.hours_zone = start, end, zone
    return campaign_id


def state_at(sessions: sessionmaker[Session], campaign_id: int, now: datetime) -> str:
    with transaction(sessions) as session:
        row = session.get_one(Campaign, campaign_id)
        apply_hours(session, row, now=now, fallback_zone="UTC")
        return row.state.value


@pytest.mark.parametrize("current, is_open, by_hours, expected", [
    (CampaignState.RUNNING, False, False, CampaignState.PAUSED),
    (CampaignState.PAUSED, True, True, CampaignState.RUNNING),
    (CampaignState.PAUSED, True, False, CampaignState.PAUSED),     # the supervisor's pause holds
    (CampaignState.STOPPED, True, True, CampaignState.STOPPED),
    (CampaignState.DRAFT, True, False, CampaignState.DRAFT),
    (CampaignState.RUNNING, True, False, CampaignState.RUNNING),
])
def test_given_a_state_and_the_hours_then_the_wanted_state_follows_the_table(
        current: CampaignState, is_open: bool, by_hours: bool, expected: CampaignState) -> None:
    assert wanted_state(current, is_open=is_open, paused_by_hours=by_hours) is expected


@pytest.mark.parametrize("hours, zone, message", [
    ("9-20", "Asia/Shanghai", "use HH:MM-HH:MM"),
    ("20:00-09:00", "Asia/Shanghai", "no overnight"),
    ("09:00-20:00", "Mars/Base", "not an IANA zone"),
])
def test_given_bad_hours_then_the_error_says_what_to_write(hours: str, zone: str, message: str) -> None:
    with pytest.raises(HoursError, match=message):
        CampaignHours.parse(hours, zone)


def test_given_hours_in_beijing_on_a_simulated_day_then_the_campaign_opens_and_closes_on_time(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = with_hours(sessions)
    clock = FixedClock(beijing(16, 7, 30))
    timeline = []
    for day, hour, minute in ((16, 7, 30), (16, 8, 59), (16, 9, 0), (16, 12, 0), (16, 19, 59), (16, 20, 0),
                              (17, 0, 0), (17, 9, 0)):
        clock.set(beijing(day, hour, minute))
        timeline.append((clock.now().astimezone(SHANGHAI).strftime("%d %H:%M"),
                         state_at(sessions, campaign_id, clock.now())))
    assert timeline == [
        ("16 07:30", "paused"),    # started before its hours: paused by them
        ("16 08:59", "paused"),
        ("16 09:00", "running"),   # resumed at the opening
        ("16 12:00", "running"),
        ("16 19:59", "running"),
        ("16 20:00", "paused"),    # the end is exclusive
        ("17 00:00", "paused"),
        ("17 09:00", "running"),   # and the next day again
    ]


def test_given_a_supervisor_pause_when_the_hours_open_then_the_campaign_stays_paused(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = with_hours(sessions)
    assert state_at(sessions, campaign_id, beijing(16, 21)) == "paused"     # by the hours
    with transaction(sessions) as session:
        change_state(session, "m1", CampaignState.RUNNING, actor="cli")
        change_state(session, "m1", CampaignState.PAUSED, actor="cli")    # by the supervisor
    assert state_at(sessions, campaign_id, beijing(17, 9)) == "paused"
    with transaction(sessions) as session:
        change_state(session, "m1", CampaignState.RUNNING, actor="cli")
    assert state_at(sessions, campaign_id, beijing(17, 20)) == "paused"
    assert state_at(sessions, campaign_id, beijing(18, 9)) == "running"   # paused by hours: resumed


def test_given_hours_in_new_york_then_the_opening_follows_the_wall_clock_across_dst(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = with_hours(sessions, zone="America/New_York")
    # 09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer
    assert state_at(sessions, campaign_id, datetime(2026, 3, 6, 13, 30, tzinfo=timezone.utc)) == "paused"
    assert state_at(sessions, campaign_id, datetime(2026, 3, 9, 13, 30, tzinfo=timezone.utc)) == "running"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    return load_settings(None, overrides={"database.url": db_url, "data_dir": str(tmp_path)}, environ={})


async def test_given_campaign_hours_when_the_scheduler_syncs_then_two_stored_jobs_follow_them_and_survive_a_restart(
        sessions: sessionmaker[Session], db_url: str, settings) -> None:  # type: ignore[no-untyped-def]
    campaign_id = with_hours(sessions)
    clock = FixedClock(beijing(16, 21))
    first = build_scheduler(db_url=db_url, settings=settings, clock=clock)
    first.start(paused=True)
    first.get_job(HOURS_SYNC).func()      # what the scheduler runs at start and every minute
    jobs = {job.id: job for job in first.get_jobs(jobstore="default") if job.id.startswith("campaign.")}
    assert set(jobs) == {f"campaign.{campaign_id}.hours.open", f"campaign.{campaign_id}.hours.close"}
    opening, closing = jobs[f"campaign.{campaign_id}.hours.open"], jobs[f"campaign.{campaign_id}.hours.close"]
    assert (str(opening.trigger), str(opening.trigger.timezone)) == ("cron[hour='9', minute='0']", "Asia/Shanghai")
    assert str(closing.trigger) == "cron[hour='20', minute='0']"
    # on a simulated clock: at 21:00 the next opening is 09:00 tomorrow, the next closing 20:00
    assert opening.trigger.get_next_fire_time(None, beijing(16, 21)) == beijing(17, 9)
    assert closing.trigger.get_next_fire_time(None, beijing(17, 9)) == beijing(17, 20)
    # may fire late while its own state lasts: the 11 open hours, the 13 closed ones
    assert (opening.misfire_grace_time, closing.misfire_grace_time) == (11 * 3600, 13 * 3600)
    with sessions() as session:   # the first sync applied the hours at once (21:00: closed)
        assert session.get_one(Campaign, campaign_id).state is CampaignState.PAUSED
    first.shutdown(wait=False)
    with sessions() as session:
        stored = set(session.scalars(text("SELECT id FROM apscheduler_jobs WHERE id LIKE 'campaign.%'")))
    assert stored == set(jobs)

    # the supervisor moves the hours (another process writes the table); the next sync follows
    with transaction(sessions) as session:
        session.get_one(Campaign, campaign_id).hours_start = "08:30"
    second = build_scheduler(db_url=db_url, settings=settings, clock=clock)
    second.start(paused=True)
    assert second.get_job(f"campaign.{campaign_id}.hours.close") is not None    # reloaded from the store
    second.get_job(HOURS_SYNC).func()
    assert str(second.get_job(f"campaign.{campaign_id}.hours.open").trigger) == "cron[hour='8', minute='30']"
    with transaction(sessions) as session:   # hours cleared: the jobs go
        row = session.get_one(Campaign, campaign_id)
        row.hours_start = row.hours_end = None
    second.get_job(HOURS_SYNC).func()
    remaining = [job.id for job in second.get_jobs(jobstore="default") if job.id.startswith("campaign.")]
    second.shutdown(wait=False)
    assert remaining == []


def _zone_where_it_is(hours: range) -> str:
    """An Etc/GMT±N zone whose local hour now is in `hours`."""
    hour = datetime.now(timezone.utc).hour
    for offset in range(-12, 15):
        if (hour + offset) % 24 in hours:
            return "Etc/GMT" + (f"{-offset:+d}" if offset else "")   # Etc/GMT-8 is UTC+8
    raise AssertionError("unreachable")


async def test_given_a_campaign_paused_by_its_hours_when_the_opening_job_fires_then_it_runs_again(
        sessions: sessionmaker[Session], db_url: str, settings) -> None:  # type: ignore[no-untyped-def]
    zone = _zone_where_it_is(range(10, 19))          # 09:00-20:00 is open there right now
    campaign_id = with_hours(sessions, zone=zone)
    assert state_at(sessions, campaign_id, datetime.now(timezone.utc) + timedelta(hours=12)) == "paused"
    done = asyncio.Event()
    errors: list[BaseException] = []

    def on_event(event: JobExecutionEvent) -> None:
        if event.job_id == f"campaign.{campaign_id}.hours.open":
            errors.extend([event.exception] if event.exception else [])
            done.set()

    scheduler = build_scheduler(db_url=db_url, settings=settings)
    scheduler.add_listener(on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start(paused=True)
    scheduler.get_job(HOURS_SYNC).func()
    scheduler.remove_job(HOURS_SYNC)       # only the stored job acts in this test
    # the daemon was down at the opening: the stored run is in the past, within its grace
    scheduler.modify_job(f"campaign.{campaign_id}.hours.open", next_run_time=datetime.now(timezone.utc)
                         - timedelta(minutes=30))
    scheduler.resume()
    try:
        await asyncio.wait_for(done.wait(), timeout=30)
    finally:
        scheduler.shutdown(wait=False)
    assert errors == []
    with sessions() as session:
        assert session.get_one(Campaign, campaign_id).state is CampaignState.RUNNING
        actors = list(session.scalars(text("SELECT actor FROM audit_log WHERE kind = 'campaign_state' ORDER BY id")))
    assert actors == [HOURS_ACTOR, HOURS_ACTOR]


def test_given_hours_in_new_york_when_the_clocks_change_then_the_opening_job_stays_at_9_local(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = with_hours(sessions, zone="America/New_York")
    with sessions() as session:
        specs = {spec.id: spec for spec in hours_job_specs(session, "sqlite://", "UTC")}
    trigger = specs[f"campaign.{campaign_id}.hours.open"].trigger
    def next_opening(after: datetime) -> datetime:
        return trigger.get_next_fire_time(None, after).astimezone(timezone.utc)

    # 09:00 New York is 14:00 UTC on Saturday 7 March (EST) and 13:00 UTC on Sunday 8 (EDT)
    assert next_opening(datetime(2026, 3, 7, 12, tzinfo=timezone.utc)) == datetime(2026, 3, 7, 14, tzinfo=timezone.utc)
    assert next_opening(datetime(2026, 3, 7, 15, tzinfo=timezone.utc)) == datetime(2026, 3, 8, 13, tzinfo=timezone.utc)
