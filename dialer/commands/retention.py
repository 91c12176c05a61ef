"""`dialer retention run`: delete recordings and personal data past the profiles' retention."""

from __future__ import annotations

from pathlib import Path

import click

from dialer.commands.common import open_app, print_json, print_mapping, user_errors
from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import load_profiles
from dialer.exports import export_actor
from dialer.retention import run_retention


@click.group("retention")
def retention() -> None:
    """Retention of recordings and personal data (per policy profile)."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; change nothing.")
@click.option("--recordings-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where Asterisk writes recordings (default: setting recordings.dir).")
@click.option("--actor", help="Who runs it, for the audit log (default: the OS user).")
@click.option("--json", "as_json", is_flag=True, help="The counts as one JSON object.")
@click.pass_context
@user_errors
def retention_run(ctx: click.Context, dry_run: bool, recordings_dir: Path | None, actor: str | None,
                  as_json: bool) -> None:
    """Delete recordings and erase personal data of closed accounts past their profile's retention
    period; attempt, audit and DNC rows stay (anonymised). Also runs daily inside `dialer run`.

    Example: dialer retention run --dry-run --json
    """
    with open_app(ctx) as app:
        settings = app.settings
        profiles = load_profiles(settings["profile.custom_file"] or None)
        book = ProfileBook(profiles)
        directory = recordings_dir or Path(settings["recordings.dir"])
        report = run_retention(app.sessions, now=app.clock.now(), profile_for=book.for_campaign,
                               default_profile=profiles[settings["profile.default"]],
                               recordings_dir=directory, actor=export_actor(actor), dry_run=dry_run)
    data = report.as_dict()
    if as_json:
        print_json(data)
    else:
        print_mapping("retention (dry run)" if dry_run else "retention", data)
