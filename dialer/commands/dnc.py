"""`dialer dnc …`: the do-not-call lists (global, or per campaign). Checked by the gate at dial time."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import delete, select

from dialer.campaigns import get_campaign
from dialer.commands.common import open_app, print_json, print_table, user_errors
from dialer.db.models import AuditEntry, DncEntry
from dialer.db.session import transaction
from dialer.importing.errors import FileProblem, ImportRejected
from dialer.importing.phones import PhoneError, normalise
from dialer.importing.service import ImportOptions, import_dnc


@click.group("dnc")
def dnc() -> None:
    """Do-not-call lists: add, remove, import, list, check."""


def _e164(number: str, region: str) -> str:
    try:
        return normalise(number, region=region).e164
    except PhoneError as exc:
        raise FileProblem(str(exc)) from None


@dnc.command("add")
@click.argument("number")
@click.option("--reason", help="Why (kept in the audit log).")
@click.option("--campaign", "campaign_name", help="Only this campaign's list (default: global).")
@click.option("--region", default="CN", show_default=True)
@click.pass_context
@user_errors
def add(ctx: click.Context, number: str, reason: str | None, campaign_name: str | None, region: str) -> None:
    """Add a number. Example: dialer dnc add +8613800138000 --reason "asked to stop" """
    e164 = _e164(number, region)
    with open_app(ctx) as app, transaction(app.sessions) as session:
        campaign_id = get_campaign(session, campaign_name).id if campaign_name else None
        exists = session.scalar(select(DncEntry.id).where(
            DncEntry.e164 == e164,
            DncEntry.campaign_id.is_(None) if campaign_id is None else DncEntry.campaign_id == campaign_id))
        if exists is None:
            session.add(DncEntry(e164=e164, campaign_id=campaign_id, reason=reason, source="cli",
                                 created_at=app.clock.now()))
            session.add(AuditEntry(actor="cli", kind="dnc_add", campaign_id=campaign_id,
                                   detail={"e164": e164, "reason": reason}))
    click.echo(f"{e164} on the {'campaign' if campaign_name else 'global'} do-not-call list")


@dnc.command("remove")
@click.argument("number")
@click.option("--campaign", "campaign_name")
@click.option("--region", default="CN", show_default=True)
@click.option("--reason", required=True, help="Why the number may be called again (audited).")
@click.pass_context
@user_errors
def remove(ctx: click.Context, number: str, campaign_name: str | None, region: str, reason: str) -> None:
    """Remove a number (audited).

    Example: dialer dnc remove 13800138000 --reason "added by mistake"
    """
    e164 = _e164(number, region)
    with open_app(ctx) as app, transaction(app.sessions) as session:
        campaign_id = get_campaign(session, campaign_name).id if campaign_name else None
        session.execute(delete(DncEntry).where(
            DncEntry.e164 == e164,
            DncEntry.campaign_id.is_(None) if campaign_id is None else DncEntry.campaign_id == campaign_id))
        session.add(AuditEntry(actor="cli", kind="dnc_remove", campaign_id=campaign_id,
                               detail={"e164": e164, "reason": reason}))
    click.echo(f"{e164} removed")


@dnc.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--campaign", "campaign_name")
@click.option("--region", default="CN", show_default=True)
@click.option("--skip-invalid", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def import_(ctx: click.Context, file: Path, campaign_name: str | None, region: str, skip_invalid: bool,
            as_json: bool) -> None:
    """Import numbers from CSV/XLSX (columns: phone, reason). Example: dialer dnc import dnc.csv"""
    with open_app(ctx) as app:
        try:
            report = import_dnc(app.sessions, path=file, campaign_name=campaign_name,
                                options=ImportOptions(region=region.upper(), skip_invalid=skip_invalid),
                                clock=app.clock)
        except ImportRejected as rejected:
            for error in rejected.errors:
                click.echo(str(error), err=True)
            raise click.ClickException(f"{file}: {rejected}")
    if as_json:
        print_json(report.as_dict())
    else:
        click.echo(f"{file}: {report.inserted} added, {report.updated} already listed, {report.rejected} rejected")


@dnc.command("list")
@click.option("--campaign", "campaign_name")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def list_(ctx: click.Context, campaign_name: str | None, as_json: bool) -> None:
    """List entries (global by default).

    Example: dialer dnc list --campaign spring-m1 --json
    """
    with open_app(ctx) as app, app.sessions() as session:
        campaign_id = get_campaign(session, campaign_name).id if campaign_name else None
        entries = session.scalars(select(DncEntry).where(
            DncEntry.campaign_id.is_(None) if campaign_id is None else DncEntry.campaign_id == campaign_id)
            .order_by(DncEntry.created_at)).all()
        rows = [{"e164": e.e164, "reason": e.reason, "source": e.source, "created_at": e.created_at}
                for e in entries]
    if as_json:
        print_json(rows)
    else:
        print_table("do-not-call", ["number", "reason", "source", "added"],
                    [(r["e164"], r["reason"], r["source"], r["created_at"]) for r in rows])
