"""`dialer top`: a live view of running campaigns, agents and pacing.

It reads what the daemon writes every tick (`<data_dir>/daemon-status.json`, see
`Daemon._write_status`) and today's figures from the database, so it works from any shell on the
host, with or without the daemon running. Read-only: it never takes a write lock.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dialer.commands.common import open_app, print_json, user_errors
from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import load_profiles
from dialer.daemon.compose import status_path
from dialer.db.models import Account, Attempt, Campaign, PromiseToPay
from dialer.domain import CampaignState, Outcome
from dialer.scheduling.campaign_hours import CampaignHours
from dialer.scheduling.scheduler import upcoming_jobs

# the daemon writes every tick (1 s by default): older than this, it is not pacing any more
STALE_AFTER = timedelta(seconds=15)
_CONNECTED = (Outcome.HUMAN, Outcome.ABANDONED, Outcome.MACHINE)
_LIVE = (Outcome.HUMAN, Outcome.ABANDONED)


def read_status(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except FileNotFoundError:
        return None
    except json.JSONDecodeError:
        return None   # written atomically (tmp + rename); unreadable means not ours: show none


def build_frame(session: Session, status: dict[str, Any] | None, *, now: datetime,
                book: ProfileBook) -> dict[str, Any]:
    """Everything one screen shows, as plain data (`--json` prints exactly this)."""
    ticks = {c["campaign"]: c for c in (status or {}).get("campaigns", [])}
    campaigns = []
    for campaign in session.scalars(select(Campaign).where(
            Campaign.state.in_([CampaignState.RUNNING, CampaignState.PAUSED])).order_by(Campaign.name)):
        # "today" is the calendar day the profile counts abandonment in (cn: Beijing time)
        zone = book.for_campaign(campaign).abandonment.day_zone
        local = now.astimezone(ZoneInfo(zone))
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        today = _today(session, campaign.id, day_start)
        tick = ticks.get(campaign.name, {})
        open_accounts = session.scalar(select(func.count(Account.id)).where(
            Account.campaign_id == campaign.id, Account.status == "open")) or 0
        campaigns.append({
            "campaign": campaign.name, "state": campaign.state.value, "mode": campaign.mode.value,
            "in_flight": tick.get("in_flight"), "wanted_last_tick": tick.get("wanted"),
            "placed_last_tick": tick.get("placed"), "denied_last_tick": tick.get("denied"),
            "denials_last_tick": tick.get("denials", {}), "pacer_ms": tick.get("pacer_ms"),
            "attempts_today": today["dials"],
            "connect_rate_today": _rate(today["connected"], today["ended"]),
            "abandonment_today": _rate(today["abandoned"], today["live"]),
            "open_accounts": open_accounts, "day_zone": zone,
            "promises_today": session.scalar(select(func.count(PromiseToPay.id)).where(
                PromiseToPay.account_id == Account.id, Account.campaign_id == campaign.id,
                PromiseToPay.created_at >= day_start)) or 0,
            "hours": str(hours) if (hours := CampaignHours.of(campaign, zone)) else None,
        })
    daemon = None
    if status is not None:
        at = datetime.fromisoformat(status["at"])
        daemon = {"node": status.get("node"), "at": status["at"], "stopped": status.get("stopped", False),
                  "stale": now - at > STALE_AFTER, "in_flight": status.get("in_flight"),
                  "telephony": status.get("telephony"), "pacing": status.get("summary")}
    return {"at": now.isoformat(), "daemon": daemon, "campaigns": campaigns,
            "agents": (status or {}).get("agents"),
            "scheduler": [{"job": j["job"], "next_run": j["next_run"].isoformat() if j["next_run"] else None}
                          for j in upcoming_jobs(session)]}


def _today(session: Session, campaign_id: int, since: datetime) -> dict[str, int]:
    row = session.execute(
        select(func.count(Attempt.id),
               func.count(Attempt.outcome),
               func.coalesce(func.sum(case((Attempt.outcome.in_(_CONNECTED), 1), else_=0)), 0),
               func.coalesce(func.sum(case((Attempt.outcome.in_(_LIVE), 1), else_=0)), 0),
               func.coalesce(func.sum(case(((Attempt.abandoned.is_(True))
                                            | (Attempt.outcome == Outcome.ABANDONED), 1), else_=0)), 0))
        .where(Attempt.campaign_id == campaign_id, Attempt.placed_at >= since)).one()
    dials, ended, connected, live, abandoned = (int(v) for v in row)
    return {"dials": dials, "ended": ended, "connected": connected, "live": live, "abandoned": abandoned}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def render(frame: dict[str, Any]) -> Group:
    parts: list[Any] = []
    daemon = frame["daemon"]
    if daemon is None:
        parts.append("[yellow]daemon: never ran here (no status file)[/yellow]")
    else:
        state = "stopped" if daemon["stopped"] else ("STALE" if daemon["stale"] else "running")
        tel = daemon.get("telephony") or {}
        parts.append(f"daemon {daemon['node']}: {state} at {daemon['at']}, {daemon['in_flight']} in flight; "
                     f"telephony {tel.get('component')}: {'ok' if tel.get('healthy') else 'DOWN'} "
                     f"{tel.get('detail') or ''}")
    table = Table(title=f"campaigns at {frame['at']}")
    for column in ("campaign", "state", "hours", "mode", "in flight", "wanted/placed (tick)", "denied (tick)",
                   "attempts today", "connect rate", "abandonment", "promises today", "open accounts"):
        table.add_column(column)
    for c in frame["campaigns"]:
        table.add_row(c["campaign"], c["state"], _text(c["hours"]), c["mode"], _text(c["in_flight"]),
                      f"{_text(c['wanted_last_tick'])}/{_text(c['placed_last_tick'])}",
                      _text(c["denied_last_tick"]), str(c["attempts_today"]),
                      _pct(c["connect_rate_today"]), _pct(c["abandonment_today"]), str(c["promises_today"]),
                      str(c["open_accounts"]))
    parts.append(table)
    if frame["agents"]:
        agents = Table(title="agents")
        for column in ("agent", "queue", "state", "for (s)"):
            agents.add_column(column)
        # as `Daemon._write_status` lists `AgentSnapshot.agents`: name, queue, state, elapsed_s
        for a in frame["agents"]:
            agents.add_row(str(a.get("name", "")), str(a.get("queue", "")), str(a.get("state", "")),
                           _text(a.get("elapsed_s")))
        parts.append(agents)
    if frame.get("scheduler"):
        jobs = Table(title="scheduler (next runs, UTC)")
        for column in ("job", "next run"):
            jobs.add_column(column)
        for j in frame["scheduler"][:8]:
            jobs.add_row(j["job"], _text(j["next_run"]))
        parts.append(jobs)
    if daemon and daemon.get("pacing"):
        p = daemon["pacing"]
        parts.append(f"pacing: {p.get('ticks')} ticks, {p.get('placed')} placed, {p.get('denied')} denied, "
                     f"{p.get('ended')} ended, slowest pacer decision {p.get('max_pacer_ms', 0):.1f} ms; "
                     f"outcomes {p.get('outcomes')}")
    return Group(*parts)


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


@click.command("top")
@click.option("--once", is_flag=True, help="Print one frame and exit.")
@click.option("--json", "as_json", is_flag=True, help="Print one frame's data as JSON and exit.")
@click.option("--interval", type=click.FloatRange(min=0.2), default=1.0, show_default=True,
              help="Seconds between refreshes.")
@click.pass_context
@user_errors
def top(ctx: click.Context, once: bool, as_json: bool, interval: float) -> None:
    """Live view of running campaigns (in flight, wanted/placed, today's attempts, connect and
    abandonment rates), agents and pacing. Ctrl-C to quit.

    \b
    Examples:
      dialer top
      dialer top --once          # one frame, e.g. for a log or a ticket
      dialer top --json          # the same figures for a script
    """
    with open_app(ctx) as app:
        book = ProfileBook(load_profiles(app.settings["profile.custom_file"] or None))
        path = status_path(app)

        def frame() -> dict[str, Any]:
            with app.sessions() as session:
                return build_frame(session, read_status(path), now=app.clock.now(), book=book)

        if as_json:
            print_json(frame())
            return
        if once:
            Console().print(render(frame()))
            return
        try:
            with Live(render(frame()), refresh_per_second=4, screen=False) as live:
                while True:
                    time.sleep(interval)   # the status file is rewritten each tick; nothing to wait on
                    live.update(render(frame()))
        except KeyboardInterrupt:
            pass
