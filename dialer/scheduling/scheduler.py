"""The daemon's scheduler: APScheduler 3's asyncio scheduler with its jobs stored in the dialer's
own database, so they survive restarts.

Jobs have stable ids and are re-added with `replace_existing=True` at every start, so their
arguments follow the current settings; the stored next run time is kept when the trigger did not
change, so a run missed while the daemon was down fires once (coalesced) on start, within the
job's misfire grace. Job functions live in `dialer.scheduling.jobs` (importable by reference).

APScheduler 3 does not coordinate several schedulers on one job store: when several dialer
processes share a PostgreSQL, either enable the scheduler in one of them, or rely on every job
being idempotent (they are: recomputed values, outbox rows unique per account and trigger).
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from dialer.clock import Clock, SystemClock
from dialer.config import Settings
from dialer.db.models import Campaign
from dialer.db.session import make_engine, make_sessionmaker, transaction
from dialer.scheduling import jobs
from dialer.scheduling.campaign_hours import CampaignHours, apply_hours
from dialer.scheduling.options import SchedulingOptions

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
HOURS_SYNC = "campaign.hours.sync"


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[..., Any]
    trigger: CronTrigger
    kwargs: dict[str, Any]
    misfire_grace_s: int


def job_specs(db_url: str, options: SchedulingOptions) -> list[JobSpec]:
    zone = ZoneInfo(options.zone)
    at = {"db_url": db_url, "zone": options.zone}
    return [
        # 00:05 local: after every debtor of the zone has turned the day. Idempotent, so a run
        # missed during downtime is worth doing whenever the daemon comes back the same day.
        JobSpec("strategy.advance_days", jobs.advance_days,
                CronTrigger(hour=0, minute=5, timezone=zone), at, 24 * 3600),
        # :10, after the daily advance on its hour; a broken promise re-enters within the hour
        JobSpec("strategy.review_promises", jobs.review_promises,
                CronTrigger(minute=10, timezone=zone), at, 3600),
        JobSpec("strategy.refresh_priorities", jobs.refresh_priorities,
                CronTrigger(minute="*/15", timezone=zone), at, 15 * 60),
        JobSpec("sms.plan_and_send", jobs.plan_and_send_sms,
                CronTrigger(minute="*", timezone=zone),
                {"db_url": db_url, "data_dir": options.data_dir, "gateway": options.sms_gateway,
                 "webhook_url": options.sms_webhook_url, "profile_file": options.profile_file,
                 "default_profile": options.default_profile, "sender": options.sender()}, 60),
        JobSpec("reports.nightly", jobs.nightly_report,
                CronTrigger(hour=0, minute=30, timezone=zone),
                {"db_url": db_url, "data_dir": options.data_dir,
                 "profile_file": options.profile_file}, 12 * 3600),
        # 02:15, after the nightly report used yesterday's rows; a missed run waits for the next day
        # (a day later is still within any profile's period, as retention is counted in days).
        JobSpec("retention.daily", jobs.retention_daily,
                CronTrigger(hour=2, minute=15, timezone=zone),
                {"db_url": db_url, "profile_file": options.profile_file,
                 "default_profile": options.default_profile, "recordings_dir": options.recordings_dir}, 12 * 3600),
    ]


def hours_job_specs(session: Session, db_url: str, zone: str) -> list[JobSpec]:
    """Two jobs per campaign with hours: resume at the opening time, pause at the closing time,
    in the campaign's zone. Each may fire late while its own state lasts (the grace), and applies
    the hours as they are when it runs."""
    specs = []
    for campaign in session.scalars(select(Campaign).where(Campaign.hours_start.is_not(None))
                                    .order_by(Campaign.id)):
        hours = CampaignHours.of(campaign, zone)
        if hours is None:
            continue
        tz, kwargs = ZoneInfo(hours.zone), {"db_url": db_url, "campaign_id": campaign.id, "zone": zone}
        open_s = hours.open_seconds()
        specs += [JobSpec(f"campaign.{campaign.id}.hours.open", jobs.campaign_hours,
                          CronTrigger(hour=hours.start.hour, minute=hours.start.minute, timezone=tz), kwargs, open_s),
                  JobSpec(f"campaign.{campaign.id}.hours.close", jobs.campaign_hours,
                          CronTrigger(hour=hours.end.hour, minute=hours.end.minute, timezone=tz), kwargs,
                          24 * 3600 - open_s)]
    return specs


class CampaignHoursSync:
    """Keeps the stored per-campaign hours jobs in step with the campaigns table.

    `dialer campaign hours` writes the table, from another process: the daemon's scheduler learns
    of it here, within a minute. A job whose trigger is unchanged is left alone, so its stored next
    run time (maybe missed while the daemon was down) is kept. The first run, at start, applies
    every campaign's hours at once; later runs apply those of campaigns whose hours changed.
    """

    PREFIX = "campaign."

    def __init__(self, *, scheduler: BaseScheduler, db_url: str, zone: str, clock: Clock) -> None:
        self._scheduler = scheduler
        self._db_url = db_url
        self._zone = zone
        self._clock = clock
        self._started = False

    def __call__(self) -> None:
        engine = make_engine(self._db_url)
        try:
            sessions = make_sessionmaker(engine)
            with sessions() as session:
                wanted = {spec.id: spec for spec in hours_job_specs(session, self._db_url, self._zone)}
            present = {job.id: job for job in self._scheduler.get_jobs(jobstore="default")
                       if job.id.startswith(self.PREFIX)}
            changed: set[int] = set()
            for job_id, spec in wanted.items():
                job = present.get(job_id)
                if job is None or repr(job.trigger) != repr(spec.trigger) or job.kwargs != spec.kwargs:
                    _add(self._scheduler, spec)
                    changed.add(spec.kwargs["campaign_id"])
            for job_id in present.keys() - wanted.keys():
                self._scheduler.remove_job(job_id, jobstore="default")
            with transaction(sessions) as session:
                query = select(Campaign).where(Campaign.hours_start.is_not(None))
                if self._started:
                    query = query.where(Campaign.id.in_(changed))
                for campaign in session.scalars(query):
                    state = apply_hours(session, campaign, now=self._clock.now(), fallback_zone=self._zone)
                    if state is not None:
                        log.info("campaign hours: %s is now %s", campaign.name, state.value)
            self._started = True
        finally:
            engine.dispose()


def build_scheduler(*, db_url: str, settings: Settings, options: SchedulingOptions | None = None,
                    clock: Clock | None = None) -> AsyncIOScheduler:
    """A scheduler with every job added (not started): the caller owns `start()` and
    `shutdown(wait=False)`, inside its running event loop."""
    options = options or SchedulingOptions.from_settings(settings)
    if options.sender() is None:
        log.warning("SMS planning is off: set sms.creditor, sms.pay_how and sms.contact_phone; "
                    "queued texts are still sent")
    stored = stored_next_runs(db_url)
    scheduler = AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=make_engine(db_url), tablename=JOBS_TABLE)},
        timezone=ZoneInfo(options.zone),
        job_defaults={"coalesce": True, "max_instances": 1})
    for spec in job_specs(db_url, options):
        extra: dict[str, Any] = {}
        previous = stored.get(spec.id)
        if previous is not None and previous[0] == repr(spec.trigger):
            extra["next_run_time"] = previous[1]
        _add(scheduler, spec, **extra)
    # Not stored: it holds the scheduler itself, and is rebuilt at every start anyway.
    scheduler.add_jobstore(MemoryJobStore(), alias="memory")
    sync = CampaignHoursSync(scheduler=scheduler, db_url=db_url, zone=options.zone, clock=clock or SystemClock())
    scheduler.add_job(sync, trigger=CronTrigger(minute="*", timezone=ZoneInfo(options.zone)), id=HOURS_SYNC,
                      name=HOURS_SYNC, jobstore="memory", next_run_time=datetime.now(timezone.utc),
                      coalesce=True, max_instances=1, misfire_grace_time=60)
    return scheduler


def _add(scheduler: BaseScheduler, spec: JobSpec, **extra: Any) -> None:
    scheduler.add_job(spec.func, trigger=spec.trigger, id=spec.id, name=spec.id, jobstore="default",
                      kwargs=spec.kwargs, replace_existing=True, coalesce=True,
                      max_instances=1, misfire_grace_time=spec.misfire_grace_s, **extra)


def upcoming_jobs(session: Session) -> list[dict[str, Any]]:
    """The stored jobs and their next run (UTC), soonest first, read straight from the job table:
    what `dialer top` shows from any shell, without unpickling anything. Empty before the daemon's
    scheduler first started."""
    if not inspect(session.connection()).has_table(JOBS_TABLE):
        return []
    rows = session.execute(text(f"SELECT id, next_run_time FROM {JOBS_TABLE} ORDER BY next_run_time, id"))
    return [{"job": job_id, "next_run": None if at is None else datetime.fromtimestamp(at, timezone.utc)}
            for job_id, at in rows]


def stored_next_runs(db_url: str) -> dict[str, tuple[str, datetime | None]]:
    """Each stored job's trigger (as repr) and next run time, read before the jobs are replaced.

    A row that no longer unpickles (a job function renamed between versions) is ignored: it is
    replaced by the current definition.
    """
    engine = make_engine(db_url)
    try:
        if not inspect(engine).has_table(JOBS_TABLE):
            return {}
        store = SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)
        found: dict[str, tuple[str, datetime | None]] = {}
        with engine.connect() as conn:
            for job_id, state in conn.execute(select(store.jobs_t.c.id, store.jobs_t.c.job_state)):
                try:
                    job = pickle.loads(state)
                    found[job_id] = (repr(job["trigger"]), job.get("next_run_time"))
                except Exception as error:  # any unpickling failure: the row is simply replaced
                    log.warning("stored job %s unreadable (%s); replacing it", job_id, error)
        return found
    finally:
        engine.dispose()
