"""The scheduler's job entry points: importable module-level callables (APScheduler 3 stores a
job as a reference to its function plus pickled arguments), taking only plain values.

Each opens its own engine on `db_url`, reads the instant once, runs one unit of work from
`dialer.scheduling.*` (which take `now` explicitly, so tests pass a fixed one) and disposes the
engine. Every job is idempotent: two dialer processes sharing a PostgreSQL may both run it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from datetime import time
from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import SystemClock
from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import PolicyProfile, load_profiles
from dialer.compliance.windows import ContactHours
from dialer.config import ConfigError
from dialer.db.models import Campaign
from dialer.db.session import make_engine, make_sessionmaker, transaction
from dialer.scheduling.campaign_hours import apply_hours
from dialer.scheduling.daily import advance_accounts
from dialer.scheduling.nightly import write_reports
from dialer.scheduling.options import sender_from
from dialer.scheduling.priorities import refresh_account_priorities
from dialer.scheduling.promises import review_open_promises
from dialer.scheduling.texts import plan_texts
from dialer.sms.gateway import FileGateway, Gateway
from dialer.sms.outbox import DispatchResult, send_due
from dialer.sms.webhook import HttpWebhookGateway
from dialer.sms.window import ProfileSendingWindow, SendingWindow, TextWindow

log = logging.getLogger(__name__)

SMS_LOG = "sms-outbox.log"
REPORTS_DIR = "reports"


@contextmanager
def _database(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


def advance_days(db_url: str, *, zone: str) -> None:
    """Daily: days past due in each debtor's calendar, then stage moves (audited)."""
    with _database(db_url) as sessions:
        result = advance_accounts(sessions, now=SystemClock().now(), fallback_zone=zone)
    log.info("daily advance: %d account(s), %d dpd change(s), moves %s", result.accounts,
             result.dpd_changed, result.moves)


def review_promises(db_url: str, *, zone: str) -> None:
    """Hourly: promises kept by payments, or broken and the account re-entered."""
    with _database(db_url) as sessions:
        result = review_open_promises(sessions, now=SystemClock().now(), fallback_zone=zone)
    log.info("promise review: %d open, %d kept, %d broken", result.reviewed, result.kept,
             result.broken)


def refresh_priorities(db_url: str, *, zone: str) -> None:
    """Every 15 minutes: `Account.priority` for the hopper's best-first order."""
    with _database(db_url) as sessions:
        result = refresh_account_priorities(sessions, now=SystemClock().now(), fallback_zone=zone)
    log.info("priorities: %d account(s) in %d campaign(s)", result.accounts, result.campaigns)


async def plan_and_send_sms(db_url: str, *, data_dir: str, gateway: str, webhook_url: str,
                            profile_file: str, default_profile: str,
                            sender: dict[str, str] | None) -> None:
    """Every minute: queue the texts stages call for, then send the due ones."""
    profiles = load_profiles(profile_file or None)
    who = sender_from(sender) if sender is not None else None
    with _database(db_url) as sessions:
        clock = SystemClock()
        if who is not None:
            planned = await asyncio.to_thread(plan_texts, sessions, now=clock.now(), sender=who,
                                              book=ProfileBook(profiles))
            if planned.queued:
                log.info("SMS: %d text(s) queued", planned.queued)
        window = send_window(profiles, default_profile, who.hours if who else None)
        async with open_gateway(gateway, data_dir=Path(data_dir), webhook_url=webhook_url) as sms:
            result = await send_due(sessions, sms, clock=clock, window_for=window)
    _log_dispatch(result)


def nightly_report(db_url: str, *, data_dir: str, profile_file: str) -> None:
    """Nightly: `dialer report NAME --json` of every running campaign into <data_dir>/reports/."""
    book = ProfileBook(load_profiles(profile_file or None))
    with _database(db_url) as sessions:
        paths = write_reports(sessions, now=SystemClock().now(), book=book,
                              directory=Path(data_dir) / REPORTS_DIR)
    log.info("nightly report: %d file(s) written", len(paths))


def retention_daily(db_url: str, *, profile_file: str, default_profile: str, recordings_dir: str) -> None:
    """Daily: recordings and personal data past the profiles' retention periods (dialer.retention)."""
    from dialer.retention import run_retention   # the job runs once a day: import on use

    profiles = load_profiles(profile_file or None)
    book = ProfileBook(profiles)
    with _database(db_url) as sessions:
        report = run_retention(sessions, now=SystemClock().now(), profile_for=book.for_campaign,
                               default_profile=profiles[default_profile], recordings_dir=Path(recordings_dir),
                               actor="scheduler")
    log.info("retention: %d recording(s) deleted, %d debtor(s) erased", report.recordings_deleted,
             report.debtors_erased)


@asynccontextmanager
async def open_gateway(name: str, *, data_dir: Path, webhook_url: str) -> AsyncIterator[Gateway]:
    if name == "file":
        yield FileGateway(data_dir / SMS_LOG)
    elif name == "webhook":
        if not webhook_url:
            raise ConfigError("sms.webhook_url: not set; the webhook SMS gateway needs it")
        async with httpx.AsyncClient() as client:
            yield HttpWebhookGateway(url=webhook_url, client=client)
    else:
        # SmppGateway exists (dialer/sms/smpp.py) but its host, system id and password are not
        # declared settings yet: refuse loudly rather than drop texts.
        raise ConfigError(f"sms.gateway: {name!r} cannot be built from the settings yet "
                          "(declare sms.smpp.* settings); use file or webhook")


def send_window(profiles: Mapping[str, PolicyProfile], default_profile: str,
                hours: tuple[time, time] | None) -> Callable[[tuple[str, ...]], TextWindow]:
    """`send_due` knows only the contact's zones: the default profile's window bounds every text
    at send time (planning already used each campaign's own profile)."""
    profile = profiles[default_profile]

    def window(zones: tuple[str, ...]) -> TextWindow:
        campaign = SendingWindow(hours[0], hours[1], zones) if hours else None
        return ProfileSendingWindow(profile.windows, ContactHours(zones=zones), campaign=campaign)

    return window


def _log_dispatch(result: DispatchResult) -> None:
    if result.sent or result.failed or result.suppressed:
        log.info("SMS: %d sent, %d failed, %d deferred, %d suppressed", result.sent, result.failed,
                 result.deferred, result.suppressed)


def campaign_hours(db_url: str, *, campaign_id: int, zone: str) -> None:
    """At a campaign's opening and closing time: resume or pause it as its hours say now."""
    with _database(db_url) as sessions, transaction(sessions) as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            return   # deleted since the job was stored; the next sync removes the job
        changed = apply_hours(session, campaign, now=SystemClock().now(), fallback_zone=zone)
    if changed is not None:
        log.info("campaign hours: %s is now %s", campaign.name, changed.value)
