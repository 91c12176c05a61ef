"""Building blocks for gate tests: a running campaign with debtors and contacts in given zones."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import Clock
from dialer.compliance.book import ProfileBook
from dialer.compliance.gate import CallGate, DialTarget
from dialer.compliance.permit import PermitAuthority
from dialer.compliance.profiles import load_profiles
from dialer.db.models import Account, Campaign, Debtor, PhoneContact
from dialer.db.session import transaction
from dialer.domain import CampaignMode, CampaignState, ContactOwner


def make_campaign(sessions: sessionmaker[Session], *, name: str = "m1", profile: str = "cn",
                  mode: CampaignMode = CampaignMode.BOT_ONLY) -> int:
    with transaction(sessions) as session:
        campaign = Campaign(name=name, profile=profile, mode=mode, state=CampaignState.RUNNING,
                            profile_overrides={}, strategy={})
        session.add(campaign)
        session.flush()
        return campaign.id


def make_debtor(sessions: sessionmaker[Session], campaign_id: int, *, ref: str, zones: list[str],
                numbers: list[str], third_party: str | None = None) -> tuple[int, list[int], int | None]:
    """A debtor with one account and their own numbers (and optionally a third party): ids."""
    with transaction(sessions) as session:
        debtor = Debtor(external_id=ref, full_name=f"Debtor {ref}")
        session.add(debtor)
        session.flush()
        account = Account(external_id=f"A-{ref}", debtor_id=debtor.id, campaign_id=campaign_id, currency="CNY",
                          amount_due_minor=100_00, due_date=date(2026, 11, 1), days_past_due=5,
                          dpd_as_of=date(2026, 11, 6))
        session.add(account)
        contacts = [PhoneContact(debtor_id=debtor.id, e164=n, rank=i, time_zones=zones) for i, n in enumerate(numbers)]
        session.add_all(contacts)
        third = None
        if third_party:
            third = PhoneContact(debtor_id=debtor.id, e164=third_party, owner=ContactOwner.THIRD_PARTY,
                                 relation="spouse", rank=len(numbers), time_zones=zones)
            session.add(third)
        session.flush()
        return account.id, [c.id for c in contacts], third.id if third else None


def make_gate(sessions: sessionmaker[Session], clock: Clock, *, node: str = "test",
              authority: PermitAuthority | None = None) -> CallGate:
    book = ProfileBook(load_profiles())
    return CallGate(sessions=sessions, profile_for=book.for_campaign, authority=authority or PermitAuthority(),
                    clock=clock, node=node)


def target(campaign_id: int, account_id: int, contact_id: int) -> DialTarget:
    return DialTarget(campaign_id=campaign_id, account_id=account_id, contact_id=contact_id)


def utc(*args: int) -> datetime:
    from datetime import timezone

    return datetime(*args, tzinfo=timezone.utc)
