"""A generated campaign in a real database, and simulation runs of it shared by the tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import update

from dialer.clock import FixedClock
from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import load_profiles
from dialer.db.models import Campaign
from dialer.db.session import make_engine, make_sessionmaker, transaction
from dialer.sim.campaign.service import SimulationRequest, SimulationResult, simulate_campaign
from dialer.sim.campaign.simulation import Order
from dialer.sim.campaign.synthetic import SyntheticBook, create_synthetic_campaign

# The real "now" of every test run: the simulated days are the ones before it (scratch.py).
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)          # 11:00 in Beijing
TODAY = date(2026, 11, 23)
# Tighter than cn (08:00-22:00, 6 calls a number a day) so the gate has to hold the line.
TIGHT = {"window": {"weekdays": {d: ["09:00", "20:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}},
         "caps": {"attempts_per_number_day": 2}}

Simulate = Callable[..., SimulationResult]


def source_campaign(url: str, *, accounts: int = 30, migrate_first: bool = True,
                    overrides: dict[str, object] | None = None) -> None:
    create_synthetic_campaign(url, "m1", today=TODAY, book=SyntheticBook(accounts=accounts, channels=1),
                              migrate_first=migrate_first)
    if overrides:
        engine = make_engine(url)
        with transaction(make_sessionmaker(engine)) as session:
            session.execute(update(Campaign).where(Campaign.name == "m1").values(profile_overrides=overrides))
        engine.dispose()


def run(source_url: str, out: Path, *, days: int = 2, seed: int = 1, order: Order = Order.PRIORITY,
        channels: int = 1) -> SimulationResult:
    return simulate_campaign(SimulationRequest(source_url=source_url, campaign="m1", out=out, days=days, seed=seed,
                                               order=order, channels=channels),
                             book=ProfileBook(load_profiles()), clock=FixedClock(NOW))


@pytest.fixture(scope="module")
def three_days(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    """One 3-day run of a tightened campaign, read by several tests."""
    root = tmp_path_factory.mktemp("three-days")
    source = f"sqlite:///{root / 'source.sqlite3'}"
    source_campaign(source, accounts=40, overrides=TIGHT)
    return run(source, root / "sim.sqlite3", days=3)
