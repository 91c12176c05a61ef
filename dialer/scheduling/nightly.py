"""The nightly report: `dialer report NAME --json` of every running campaign, written to disk."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.compliance.book import ProfileBook
from dialer.db.models import AuditEntry, Campaign
from dialer.db.session import transaction
from dialer.domain import CampaignState
from dialer.reports.kpis import campaign_kpis


def write_reports(sessions: sessionmaker[Session], *, now: datetime, book: ProfileBook,
                  directory: Path) -> list[Path]:
    """One file per running campaign, `<name>-<UTC date>.json`; a rerun the same day overwrites."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    with transaction(sessions) as session:
        campaigns = list(session.scalars(select(Campaign).where(Campaign.state == CampaignState.RUNNING)
                                         .order_by(Campaign.name)))
        for campaign in campaigns:
            kpis = campaign_kpis(session, campaign, book.for_campaign(campaign))
            path = directory / f"{campaign.name}-{now.date().isoformat()}.json"
            path.write_text(json.dumps(kpis, ensure_ascii=False, indent=2, default=_json) + "\n",
                            encoding="utf-8")
            # figures derived from personal data: owner-only, and audited like `dialer report --html`
            path.chmod(0o600)
            session.add(AuditEntry(at=now, actor="scheduler", kind="export", campaign_id=campaign.id,
                                   detail={"report": "kpis", "file": str(path)}))
            written.append(path)
    return written


def _json(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
