"""`simulate_campaign`: copy, run, measure. The one use case behind `dialer simulate campaign` and
the lift study."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from dialer.clock import Clock, SystemClock, ensure_utc
from dialer.compliance.book import ProfileBook
from dialer.db.models import Account, Campaign
from dialer.db.session import make_engine, make_sessionmaker
from dialer.sim.campaign.behaviour import BehaviourModel, Population
from dialer.sim.campaign.results import CampaignFigures, campaign_figures, outstanding_total
from dialer.sim.campaign.scratch import copy_campaign
from dialer.sim.campaign.simulation import CampaignSimulation, Order


@dataclass(frozen=True)
class SimulationRequest:
    source_url: str
    campaign: str
    out: Path
    days: int = 5
    seed: int = 1
    order: Order = Order.PRIORITY
    channels: int | None = None          # None: the campaign's channel limit
    model: BehaviourModel = field(default_factory=BehaviourModel)


@dataclass(frozen=True)
class SimulationResult:
    campaign: str
    scratch_url: str
    seed: int
    order: Order
    days: int
    channels: int
    zone: str
    start: datetime
    end: datetime
    accounts: int
    currency: str
    figures: CampaignFigures
    per_day: list[dict[str, object]]

    def as_dict(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "db_url": self.scratch_url, "seed": self.seed, "order": self.order.value,
                "days": self.days, "channels": self.channels, "zone": self.zone, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "accounts": self.accounts, "currency": self.currency, **self.figures.as_dict(),
                "per_day": self.per_day}


def simulate_campaign(request: SimulationRequest, *, book: ProfileBook, clock: Clock | None = None,
                      progress: Callable[[dict[str, object]], None] | None = None) -> SimulationResult:
    if request.days < 1:
        raise ValueError(f"--days must be at least 1, got {request.days}")
    # The copy's calendar is shifted back by the simulated days (scratch.py): the run covers the
    # N days that end at the start of the real today, in the campaign's zone.
    copy = copy_campaign(request.source_url, request.out, request.campaign, shift=timedelta(days=request.days))
    engine = make_engine(copy.url)
    try:
        sessions = make_sessionmaker(engine)
        with sessions() as session:
            campaign = session.get_one(Campaign, copy.campaign_id)
            profile = book.for_campaign(campaign)
            zone = campaign.hours_zone or profile.abandonment.day_zone
            channels = request.channels or campaign.channel_limit
            open_accounts = session.execute(select(Account.amount_due_minor, Account.currency).where(
                Account.campaign_id == campaign.id, Account.status == "open")).all()
            amounts = [amount for amount, _ in open_accounts]
            # Figures are summed in minor units, which assumes the campaign bills one currency.
            currency = open_accounts[0].currency if open_accounts else "CNY"
            owed = outstanding_total(session, campaign.id)
        if channels < 1:
            raise ValueError(f"--channels must be at least 1, got {channels}")
        today = (clock or SystemClock()).now().astimezone(ZoneInfo(zone)).date()
        end = ensure_utc(datetime.combine(today, time(0), tzinfo=ZoneInfo(zone)))
        start = end - timedelta(days=request.days)
        population = Population(request.model, request.seed, median_amount_minor=int(median(amounts)) if amounts else 1)
        simulation = CampaignSimulation(sessions=sessions, campaign_id=copy.campaign_id, book=book,
                                        population=population, start=start, days=request.days,
                                        channels=channels, order=request.order, zone=zone, progress=progress)
        counters = simulation.run()
        with sessions() as session:
            campaign = session.get_one(Campaign, copy.campaign_id)
            figures = campaign_figures(session, campaign, profile, start=start, outstanding_at_start_minor=owed,
                                       channels=channels)
    finally:
        engine.dispose()
    return SimulationResult(campaign=request.campaign, scratch_url=copy.url, seed=request.seed, order=request.order,
                            days=request.days, channels=channels, zone=zone, start=start, end=end,
                            accounts=len(amounts), currency=currency, figures=figures, per_day=counters.days)
