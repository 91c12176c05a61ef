"""A running campaign with debtors in known zones, for the scheduler's unit-of-work tests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dialer.db.models import Account, Attempt, Campaign, Debtor, Payment, PhoneContact, PromiseToPay
from dialer.db.session import transaction
from dialer.domain import AttemptState, CampaignMode, CampaignState, Outcome

SHANGHAI = "Asia/Shanghai"


def campaign(sessions: sessionmaker[Session], *, name: str = "m1",
             state: CampaignState = CampaignState.RUNNING, strategy: dict[str, Any] | None = None) -> int:
    with transaction(sessions) as session:
        row = Campaign(name=name, profile="cn", mode=CampaignMode.BOT_ONLY, state=state,
                       language="zh-CN", profile_overrides={}, strategy=strategy or {})
        session.add(row)
        session.flush()
        return row.id


def account(sessions: sessionmaker[Session], campaign_id: int, *, ref: str, due: date,
            dpd: int = 0, amount: int = 100_000, stage: str | None = None, zone: str = SHANGHAI,
            sms_consent: bool = True, as_of: date | None = None) -> tuple[int, int]:
    """One debtor, one account, one own mobile number: (account id, contact id)."""
    with transaction(sessions) as session:
        debtor = Debtor(external_id=f"D-{ref}", full_name=f"Debtor {ref}", language="zh-CN")
        session.add(debtor)
        session.flush()
        row = Account(external_id=f"A-{ref}", debtor_id=debtor.id, campaign_id=campaign_id,
                      currency="CNY", amount_due_minor=amount, minimum_payment_minor=amount // 10,
                      due_date=due, days_past_due=dpd, dpd_as_of=as_of or due, stage=stage)
        contact = PhoneContact(debtor_id=debtor.id, e164=f"+86138{abs(hash(ref)) % 10**8:08d}",
                               time_zones=[zone], sms_consent=sms_consent, autodialer_consent=True)
        session.add_all([row, contact])
        session.flush()
        return row.id, contact.id


def completed_call(sessions: sessionmaker[Session], *, campaign_id: int, account_id: int,
                   contact_id: int, at: datetime, outcome: Outcome = Outcome.HUMAN) -> int:
    with transaction(sessions) as session:
        row = session.get_one(Account, account_id)
        contact = session.get_one(PhoneContact, contact_id)
        attempt = Attempt(campaign_id=campaign_id, account_id=account_id, debtor_id=row.debtor_id,
                          contact_id=contact_id, e164=contact.e164, state=AttemptState.ENDED,
                          outcome=outcome, placed_at=at, ended_at=at, ring_timeout_s=30)
        session.add(attempt)
        session.flush()
        return attempt.id


def promise(sessions: sessionmaker[Session], account_id: int, *, amount: int, on: date,
            made_at: datetime) -> int:
    with transaction(sessions) as session:
        row = PromiseToPay(account_id=account_id, amount_minor=amount, currency="CNY",
                           promised_date=on, created_at=made_at)
        session.add(row)
        session.flush()
        return row.id


def payment(sessions: sessionmaker[Session], account_id: int, *, amount: int, at: datetime,
            ref: str | None = None) -> None:
    with transaction(sessions) as session:
        session.add(Payment(account_id=account_id, amount_minor=amount, currency="CNY", paid_at=at,
                            external_ref=ref))
