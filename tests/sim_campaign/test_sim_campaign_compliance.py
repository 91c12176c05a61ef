"""The simulated history obeys the campaign's profile: an independent re-check finds nothing, and
the window and the per-number cap (tightened for the test) are visibly held by the gate."""

from __future__ import annotations

from collections import Counter
from datetime import time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import load_profiles
from dialer.db.models import Attempt, Campaign
from dialer.db.session import make_engine, make_sessionmaker
from dialer.reports.compliance import recheck
from dialer.sim.campaign.service import SimulationResult

BEIJING = ZoneInfo("Asia/Shanghai")


def test_given_three_simulated_days_when_rechecked_independently_then_no_violation(three_days: SimulationResult) -> None:
    engine = make_engine(three_days.scratch_url)
    with make_sessionmaker(engine)() as session:
        campaign = session.scalars(select(Campaign)).one()
        violations = recheck(session, campaign, ProfileBook(load_profiles()).for_campaign(campaign))
    engine.dispose()

    assert three_days.figures.dials > 100
    assert violations == []
    assert three_days.figures.violations == 0


def test_given_a_tightened_window_and_cap_then_no_attempt_outside_them_and_the_gate_held_both(
        three_days: SimulationResult) -> None:
    engine = make_engine(three_days.scratch_url)
    with make_sessionmaker(engine)() as session:
        placed = session.execute(select(Attempt.contact_id, Attempt.placed_at)).all()
    engine.dispose()

    local = [(contact, at.astimezone(BEIJING)) for contact, at in placed]
    assert all(time(9) <= at.time() < time(20) for _, at in local)
    per_number_day = Counter((contact, at.date()) for contact, at in local)
    assert max(per_number_day.values()) == 2
    assert three_days.figures.denials_by_reason.get("outside_window", 0) > 0
    assert three_days.figures.denials_by_reason.get("daily_number_attempt_cap", 0) > 0
