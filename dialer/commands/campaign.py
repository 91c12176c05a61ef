"""`dialer campaign …`: what a supervisor does with campaigns."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from dialer.app import App
from dialer.campaigns import CampaignSpec, change_state, create_campaign, get_campaign, summary
from dialer.commands.common import open_app, print_json, print_mapping, print_table, user_errors
from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import load_profiles
from dialer.db.models import AuditEntry, Campaign
from dialer.db.session import transaction
from dialer.domain import CampaignMode, CampaignState
from dialer.importing.errors import ImportRejected
from dialer.importing.service import ImportOptions, import_accounts
from dialer.scheduling.campaign_hours import CampaignHours, HoursError, apply_hours, beyond_profile


@click.group("campaign")
def campaign() -> None:
    """Create, import into, start, pause and inspect campaigns."""


@campaign.command("create")
@click.argument("name")
@click.option("--profile", default=None, help="Policy profile: cn (default), us, uk or a custom one.")
@click.option("--mode", type=click.Choice([m.value for m in CampaignMode]), default="predictive",
              show_default=True)
@click.option("--queue", help="Agent queue that takes escalated or agent-staffed calls.")
@click.option("--telephony", type=click.Choice(["ari", "ami"]), default="ari", show_default=True)
@click.option("--language", type=click.Choice(["zh-CN", "en-US"]), default="zh-CN", show_default=True)
@click.option("--caller-id", help="One stable, callable caller ID for the whole campaign.")
@click.option("--channels", "channel_limit", type=click.IntRange(1, 10_000), default=30, show_default=True)
@click.option("--cps", "calls_per_second", type=click.FloatRange(0.1, 500), default=5.0, show_default=True)
@click.option("--max-attempts", type=click.IntRange(1, 1000), help="Attempts per account in this campaign.")
@click.option("--hours", help="Daily hours, e.g. 09:00-20:00 (see `dialer campaign hours`).")
@click.option("--hours-zone", help="IANA zone of --hours (default: the profile's day zone).")
@click.option("--reward-offer", is_flag=True, help="Let the bot offer better terms for paying on time.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def create(ctx: click.Context, name: str, profile: str | None, mode: str, queue: str | None, telephony: str,
           language: str, caller_id: str | None, channel_limit: int, calls_per_second: float,
           max_attempts: int | None, hours: str | None, hours_zone: str | None, reward_offer: bool,
           as_json: bool) -> None:
    """Create a campaign.

    Example: dialer campaign create spring-m1 --profile cn --mode predictive --queue collectors
    """
    with open_app(ctx) as app:
        loaded = load_profiles(app.settings["profile.custom_file"] or None)
        profiles = tuple(loaded)
        chosen = loaded.get(profile or app.settings["profile.default"])
        if hours and hours_zone:
            try:
                CampaignHours.parse(hours, hours_zone)
            except HoursError as error:
                raise click.BadParameter(str(error), param_hint="--hours-zone") from None
        spec = CampaignSpec(
            name=name, profile=profile or app.settings["profile.default"], mode=CampaignMode(mode),
            queue=queue, telephony=telephony, language=language, caller_id=caller_id,
            channel_limit=channel_limit, calls_per_second=calls_per_second,
            max_attempts_per_account=max_attempts, hours=_hours(hours), reward_offer=reward_offer,
            hours_zone=(hours_zone or (chosen.abandonment.day_zone if chosen else None)) if hours else None)
        with transaction(app.sessions) as session:
            created = create_campaign(session, spec, known_profiles=profiles, actor="cli")
            data = summary(session, created)
    if as_json:
        print_json(data)
    else:
        click.echo(f"campaign {name} created ({data['profile']}, {data['mode']}); "
                   f"next: dialer campaign import {name} FILE")


@campaign.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def list_(ctx: click.Context, as_json: bool) -> None:
    """List campaigns with their state and size.

    Example: dialer campaign list --json
    """
    with open_app(ctx) as app, app.sessions() as session:
        rows = [summary(session, c) for c in session.scalars(select(Campaign).order_by(Campaign.name))]
    if as_json:
        print_json(rows)
        return
    print_table("campaigns", ["name", "state", "profile", "mode", "queue", "accounts", "open", "attempts"],
                [(r["name"], r["state"], r["profile"], r["mode"], r["queue"], r["accounts"],
                  r["open_accounts"], r["attempts"]) for r in rows])


@campaign.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def show(ctx: click.Context, name: str, as_json: bool) -> None:
    """Show one campaign's settings and figures.

    Example: dialer campaign show spring-m1 --json
    """
    with open_app(ctx) as app, app.sessions() as session:
        data = summary(session, get_campaign(session, name))
    if as_json:
        print_json(data)
    else:
        print_mapping(f"campaign {name}", data)


@campaign.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML mapping of our field names to the file's column headers (docs/import.md).")
@click.option("--region", default="CN", show_default=True, help="Region for numbers without a + prefix.")
@click.option("--currency", default="CNY", show_default=True, help="Currency when the file has none.")
@click.option("--skip-invalid", is_flag=True, help="Import the good rows; write bad ones to a rejects file.")
@click.option("--rejects", "rejects_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Where --skip-invalid writes rejected rows (default: FILE.rejects.csv).")
@click.option("--workers", type=click.IntRange(1, 64), help="Parser processes for big files (default: all cores on machines with 4 or more, else 1).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def import_(ctx: click.Context, name: str, file: Path, mapping_file: Path | None, region: str, currency: str,
            skip_invalid: bool, rejects_file: Path | None, workers: int | None, as_json: bool) -> None:
    """Import accounts from CSV or XLSX. Atomic: one bad row and nothing is imported.

    Example: dialer campaign import spring-m1 examples/accounts.csv
    """
    options = ImportOptions(region=region.upper(), currency=currency.upper(), mapping_file=mapping_file,
                            skip_invalid=skip_invalid, rejects_file=rejects_file, workers=workers)
    with open_app(ctx) as app:
        try:
            report = import_accounts(app.sessions, campaign_name=name, path=file, options=options,
                                     clock=app.clock)
        except ImportRejected as rejected:
            for error in rejected.errors:
                click.echo(str(error), err=True)
            raise click.ClickException(f"{file}: {rejected}; fix the rows above or use --skip-invalid")
    if as_json:
        print_json(report.as_dict())
        return
    for error in report.errors:
        click.echo(str(error), err=True)
    click.echo(f"{file}: {report.rows} rows: {report.inserted} new, {report.updated} updated, "
               f"{report.rejected} rejected" + (f" (see {report.rejects_file})" if report.rejects_file else ""))


def _state_command(command_name: str, target: CampaignState, doc: str) -> click.Command:
    @click.command(command_name, help=doc)
    @click.argument("name")
    @click.pass_context
    @user_errors
    def command(ctx: click.Context, name: str) -> None:
        with open_app(ctx) as app, transaction(app.sessions) as session:
            changed = change_state(session, name, target, actor="cli")
            # started outside its hours: it waits, paused by the hours, for the next opening
            waiting = apply_hours(session, changed, now=app.clock.now(), fallback_zone=_day_zone(app, changed))
            hours = CampaignHours.of(changed, _day_zone(app, changed))
        if waiting is CampaignState.PAUSED and hours is not None:
            click.echo(f"campaign {name}: waiting for its hours ({hours}); the scheduler starts it at "
                       f"{hours.start:%H:%M} (change them with `dialer campaign hours {name} HH:MM-HH:MM`)")
            return
        click.echo(f"campaign {name}: {target.value} (the daemon applies it within one pacer tick)")

    return command


for _name, _target, _doc in (
    ("start", CampaignState.RUNNING, "Start dialing (the daemon picks it up within one tick).\n\n"
                                     "Example: dialer campaign start spring-m1"),
    ("resume", CampaignState.RUNNING, "Resume a paused campaign.\n\nExample: dialer campaign resume spring-m1"),
    ("pause", CampaignState.PAUSED, "Stop new dials; calls in progress finish.\n\n"
                                    "Example: dialer campaign pause spring-m1"),
    ("stop", CampaignState.STOPPED, "Stop the campaign; calls in progress finish. `start` runs it again.\n\n"
                                    "Example: dialer campaign stop spring-m1"),
):
    campaign.add_command(_state_command(_name, _target, _doc))


@campaign.command("hours")
@click.argument("name")
@click.argument("hours", required=False)
@click.option("--zone", help="IANA zone of the hours (default: the campaign's, else its profile's day zone).")
@click.option("--clear", is_flag=True, help="Remove the hours: the campaign runs whenever it is started.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def hours_(ctx: click.Context, name: str, hours: str | None, zone: str | None, clear: bool, as_json: bool) -> None:
    """Show or set the daily hours a campaign dials: the scheduler resumes it at the start and
    pauses it at the end, every day. The gate still keeps every call inside the profile's window
    in each debtor's own zone.

    Example: dialer campaign hours spring-m1 09:00-20:00 --zone Asia/Shanghai
    """
    if hours and clear:
        raise click.UsageError("give HOURS or --clear, not both")
    note = None
    with open_app(ctx) as app, transaction(app.sessions) as session:
        row = get_campaign(session, name)
        day_zone = _day_zone(app, row)
        if clear:
            row.hours_start = row.hours_end = row.hours_zone = None
            session.add(AuditEntry(actor="cli", kind="campaign_hours", campaign_id=row.id, detail={"hours": None}))
        elif hours:
            try:
                wanted = CampaignHours.parse(hours, zone or row.hours_zone or day_zone)
            except HoursError as error:
                raise click.BadParameter(str(error), param_hint="HOURS") from None
            row.hours_start, row.hours_end = f"{wanted.start:%H:%M}", f"{wanted.end:%H:%M}"
            row.hours_zone = wanted.zone
            session.add(AuditEntry(actor="cli", kind="campaign_hours", campaign_id=row.id,
                                   detail={"hours": str(wanted)}))
            apply_hours(session, row, now=app.clock.now(), fallback_zone=day_zone)
            note = beyond_profile(wanted, _book(app).for_campaign(row).windows, row.profile)
        current = CampaignHours.of(row, day_zone)
        data = {"campaign": name, "state": row.state.value,
                "hours": None if current is None else {"start": f"{current.start:%H:%M}", "end": f"{current.end:%H:%M}",
                                                       "zone": current.zone, "open_now": current.is_open(app.clock.now())}}
    if as_json:
        print_json(data)
    elif current is None:
        click.echo(f"campaign {name}: no hours (runs whenever started); "
                   f"set them with `dialer campaign hours {name} 09:00-20:00`")
    else:
        now_open = "open now" if data["hours"]["open_now"] else "closed now"  # type: ignore[index]
        click.echo(f"campaign {name}: hours {current} ({now_open}; campaign {row.state.value}); the daemon's "
                   "scheduler applies changes within a minute")
    if note and not as_json:
        click.echo(note)


def _book(app: App) -> ProfileBook:
    return ProfileBook(load_profiles(app.settings["profile.custom_file"] or None))


def _day_zone(app: App, row: Campaign) -> str:
    return _book(app).for_campaign(row).abandonment.day_zone


def _hours(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    try:
        parsed = CampaignHours.parse(text, "UTC")
    except HoursError as error:
        raise click.BadParameter(str(error), param_hint="--hours") from None
    return f"{parsed.start:%H:%M}", f"{parsed.end:%H:%M}"
