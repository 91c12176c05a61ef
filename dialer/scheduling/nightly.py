"""The nightly report: yesterday's `dialer report NAME` of every active campaign, as the three
files a supervisor or a back office picks up in the morning (JSON, CSV, HTML), owner-only."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from dialer.compliance.book import ProfileBook
from dialer.db.models import Attempt, AuditEntry, Campaign
from dialer.db.session import transaction
from dialer.domain import CampaignState
from dialer.reports.files import csv_text, write_private
from dialer.reports.html import render
from dialer.reports.kpis import campaign_kpis

ACTOR = "scheduler"


def write_reports(sessions: sessionmaker[Session], *, now: datetime, book: ProfileBook,
                  directory: Path) -> list[Path]:
    """For each campaign running or paused now, or that dialled yesterday: `<name>-<day>.json`,
    `.csv` and `.html` for the previous calendar day in its profile's day zone (cn: Beijing
    time). A rerun the same night rewrites the same files with the same figures."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with transaction(sessions) as session:
        for campaign in _reported_campaigns(session, since=now - timedelta(days=2)):
            profile = book.for_campaign(campaign)
            day, start, end = previous_day(now, profile.abandonment.day_zone)
            kpis = campaign_kpis(session, campaign, profile, now=now, start=start, end=end)
            stem = directory / f"{campaign.name}-{day.isoformat()}"
            files = [write_private(stem.with_suffix(".json"),
                                   json.dumps(kpis, ensure_ascii=False, indent=2, default=_json) + "\n"),
                     write_private(stem.with_suffix(".csv"), csv_text(kpis)),
                     write_private(stem.with_suffix(".html"), render(kpis))]
            # figures derived from personal data: audited like `dialer report --html`
            session.add(AuditEntry(at=now, actor=ACTOR, kind="export", campaign_id=campaign.id,
                                   reason="kpis.nightly",
                                   detail={"report": "kpis", "day": day.isoformat(), "what": "kpis.nightly",
                                           "rows": int(kpis["calls_placed"] or 0), "where": str(directory),
                                           "files": [str(f) for f in files]}))
            written += files
    return written


def previous_day(now: datetime, zone: str) -> tuple[date, datetime, datetime]:
    """Yesterday in `zone` and its [start, end) as aware instants (23 or 25 h across DST)."""
    tz = ZoneInfo(zone)
    day = now.astimezone(tz).date() - timedelta(days=1)
    # in UTC: arithmetic on two datetimes sharing one ZoneInfo ignores the DST change between them
    return day, *(datetime.combine(d, time(0), tz).astimezone(timezone.utc)
                  for d in (day, day + timedelta(days=1)))  # type: ignore[return-value]


def _reported_campaigns(session: Session, *, since: datetime) -> list[Campaign]:
    # A campaign paused at 20:00 by its hours is still one the supervisor wants a report of.
    dialled = select(Attempt.campaign_id).where(Attempt.placed_at >= since)
    return list(session.scalars(select(Campaign).where(or_(
        Campaign.state.in_([CampaignState.RUNNING, CampaignState.PAUSED]), Campaign.id.in_(dialled)))
        .order_by(Campaign.name)))


def _json(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
