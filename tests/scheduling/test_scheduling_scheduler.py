"""The scheduler's jobs live in the dialer's database: a restart finds them, and a run missed
while the daemon was down is kept so it fires (once) on start."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy.orm import Session, sessionmaker

from dialer.config import ConfigError, load_settings
from dialer.db.models import Account
from dialer.scheduling import jobs
from dialer.scheduling.options import SchedulingOptions
from dialer.scheduling.scheduler import HOURS_SYNC, build_scheduler
from tests.scheduling import seed

JOB_IDS = {"strategy.advance_days", "strategy.review_promises", "strategy.refresh_priorities",
           "sms.plan_and_send", "reports.nightly", "retention.daily"}


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)   # no stray ./dialer.yaml
    return load_settings(None, overrides={"database.url": db_url, "data_dir": str(tmp_path)},
                         environ={})


async def test_given_a_started_scheduler_when_a_second_one_is_built_on_the_same_database_then_it_reloads_the_jobs(
        db_url: str, settings) -> None:  # type: ignore[no-untyped-def]
    first = build_scheduler(db_url=db_url, settings=settings)
    first.start(paused=True)
    stored = {job.id: job for job in first.get_jobs(jobstore="default")}
    assert set(stored) == JOB_IDS
    daily = stored["strategy.advance_days"]
    assert str(daily.trigger) == "cron[hour='0', minute='5']"
    assert str(daily.trigger.timezone) == "Asia/Shanghai"   # the cn profile's day zone
    assert (daily.coalesce, daily.max_instances, daily.misfire_grace_time) == (True, 1, 86400)
    # the daemon was down at 00:05: the stored run time is in the past
    missed = datetime.now(timezone.utc) - timedelta(hours=3)
    first.modify_job("strategy.advance_days", next_run_time=missed)
    first.shutdown(wait=False)

    second = build_scheduler(db_url=db_url, settings=settings)
    second.start(paused=True)
    reloaded = {job.id: job for job in second.get_jobs(jobstore="default")}
    second.shutdown(wait=False)
    assert set(reloaded) == JOB_IDS
    assert reloaded["strategy.advance_days"].next_run_time == missed
    assert reloaded["sms.plan_and_send"].kwargs["db_url"] == db_url
    # no secret is pickled into the job store: the SMS job gets no gateway password, no settings
    assert set(reloaded["sms.plan_and_send"].kwargs) == {
        "db_url", "data_dir", "gateway", "webhook_url", "profile_file", "default_profile", "sender"}


async def test_given_a_changed_zone_when_rebuilt_then_the_trigger_is_replaced_not_the_old_time_kept(
        db_url: str, settings) -> None:  # type: ignore[no-untyped-def]
    first = build_scheduler(db_url=db_url, settings=settings)
    first.start(paused=True)
    first.shutdown(wait=False)
    options = SchedulingOptions.from_settings(settings, zone="Europe/London")
    second = build_scheduler(db_url=db_url, settings=settings, options=options)
    second.start(paused=True)
    job = second.get_job("strategy.advance_days")
    second.shutdown(wait=False)
    assert job is not None and str(job.trigger.timezone) == "Europe/London"
    london = job.next_run_time.astimezone(ZoneInfo("Europe/London"))
    assert (london.hour, london.minute) == (0, 5)
    assert timedelta(0) < job.next_run_time - datetime.now(timezone.utc) <= timedelta(days=1)


def test_given_a_bad_zone_when_options_are_built_then_the_setting_is_named(settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="scheduler.zone"):
        SchedulingOptions.from_settings(settings, zone="Mars/Olympus")


def test_given_the_job_entry_points_when_run_against_a_database_then_they_do_their_unit_of_work(
        sessions: sessionmaker[Session], db_url: str, tmp_path: Path) -> None:
    campaign_id = seed.campaign(sessions)
    account_id, _ = seed.account(sessions, campaign_id, ref="1", due=date(2020, 1, 1), dpd=0)
    jobs.advance_days(db_url, zone="UTC")
    jobs.refresh_priorities(db_url, zone="UTC")
    jobs.review_promises(db_url, zone="UTC")
    jobs.nightly_report(db_url, data_dir=str(tmp_path), profile_file="")
    with sessions() as session:
        account = session.get_one(Account, account_id)
    assert account.stage == "final" and account.days_past_due > 2000 and account.priority > 0
    reports = list((tmp_path / "reports").glob("m1-*.json"))
    assert len(reports) == 1 and reports[0].stat().st_mode & 0o777 == 0o600


async def test_given_a_running_scheduler_when_jobs_fall_due_then_they_run_and_report_to_listeners(
        sessions: sessionmaker[Session], db_url: str, settings) -> None:  # type: ignore[no-untyped-def]
    campaign_id = seed.campaign(sessions)
    account_id, _ = seed.account(sessions, campaign_id, ref="1", due=date(2020, 1, 1), dpd=0)
    done: dict[str, asyncio.Event] = {job_id: asyncio.Event() for job_id in JOB_IDS | {HOURS_SYNC}}
    errors: list[BaseException] = []

    def on_event(event: JobExecutionEvent) -> None:
        if event.exception is not None:
            errors.append(event.exception)
        done[event.job_id].set()

    scheduler = build_scheduler(db_url=db_url, settings=settings)
    scheduler.add_listener(on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        now = datetime.now(timezone.utc)
        for job_id in ("strategy.advance_days", "sms.plan_and_send"):
            scheduler.modify_job(job_id, next_run_time=now)
        scheduler.wakeup()
        # the hours sync runs at start too; waited for, so shutdown does not cut it off mid-query
        await asyncio.wait_for(asyncio.gather(done["strategy.advance_days"].wait(),
                                              done["sms.plan_and_send"].wait(), done[HOURS_SYNC].wait()), timeout=30)
    finally:
        scheduler.shutdown(wait=False)
    assert errors == []
    with sessions() as session:
        assert session.get_one(Account, account_id).stage == "final"


def _zone_in_daytime() -> str:
    """An Etc/GMT±N zone whose local hour is 10:00–18:59 now: the text window is open there."""
    hour = datetime.now(timezone.utc).hour
    for offset in range(-12, 15):
        if 10 <= (hour + offset) % 24 <= 18:
            return "Etc/GMT" + (f"{-offset:+d}" if offset else "")   # Etc/GMT-8 is UTC+8
    raise AssertionError("unreachable: some offset puts the hour in the day")


async def test_given_a_configured_sender_when_the_sms_job_runs_then_the_file_gateway_gets_the_text_once(
        sessions: sessionmaker[Session], db_url: str, tmp_path: Path) -> None:
    campaign_id = seed.campaign(sessions)
    zone = _zone_in_daytime()
    today = datetime.now(timezone.utc).date()
    account_id, contact_id = seed.account(sessions, campaign_id, ref="4242", due=today - timedelta(days=2),
                                          dpd=2, stage="reminder", zone=zone)
    seed.completed_call(sessions, campaign_id=campaign_id, account_id=account_id, contact_id=contact_id,
                        at=datetime.now(timezone.utc) - timedelta(minutes=5))
    sender = {"creditor": "示例银行", "pay_how": "示例银行App", "contact_phone": "95500",
              "hours": "00:00-23:59"}
    for _ in range(2):
        await jobs.plan_and_send_sms(db_url, data_dir=str(tmp_path), gateway="file", webhook_url="",
                                     profile_file="", default_profile="cn", sender=sender)
    lines = (tmp_path / "sms-outbox.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and "尾号4242" in lines[0]


async def test_given_the_smpp_gateway_without_its_settings_when_opened_then_the_setting_is_named(
        tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sms.gateway: 'smpp'"):
        async with jobs.open_gateway("smpp", data_dir=tmp_path, webhook_url=""):
            pass
    with pytest.raises(ConfigError, match="sms.webhook_url"):
        async with jobs.open_gateway("webhook", data_dir=tmp_path, webhook_url=""):
            pass
