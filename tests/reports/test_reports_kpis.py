"""Campaign KPIs and the compliance report from a known attempt history (tests/reports/history.py),
every figure computed by hand from the table in that module's docstring."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import load_profiles
from dialer.db.models import Campaign
from dialer.reports.compliance import compliance_report
from dialer.reports.kpis import campaign_kpis
from tests.reports.history import DAY_END, DAY_START, T0, seed


def _kpis(sessions: sessionmaker[Session], campaign_id: int, **period):  # type: ignore[no-untyped-def]
    with sessions() as session:
        campaign = session.get_one(Campaign, campaign_id)
        profile = ProfileBook(load_profiles()).for_campaign(campaign)
        return campaign_kpis(session, campaign, profile, now=T0 + timedelta(days=1), **period)


def test_given_a_known_day_when_reported_for_that_day_then_every_kpi_matches_the_hand_computed_figure(
        sessions: sessionmaker[Session]) -> None:
    history = seed(sessions)
    kpis = _kpis(sessions, history.campaign_id, start=DAY_START, end=DAY_END)
    assert kpis["calls_placed"] == kpis["dial_count"] == 7         # the day before is outside
    assert kpis["outcomes"] == {"no_answer": 1, "busy": 1, "abandoned": 1, "human": 3, "machine": 1}
    assert kpis["connect_rate"] == round(5 / 7, 4)                 # 3 human + machine + abandoned
    assert kpis["live_answers"] == 4
    assert kpis["accounts_attempted"] == 3 and kpis["numbers_dialled"] == 3
    assert kpis["reach_rate"] == 1.0          # a person answered on every account (a3 dropped, then talked)
    assert kpis["right_party_contacts"] == 2 and kpis["rpc_rate"] == round(2 / 3, 4)
    assert kpis["ai_talk_seconds"] == 95.0                          # bot-handled human calls only
    assert (kpis["promises"], kpis["promise_rate"]) == (2, 1.0)     # 2 promises from 2 RPC accounts
    assert kpis["promised_minor"] == {"CNY": 13000}
    assert kpis["kept_promise_rate"] == 1.0                         # 1 kept of 1 resolved (1 still open)
    assert kpis["recovered_minor"] == {"CNY": 5000}
    assert kpis["recovery_rate"] == {"CNY": round(5000 / 30000, 4)}
    # cn counts the bot as the live representative: 1 dropped of 4 live answers.
    assert (kpis["abandoned"], kpis["abandonment_rate"]) == (1, 0.25)
    # agent A talked 300 s in the 10:00 hour and 600 s in the 11:00 hour: 900 s of 2 staffed hours
    assert (kpis["agent_talk_seconds"], kpis["agent_staffed_hours"]) == (900.0, 2)
    assert kpis["agent_occupancy"] == 0.125
    assert kpis["denials_by_reason"] == {"outside_window": 4}
    assert kpis["hour_zone"] == "Asia/Shanghai"
    assert kpis["hourly"] == [
        {"hour": "2026-11-16 10:00", "dials": 4, "connected": 2, "connect_rate": 0.5},
        {"hour": "2026-11-16 11:00", "dials": 3, "connected": 3, "connect_rate": 1.0}]
    assert kpis["funnel"] == {"accounts": 3, "attempted": 3, "connected": 3, "right_party": 2, "promised": 2}
    assert kpis["dispositions"] == {"promise": 2}


def test_given_no_period_when_reported_then_the_whole_history_counts(sessions: sessionmaker[Session]) -> None:
    history = seed(sessions)
    kpis = _kpis(sessions, history.campaign_id)
    assert kpis["calls_placed"] == 8 and kpis["outcomes"]["no_answer"] == 2
    assert kpis["denials_by_reason"] == {"outside_window": 4, "daily_cap": 1}
    assert kpis["hourly"][0] == {"hour": "2026-11-15 10:00", "dials": 1, "connected": 0, "connect_rate": 0.0}


def test_given_a_day_without_calls_when_reported_then_rates_are_absent_not_zero(sessions: sessionmaker[Session]) -> None:
    history = seed(sessions)
    kpis = _kpis(sessions, history.campaign_id, start=DAY_END, end=DAY_END + timedelta(days=1))
    assert kpis["calls_placed"] == 0 and kpis["hourly"] == [] and kpis["recovered_minor"] == {}
    assert (kpis["connect_rate"], kpis["rpc_rate"], kpis["agent_occupancy"]) == (None, None, None)


def test_given_the_known_history_then_the_compliance_report_agrees_and_flags_the_third_call_of_the_day(sessions: sessionmaker[Session]) -> None:
    history = seed(sessions)
    with sessions() as session:
        campaign = session.get_one(Campaign, history.campaign_id)
        profile = ProfileBook(load_profiles()).for_campaign(campaign)
        report = compliance_report(session, campaign, profile, now=T0 + timedelta(hours=3))
    assert report["attempts"] == 8 and report["conversations"] == 2
    assert report["gate"]["denials_by_reason"] == {"outside_window": 4, "daily_cap": 1}
    assert report["abandonment"]["rolling_24h"]["dropped"] == 1
    # a2's number was called three times on the 16th: the independent re-check names the third
    assert [(v["rule"], v["attempt_id"]) for v in report["violations"]] == [("daily_number_attempt_cap", 7)]
