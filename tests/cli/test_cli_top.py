"""`dialer top`: one frame from the daemon's status file and today's attempts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.config import load_settings
from dialer.scheduling.scheduler import build_scheduler
from dialer.commands.top import build_frame, render
from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import load_profiles
from dialer.db.models import Account, Attempt, Campaign, PromiseToPay
from dialer.db.session import transaction
from dialer.domain import AttemptState, CampaignState, Outcome
from tests.scheduling import seed

NOW = datetime(2026, 3, 4, 6, 0, tzinfo=timezone.utc)      # 14:00 in Beijing


def _status(at: datetime) -> dict:  # type: ignore[type-arg]
    return {"node": "n1", "pid": 1, "at": at.isoformat(), "stopped": False,
            "telephony": {"component": "ari", "healthy": True, "detail": "connected", "reconnects": 0},
            "in_flight": 3,
            "summary": {"node": "n1", "ticks": 10, "placed": 7, "denied": 1, "ended": 4, "reconciled": 0,
                        "outcomes": {"human": 2}, "max_pacer_ms": 0.8},
            "campaigns": [{"campaign": "m1", "state": "running", "wanted": 5, "placed": 2, "denied": 1,
                           "in_flight": 3, "pacer_ms": 0.1, "denials": {"outside_window": 1}}],
            "agents": [{"name": "agent1001", "queue": "collectors", "state": "in_call", "elapsed_s": 42.0}]}


def _attempts(sessions: sessionmaker[Session], campaign_id: int,
              rows: list[tuple[datetime, Outcome | None, bool]]) -> None:
    account_id, contact_id = seed.account(sessions, campaign_id, ref="1", due=NOW.date(), dpd=1)
    with transaction(sessions) as session:
        debtor_id = session.get_one(Account, account_id).debtor_id
        for placed_at, outcome, abandoned in rows:
            session.add(Attempt(campaign_id=campaign_id, account_id=account_id, debtor_id=debtor_id,
                                contact_id=contact_id, e164="+8613800000000", ring_timeout_s=30,
                                state=AttemptState.ENDED if outcome else AttemptState.RINGING,
                                outcome=outcome, placed_at=placed_at, abandoned=abandoned))


def test_given_todays_attempts_and_a_fresh_status_when_a_frame_is_built_then_it_shows_the_day_in_beijing(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = seed.campaign(sessions)
    seed.campaign(sessions, name="old", state=CampaignState.STOPPED)
    yesterday_beijing = datetime(2026, 3, 3, 15, 59, tzinfo=timezone.utc)   # 23:59 on the 3rd
    _attempts(sessions, campaign_id, [
        (yesterday_beijing, Outcome.HUMAN, False),
        (NOW - timedelta(hours=5), Outcome.HUMAN, False),
        (NOW - timedelta(hours=4), Outcome.ABANDONED, True),
        (NOW - timedelta(hours=3), Outcome.MACHINE, False),
        (NOW - timedelta(hours=2), Outcome.NO_ANSWER, False),
        (NOW - timedelta(minutes=1), None, False),           # ringing now
    ])
    with sessions() as session:
        frame = build_frame(session, _status(NOW - timedelta(seconds=1)), now=NOW,
                            book=ProfileBook(load_profiles()))
    [campaign] = frame["campaigns"]
    assert campaign["campaign"] == "m1" and campaign["day_zone"] == "Asia/Shanghai"
    assert (campaign["attempts_today"], campaign["connect_rate_today"], campaign["abandonment_today"]) == (
        5, 0.75, 0.5)   # 3 of 4 ended calls connected (human, abandoned, machine); 1 of 2 live dropped
    assert (campaign["in_flight"], campaign["wanted_last_tick"], campaign["placed_last_tick"]) == (3, 5, 2)
    assert frame["daemon"]["stale"] is False and frame["agents"][0]["name"] == "agent1001"
    with sessions() as session:
        stale = build_frame(session, _status(NOW - timedelta(minutes=5)), now=NOW,
                            book=ProfileBook(load_profiles()))
    assert stale["daemon"]["stale"] is True


@pytest.fixture
def dialer(dialer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The shared runner, with its status file under the test's directory and a running campaign."""
    monkeypatch.setenv("DIALER_DATA_DIR", str(tmp_path / "var"))
    run = dialer
    run("db", "upgrade")
    run("campaign", "create", "m1", "--mode", "bot_only")
    run("campaign", "start", "m1")
    return run


def test_given_no_daemon_when_top_prints_once_then_it_says_so_and_lists_the_campaign(dialer) -> None:  # type: ignore[no-untyped-def]
    output = dialer("top", "--once").output
    assert "never ran here" in output and "m1" in output
    frame = json.loads(dialer("top", "--json").output)
    assert frame["daemon"] is None and [c["campaign"] for c in frame["campaigns"]] == ["m1"]


def test_given_a_daemon_status_file_when_top_prints_once_then_pacing_and_agents_are_shown(dialer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    status = tmp_path / "var" / "daemon-status.json"
    status.parent.mkdir(parents=True, exist_ok=True)
    status.write_text(json.dumps(_status(datetime.now(timezone.utc))), encoding="utf-8")
    output = dialer("top", "--once").output
    assert "daemon n1: running" in output and "agent1001" in output and "7 placed" in output
    frame = json.loads(dialer("top", "--json").output)
    assert frame["campaigns"][0]["denials_last_tick"] == {"outside_window": 1}


def test_given_a_frame_when_rendered_by_rich_then_campaign_hours_agents_and_pacing_are_on_screen(
        sessions: sessionmaker[Session]) -> None:
    campaign_id = seed.campaign(sessions)
    with transaction(sessions) as session:
        campaign = session.get_one(Campaign, campaign_id)
        campaign.hours_start, campaign.hours_end, campaign.hours_zone = "09:00", "20:00", "Asia/Shanghai"
    _attempts(sessions, campaign_id, [(NOW - timedelta(hours=1), Outcome.HUMAN, False)])
    with transaction(sessions) as session:
        account_id = session.scalars(select(Account.id)).one()
        session.add(PromiseToPay(account_id=account_id, amount_minor=5000, currency="CNY",
                                 promised_date=NOW.date(), created_at=NOW - timedelta(minutes=59)))
    with sessions() as session:
        frame = build_frame(session, _status(NOW - timedelta(minutes=5)), now=NOW, book=ProfileBook(load_profiles()))
    console = Console(record=True, width=250, color_system=None)
    console.print(render(frame))
    screen = console.export_text()
    assert "daemon n1: STALE" in screen                       # the status file is 5 minutes old
    assert "09:00-20:00 Asia/Shanghai" in screen and "promises today" in screen
    assert frame["campaigns"][0]["promises_today"] == 1
    assert "agent1001" in screen and "in_call" in screen and "42.0" in screen
    assert "pacing: 10 ticks, 7 placed, 1 denied" in screen


async def test_given_a_scheduler_has_run_when_a_frame_is_built_then_its_stored_jobs_are_listed_soonest_first(
        sessions: sessionmaker[Session], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with sessions() as session:   # before any scheduler ran: no table, nothing shown
        assert build_frame(session, None, now=NOW, book=ProfileBook(load_profiles()))["scheduler"] == []
    settings = load_settings(None, overrides={"database.url": db_url, "data_dir": str(tmp_path)}, environ={})
    scheduler = build_scheduler(db_url=db_url, settings=settings)
    scheduler.start(paused=True)
    scheduler.shutdown(wait=False)
    with sessions() as session:
        frame = build_frame(session, None, now=NOW, book=ProfileBook(load_profiles()))
    jobs = frame["scheduler"]
    assert {"strategy.advance_days", "reports.nightly", "sms.plan_and_send"} <= {j["job"] for j in jobs}
    runs = [j["next_run"] for j in jobs]
    assert runs == sorted(runs) and all(r.endswith("+00:00") for r in runs)
    console = Console(record=True, width=200, color_system=None)
    console.print(render(frame))
    assert "scheduler (next runs, UTC)" in console.export_text()
