"""A generated campaign for tests, the lift study and demos: debtors in Beijing time with days past
due spread over every stage, log-normal balances, some second numbers and some third parties.

It is written to an ordinary migrated database, which the simulation then copies like any other
source. The generator's seed is independent of the simulation's: one book of accounts, many runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from dialer.db import migrate
from dialer.db.models import Account, Campaign, Debtor, PhoneContact
from dialer.db.session import make_engine, make_sessionmaker, transaction
from dialer.domain import CampaignMode, CampaignState, ContactOwner

ZONE = "Asia/Shanghai"
RELATIONS = ("spouse", "parent", "sibling", "employer")


@dataclass(frozen=True)
class SyntheticBook:
    accounts: int = 300
    seed: int = 7
    median_amount_minor: int = 500_000       # 5,000.00 CNY
    amount_sigma: float = 0.8                # log-normal spread
    max_dpd: int = 12
    second_number: float = 0.25
    third_party: float = 0.30
    channels: int = 4


def create_synthetic_campaign(url: str, name: str, *, today: date, book: SyntheticBook = SyntheticBook(),
                              migrate_first: bool = True, strategy: dict[str, object] | None = None) -> int:
    """Write campaign `name` with `book.accounts` accounts into the database at `url`; its id."""
    if migrate_first:
        migrate.upgrade(url)
    r = random.Random(book.seed)
    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            campaign = Campaign(name=name, profile="cn", mode=CampaignMode.BOT_ONLY, state=CampaignState.RUNNING,
                                language="zh-CN", channel_limit=book.channels, profile_overrides={},
                                strategy=strategy or {}, hours_zone=ZONE)
            session.add(campaign)
            session.flush()
            for i in range(book.accounts):
                debtor = Debtor(external_id=f"{name}-D{i:05d}", full_name=f"Debtor {i}", language="zh-CN",
                                birth_year=r.randint(1960, 2002))
                session.add(debtor)
                session.flush()
                dpd = r.randint(1, book.max_dpd)
                amount = int(book.median_amount_minor * r.lognormvariate(0, book.amount_sigma)) // 100 * 100
                amount = max(amount, 10_000)
                session.add(Account(external_id=f"{name}-A{i:05d}", debtor_id=debtor.id, campaign_id=campaign.id,
                                    currency="CNY", amount_due_minor=amount, minimum_payment_minor=amount // 10,
                                    due_date=today - timedelta(days=dpd), days_past_due=dpd, dpd_as_of=today))
                numbers: list[tuple[ContactOwner, str | None]] = [(ContactOwner.DEBTOR, None)]
                if r.random() < book.second_number:
                    numbers.append((ContactOwner.DEBTOR, None))
                if r.random() < book.third_party:
                    numbers.append((ContactOwner.THIRD_PARTY, r.choice(RELATIONS)))
                for rank, (owner, relation) in enumerate(numbers):
                    session.add(PhoneContact(
                        debtor_id=debtor.id, e164=f"+8613{campaign.id % 10}{i:06d}{rank}0", owner=owner,
                        relation=relation, rank=rank, time_zones=[ZONE], zone_source="number",
                        autodialer_consent=True, sms_consent=True))
            return campaign.id
    finally:
        engine.dispose()
