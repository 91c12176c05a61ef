"""Campaign KPIs and the compliance report from a known attempt history, checked by hand."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session, sessionmaker

from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import load_profiles
from dialer.db.models import Account, Attempt, AuditEntry, Campaign, Conversation, Payment, PromiseToPay
from dialer.db.session import transaction
from dialer.domain import AttemptState, Outcome, Party, PromiseStatus, Route
from dialer.reports.compliance import compliance_report
from dialer.reports.kpis import campaign_kpis
from tests.gate.helpers import make_campaign, make_debtor, utc

T0 = utc(2026, 11, 23, 2, 0)   # 10:00 Shanghai


def attempt(campaign: int, account: int, contact: int, debtor: int, minutes: int, outcome: Outcome, *,
            route: Route | None = None, talk: float | None = None, conversation: bool = False) -> Attempt:
    placed = T0 + timedelta(minutes=minutes)
    answered = placed + timedelta(seconds=5) if outcome in (Outcome.HUMAN, Outcome.ABANDONED, Outcome.MACHINE) else None
    return Attempt(campaign_id=campaign, account_id=account, contact_id=contact, debtor_id=debtor, e164="+86138",
                   state=AttemptState.ENDED, outcome=outcome, placed_at=placed, answered_at=answered,
                   ended_at=placed + timedelta(seconds=60), ring_timeout_s=30, route=route, talk_seconds=talk,
                   conversation=conversation, abandoned=outcome is Outcome.ABANDONED)


def test_given_a_known_history_then_every_kpi_matches_the_hand_computed_figure(sessions: sessionmaker[Session]) -> None:
    campaign_id = make_campaign(sessions)
    a1, (c1,), _ = make_debtor(sessions, campaign_id, ref="1", zones=["Asia/Shanghai"], numbers=["+8613800000001"])
    a2, (c2,), _ = make_debtor(sessions, campaign_id, ref="2", zones=["Asia/Shanghai"], numbers=["+8613800000002"])
    a3, (c3,), _ = make_debtor(sessions, campaign_id, ref="3", zones=["Asia/Shanghai"], numbers=["+8613800000003"])
    with transaction(sessions) as session:
        d1, d2, d3 = (session.get(Account, a).debtor_id for a in (a1, a2, a3))
        rows = [
            attempt(campaign_id, a1, c1, d1, 0, Outcome.NO_ANSWER),
            attempt(campaign_id, a1, c1, d1, 60, Outcome.HUMAN, route=Route.BOT, talk=95.0, conversation=True),
            attempt(campaign_id, a2, c2, d2, 5, Outcome.BUSY),
            attempt(campaign_id, a2, c2, d2, 70, Outcome.MACHINE),
            attempt(campaign_id, a3, c3, d3, 10, Outcome.ABANDONED, route=Route.SAFE_HARBOUR),
        ]
        session.add_all(rows)
        session.flush()
        session.add(Conversation(attempt_id=rows[1].id, party=Party.DEBTOR, verified=True, disposition="promise"))
        session.add(PromiseToPay(account_id=a1, attempt_id=rows[1].id, amount_minor=5000, currency="CNY",
                                 promised_date=date(2026, 11, 25), status=PromiseStatus.KEPT))
        session.add(Payment(account_id=a1, amount_minor=5000, currency="CNY", paid_at=T0 + timedelta(days=2)))
        session.add_all([AuditEntry(actor="gate", kind="gate_decision", campaign_id=campaign_id, decision="deny",
                                    reason="outside_window") for _ in range(4)])
    with sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        profile = ProfileBook(load_profiles()).for_campaign(campaign)
        kpis = campaign_kpis(session, campaign, profile)
        report = compliance_report(session, campaign, profile, now=T0 + timedelta(hours=3))
    assert kpis["calls_placed"] == 5
    assert kpis["connect_rate"] == 0.6            # human + machine + abandoned = 3 of 5
    assert kpis["accounts_attempted"] == 3
    assert kpis["rpc_rate"] == round(1 / 3, 4)    # one account reached its debtor
    assert kpis["ai_talk_seconds"] == 95.0
    assert (kpis["promises"], kpis["promise_rate"], kpis["kept_promise_rate"]) == (1, 1.0, 1.0)
    assert kpis["promised_minor"] == {"CNY": 5000}
    assert kpis["recovery_rate"] == {"CNY": round(5000 / 30000, 4)}   # 3 accounts of 100.00 each
    # cn counts the bot as the live representative: 1 dropped of 2 live answers.
    assert kpis["abandonment_rate"] == 0.5
    assert kpis["denials_by_reason"] == {"outside_window": 4}
    assert kpis["funnel"] == {"accounts": 3, "attempted": 3, "connected": 3, "right_party": 1, "promised": 1}
    assert report["attempts"] == 5 and report["conversations"] == 1
    assert report["gate"]["denials_by_reason"] == {"outside_window": 4}
    assert report["abandonment"]["rolling_24h"]["dropped"] == 1
    assert report["violations"] == []
