"""`dialer db …`: schema upgrades through Alembic (the only way the schema changes)."""

from __future__ import annotations

import click

from dialer.commands.common import open_app, print_json, user_errors
from dialer.db import migrate


@click.group("db")
def db() -> None:
    """Create or upgrade the database schema (SQLite by default, PostgreSQL via --db-url)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
@user_errors
def upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations. Example: dialer --db-url postgresql+psycopg://u@h/db db upgrade"""
    with open_app(ctx, require_schema=False) as app:
        migrate.upgrade(app.settings.database_url, revision)
        click.echo(f"database at revision {migrate.current_revision(app.engine)}")


@db.command("status")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def status(ctx: click.Context, as_json: bool) -> None:
    """Show the schema revision and whether it is current.

    Example: dialer db status --json
    """
    with open_app(ctx, require_schema=False) as app:
        url = app.settings.database_url
        data = {"current": migrate.current_revision(app.engine), "head": migrate.head_revision(url)}
        data["up_to_date"] = data["current"] == data["head"]
        if as_json:
            print_json(data)
        else:
            click.echo(f"revision {data['current']} (head {data['head']})"
                       + ("" if data["up_to_date"] else ": run `dialer db upgrade`"))
