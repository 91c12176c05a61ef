"""Campaign hours: the daily hours a campaign dials, in the campaign's zone (e.g. 09:00-20:00
Beijing time), applied by scheduled jobs that resume and pause the campaign.

The hours are the supervisor's choice on top of the law: the gate still refuses any call outside
the profile's window in the debtor's own zone, whatever the campaign hours say.

Who paused a campaign matters: a campaign paused by its hours is resumed when they open again;
one a supervisor paused (or stopped) stays so. The audit log says which: state changes made here
are written with actor `HOURS_ACTOR`. Applying is idempotent and looks only at the current time,
so the open and close jobs may run late, twice, or in either order after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.compliance.profiles import CallingWindows
from dialer.db.models import AuditEntry, Campaign
from dialer.domain import CampaignState

HOURS_ACTOR = "scheduler:hours"


class HoursError(ValueError):
    pass


@dataclass(frozen=True)
class CampaignHours:
    start: time
    end: time
    zone: str

    @classmethod
    def parse(cls, text: str, zone: str) -> CampaignHours:
        """`09:00-20:00` in `zone`; the day's hours only (no overnight campaign: every profile
        closes at night)."""
        try:
            start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
        except ValueError:
            raise HoursError(f"{text!r}: use HH:MM-HH:MM, e.g. 09:00-20:00") from None
        if start >= end:
            raise HoursError(f"{text!r}: the start must be before the end (no overnight hours)")
        try:
            ZoneInfo(zone)
        except (KeyError, ValueError):
            raise HoursError(f"{zone!r} is not an IANA zone (e.g. Asia/Shanghai, America/New_York)") from None
        return cls(start, end, zone)

    @classmethod
    def of(cls, campaign: Campaign, fallback_zone: str) -> CampaignHours | None:
        if not (campaign.hours_start and campaign.hours_end):
            return None
        return cls(time.fromisoformat(campaign.hours_start), time.fromisoformat(campaign.hours_end),
                   campaign.hours_zone or fallback_zone)

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(ZoneInfo(self.zone)).time()
        return self.start <= local < self.end

    def open_seconds(self) -> int:
        return (self.end.hour * 60 + self.end.minute - self.start.hour * 60 - self.start.minute) * 60

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.zone}"


def beyond_profile(hours: CampaignHours, windows: CallingWindows, profile: str) -> str | None:
    """A note when the hours reach past every weekday window of the profile: legal, since the gate
    refuses those calls in the debtor's own zone, but the supervisor should know."""
    days = [w for w in windows.weekdays if w is not None]
    if not days:
        return None
    earliest, latest = min(w.start_s for w in days), max(w.end_s for w in days)
    start_s, end_s = hours.start.hour * 3600 + hours.start.minute * 60, hours.end.hour * 3600 + hours.end.minute * 60
    if start_s >= earliest and end_s <= latest:
        return None
    return (f"note: profile {profile} allows calls {_clock(earliest)}-{_clock(latest)} in each debtor's own zone; "
            "the gate refuses any call outside that, whatever the campaign hours")


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def wanted_state(current: CampaignState, *, is_open: bool, paused_by_hours: bool) -> CampaignState:
    """What the hours make of a campaign's state now (pure)."""
    if not is_open and current is CampaignState.RUNNING:
        return CampaignState.PAUSED
    if is_open and current is CampaignState.PAUSED and paused_by_hours:
        return CampaignState.RUNNING
    return current


def apply_hours(session: Session, campaign: Campaign, *, now: datetime, fallback_zone: str) -> CampaignState | None:
    """Resume or pause `campaign` as its hours say at `now`; the new state, or None if unchanged."""
    hours = CampaignHours.of(campaign, fallback_zone)
    if hours is None:
        return None
    target = wanted_state(campaign.state, is_open=hours.is_open(now),
                          paused_by_hours=_paused_by_hours(session, campaign.id))
    if target is campaign.state:
        return None
    session.add(AuditEntry(at=now, actor=HOURS_ACTOR, kind="campaign_state", campaign_id=campaign.id,
                           detail={"from": campaign.state.value, "to": target.value, "hours": str(hours)}))
    campaign.state = target
    return target


def _paused_by_hours(session: Session, campaign_id: int) -> bool:
    # by id, not by `at`: the log is append-only, and its instants come from different clocks
    last = session.scalar(select(AuditEntry.actor)
                          .where(AuditEntry.campaign_id == campaign_id, AuditEntry.kind == "campaign_state")
                          .order_by(AuditEntry.id.desc()).limit(1))
    return last == HOURS_ACTOR
