"""The campaign's abandonment budget, measured from its attempt history the regulator's way.

Looked up by the gate for every dial, so it is cached for a few seconds per campaign: the window is
30 days wide and a few seconds of staleness move the rate by at most a few calls, which the
pacer's own target (well under the ceiling) absorbs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.compliance.abandonment import AnsweredCall, budget_restored_at, classify
from dialer.compliance.profiles import PolicyProfile
from dialer.db.models import Attempt, Campaign
from dialer.domain import Outcome, Route

WINDOW_LOOKBACK = timedelta(days=31)


def answered_calls(session: Session, campaign_id: int, since: datetime) -> list[AnsweredCall]:
    rows = session.execute(
        select(Attempt.answered_at, Attempt.ended_at, Attempt.placed_at, Attempt.outcome, Attempt.route,
               Attempt.abandoned)
        .where(Attempt.campaign_id == campaign_id, Attempt.placed_at >= since, Attempt.outcome.is_not(None))
    ).all()
    calls = []
    for answered_at, ended_at, placed_at, outcome, route, abandoned in rows:
        outcome = Outcome.ABANDONED if abandoned else outcome
        calls.append(AnsweredCall(answered_at or ended_at or placed_at, classify(outcome, route or Route.NONE)))
    return calls


class AbandonmentBudget:
    def __init__(self, *, sessions: sessionmaker[Session], profile_for, refresh_s: float = 5.0) -> None:  # type: ignore[no-untyped-def]
        self._sessions = sessions
        self._profile_for = profile_for
        self._refresh = timedelta(seconds=refresh_s)
        self._cache: dict[int, tuple[datetime, datetime | None]] = {}

    def __call__(self, campaign_id: int, now: datetime) -> datetime | None:
        cached = self._cache.get(campaign_id)
        if cached is not None and now - cached[0] < self._refresh:
            return cached[1]
        with self._sessions() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                return None
            profile: PolicyProfile = self._profile_for(campaign)
            calls = answered_calls(session, campaign_id, now - WINDOW_LOOKBACK)
        restored = budget_restored_at(calls, profile, now)
        self._cache[campaign_id] = (now, restored)
        return restored
