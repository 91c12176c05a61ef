"""`dialer report` (campaign KPIs) and `dialer compliance report` (the regulator's view)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from dialer.campaigns import get_campaign
from dialer.commands.common import open_app, print_json, print_mapping, print_table, user_errors
from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import load_profiles
from dialer.db.session import transaction
from dialer.exports import audit_export, export_actor
from dialer.reports.compliance import compliance_report
from dialer.reports.files import csv_text, write_private
from dialer.reports.html import render
from dialer.reports.kpis import campaign_kpis


def _instant(text: str | None, zone: str, option: str) -> datetime | None:
    """A date or date-time; without an offset it is read in the report's zone (the profile's day
    zone, e.g. Beijing time for cn), the calendar the supervisor's day is in."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r}: use an ISO date or date-time, e.g. 2026-11-23 or "
                                 "2026-11-23T09:00+08:00", param_hint=option) from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))


@click.command("report")
@click.argument("name")
@click.option("--from", "start", help="ISO date or date-time, in the profile's day zone unless an offset is given.")
@click.option("--to", "end", help="ISO date or date-time, exclusive.")
@click.option("--json", "as_json", is_flag=True, help="Every figure and series as one JSON object.")
@click.option("--csv", "as_csv", is_flag=True, help="One header line and one row of figures.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write an HTML report with charts to this file.")
@click.option("--actor", help="Who exports, for the audit log (default: the OS user).")
@click.pass_context
@user_errors
def report(ctx: click.Context, name: str, start: str | None, end: str | None, as_json: bool, as_csv: bool,
           html_file: Path | None, actor: str | None) -> None:
    """Campaign KPIs: calls, connects, RPC, promises, recovery, abandonment, occupancy, denials.

    Example: dialer report spring-m1 --from 2026-11-23 --to 2026-11-24 --html report.html
    """
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    with open_app(ctx) as app, transaction(app.sessions) as session:
        campaign = get_campaign(session, name)
        profile = ProfileBook(load_profiles(app.settings["profile.custom_file"] or None)).for_campaign(campaign)
        zone = profile.abandonment.day_zone
        since, until = _instant(start, zone, "--from"), _instant(end, zone, "--to")
        if since and until and since >= until:
            raise click.BadParameter(f"--from {start} is not before --to {end}", param_hint="--from")
        kpis = campaign_kpis(session, campaign, profile, now=app.clock.now(), start=since, end=until)
        # Exports carry personal-data-derived figures: audited (dialer.exports), owner-only files.
        for what, where in (("kpis.html", html_file), ("kpis.json", "stdout" if as_json else None),
                            ("kpis.csv", "stdout" if as_csv and not as_json else None)):
            if where is not None:
                audit_export(session, actor=export_actor(actor), what=what, rows=int(kpis["calls_placed"] or 0),
                             where=where, campaign_id=campaign.id)
        if html_file:
            # inside the transaction: a file that cannot be written leaves no audit row behind
            try:
                write_private(html_file, render(kpis))
            except OSError as error:
                raise click.ClickException(f"{html_file}: cannot write ({error.strerror}); "
                                           "check the directory exists and is writable") from None
    if html_file:
        click.echo(f"wrote {html_file}")
    if as_json:
        print_json(kpis)
    elif as_csv:
        click.echo(csv_text(kpis).rstrip())
    elif not html_file:
        print_mapping(f"campaign {name}", {k: v for k, v in kpis.items() if k not in ("hourly",)})


@click.group("compliance")
def compliance() -> None:
    """Compliance views: what the gate decided and what an independent re-check finds."""


@compliance.command("report")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@click.option("--actor", help="Who exports, for the audit log (default: the OS user).")
@click.pass_context
@user_errors
def compliance_report_command(ctx: click.Context, name: str, as_json: bool, actor: str | None) -> None:
    """Attempts, conversations, denials by reason, abandonment by window, violations (must be 0).

    Example: dialer compliance report spring-m1 --json
    """
    with open_app(ctx) as app, transaction(app.sessions) as session:
        campaign = get_campaign(session, name)
        profile = ProfileBook(load_profiles(app.settings["profile.custom_file"] or None)).for_campaign(campaign)
        data = compliance_report(session, campaign, profile, now=app.clock.now())
        audit_export(session, actor=export_actor(actor), what="compliance.json" if as_json else "compliance",
                     rows=int(data["attempts"] or 0), where="stdout", campaign_id=campaign.id)
    if as_json:
        print_json(data)
        return
    print_mapping(f"compliance: {name} ({data['profile']})", {
        "attempts": data["attempts"], "conversations": data["conversations"],
        "gate allowed": data["gate"]["allowed"], "gate denied": data["gate"]["denied"],
        "abandonment (profile window)": data["abandonment"]["rolling_30d"]["rate"],
        "worst hour": (data["abandonment"]["worst_hour"] or {}).get("rate"),
        "violations": len(data["violations"])})
    print_table("denials by reason", ["reason", "count"], list(data["gate"]["denials_by_reason"].items()))
    if data["violations"]:
        print_table("VIOLATIONS", ["attempt", "rule", "detail"],
                    [(v["attempt_id"], v["rule"], v["detail"]) for v in data["violations"]])
