"""The independent re-check the simulator is judged by knows what the gate knew about a debtor's
reach when it let a third party be called (cn CBA 2026): found in simulated histories, where a
debtor's only number proved not to exist and the gate rightly unlocked the third party."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.compliance.profiles import load_profiles
from dialer.db.models import Account, Attempt, Campaign, Debtor, PhoneContact
from dialer.db.session import transaction
from dialer.domain import AttemptState, CampaignMode, CampaignState, ContactOwner, Outcome
from dialer.reports.compliance import recheck

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)     # 10:00 in Beijing
ZONE = ["Asia/Shanghai"]


def history(sessions: sessionmaker[Session], own_outcome: Outcome, cause: int | None) -> Campaign:
    with transaction(sessions) as session:
        campaign = Campaign(name="m1", profile="cn", mode=CampaignMode.BOT_ONLY, state=CampaignState.RUNNING,
                            profile_overrides={}, strategy={})
        debtor = Debtor(external_id="D1", full_name="Debtor 1")
        session.add_all([campaign, debtor])
        session.flush()
        account = Account(external_id="A1", debtor_id=debtor.id, campaign_id=campaign.id, currency="CNY",
                          amount_due_minor=100_000, due_date=date(2026, 11, 15), days_past_due=5,
                          dpd_as_of=date(2026, 11, 20))
        own = PhoneContact(debtor_id=debtor.id, e164="+8613800000001", time_zones=ZONE,
                           valid=cause is None)
        relative = PhoneContact(debtor_id=debtor.id, e164="+8613800000002", owner=ContactOwner.THIRD_PARTY,
                                rank=1, time_zones=ZONE)
        session.add_all([account, own, relative])
        session.flush()
        for contact, outcome, at, hangup in ((own, own_outcome, T0, cause),
                                             (relative, Outcome.NO_ANSWER, T0 + timedelta(hours=1), 19)):
            session.add(Attempt(campaign_id=campaign.id, account_id=account.id, debtor_id=debtor.id,
                                contact_id=contact.id, e164=contact.e164, state=AttemptState.ENDED, outcome=outcome,
                                placed_at=at, ended_at=at + timedelta(seconds=30), ring_timeout_s=30,
                                hangup_cause=hangup))
    with sessions() as session:
        return session.scalars(select(Campaign)).one()


def test_given_the_debtors_only_number_does_not_exist_when_the_third_party_is_called_then_no_violation(
        sessions: sessionmaker[Session]) -> None:
    campaign = history(sessions, Outcome.FAILED, cause=1)

    with sessions() as session:
        assert recheck(session, campaign, load_profiles()["cn"]) == []


def test_given_the_debtor_merely_did_not_answer_once_when_the_third_party_is_called_then_flagged(
        sessions: sessionmaker[Session]) -> None:
    campaign = history(sessions, Outcome.NO_ANSWER, cause=None)

    with sessions() as session:
        assert [v.rule for v in recheck(session, campaign, load_profiles()["cn"])] == ["third_party_locked"]
