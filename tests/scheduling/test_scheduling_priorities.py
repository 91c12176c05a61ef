"""`Account.priority` (the hopper's order) from expected recovery and learned answer hours."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dialer.db.models import Account
from dialer.domain import Outcome
from dialer.scheduling.priorities import refresh_account_priorities
from tests.scheduling import seed

NOW = datetime(2026, 3, 9, 11, 0, tzinfo=timezone.utc)     # Monday 19:00 in Shanghai


def _priorities(sessions: sessionmaker[Session], *ids: int) -> list[float]:
    with sessions() as session:
        return [session.get_one(Account, i).priority for i in ids]


def test_given_two_accounts_in_one_stage_when_refreshed_then_the_larger_debt_comes_first(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = seed.campaign(sessions)
    small, _ = seed.account(sessions, campaign_id, ref="1", due=date(2026, 3, 7), dpd=2,
                            stage="reminder", amount=10_000)
    large, _ = seed.account(sessions, campaign_id, ref="2", due=date(2026, 3, 7), dpd=2,
                            stage="reminder", amount=100_000)
    result = refresh_account_priorities(sessions, now=NOW, fallback_zone="UTC")
    low, high = _priorities(sessions, small, large)
    assert result.accounts == 2 and 0 < low < high
    assert high / low == pytest.approx(10.0)   # same stage, same (prior) answer chance: amount alone decides


def test_given_a_debtor_who_answers_at_this_hour_when_refreshed_then_they_outrank_one_who_never_answers(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = seed.campaign(sessions)
    answers, answers_contact = seed.account(sessions, campaign_id, ref="1", due=date(2026, 3, 1),
                                            dpd=8, stage="escalation")
    silent, silent_contact = seed.account(sessions, campaign_id, ref="2", due=date(2026, 3, 1),
                                          dpd=8, stage="escalation")
    for week in (1, 2):   # the two previous Mondays at 19:00 local
        at = NOW - timedelta(weeks=week)
        seed.completed_call(sessions, campaign_id=campaign_id, account_id=answers,
                            contact_id=answers_contact, at=at, outcome=Outcome.HUMAN)
        seed.completed_call(sessions, campaign_id=campaign_id, account_id=silent,
                            contact_id=silent_contact, at=at, outcome=Outcome.NO_ANSWER)
    refresh_account_priorities(sessions, now=NOW, fallback_zone="UTC")
    good, bad = _priorities(sessions, answers, silent)
    assert good > 2 * bad > 0
