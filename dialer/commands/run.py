"""`dialer run` (the pacing daemon) and `dialer status` (health per component)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict

import click
from sqlalchemy import text

from dialer.commands.common import open_app, print_json, print_table, user_errors
from dialer.daemon.compose import build_daemon, status_path
from dialer.logging_setup import configure_logging
from dialer.telephony.interface import AsteriskError


@click.command("run")
@click.option("--telephony", "backend", type=click.Choice(["ari", "ami"]), help="Override telephony.backend.")
@click.option("--campaign", "campaigns", multiple=True, help="Only these campaigns (default: all running).")
@click.option("--exit-when-idle", type=click.FloatRange(min=1), metavar="SECONDS",
              help="Stop once nothing was dialled and no call was up for this long (demos, batch runs).")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON on exit.")
@click.pass_context
@user_errors
def run(ctx: click.Context, backend: str | None, campaigns: tuple[str, ...], exit_when_idle: float | None,
        as_json: bool) -> None:
    """Run the pacing daemon: hopper → compliance gate → pacer → originate, until SIGTERM.

    Example: DIALER_ARI_PASSWORD=... dialer run --campaign spring-m1
    """
    with open_app(ctx) as app:
        configure_logging(mask_pii=app.settings["log.mask_pii"], json_lines=app.settings["log.format"] == "json")
        daemon = build_daemon(app, backend=backend, campaigns=campaigns, exit_when_idle_s=exit_when_idle)
        try:
            summary = asyncio.run(daemon.run())
        except AsteriskError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        print_json(asdict(summary))
    else:
        click.echo(f"placed {summary.placed} call(s), {summary.ended} ended, {summary.denied} gate denial(s); "
                   f"outcomes {summary.outcomes}")


@click.command("status")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def status(ctx: click.Context, as_json: bool) -> None:
    """Health per component (database, daemon, telephony) and live campaign figures.

    Example: dialer status --json
    """
    with open_app(ctx, require_schema=False) as app:
        components = []
        try:
            with app.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            components.append({"component": "database", "healthy": True, "detail": app.engine.dialect.name})
        except Exception as exc:  # any driver error means "unhealthy": report it, don't crash
            components.append({"component": "database", "healthy": False, "detail": str(exc)[:200]})
        path = status_path(app)
        daemon = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        if daemon is None:
            components.append({"component": "daemon", "healthy": False, "detail": "never ran here"})
        else:
            components.append({"component": "daemon", "healthy": not daemon["stopped"],
                               "detail": f"{'stopped' if daemon['stopped'] else 'running'} at {daemon['at']}, "
                                         f"{daemon['in_flight']} call(s) in flight"})
            components.append({"component": f"telephony ({daemon['telephony']['component']})", **{
                k: daemon["telephony"][k] for k in ("healthy", "detail")}})
            if daemon.get("agent_feed"):
                feed = daemon["agent_feed"]
                components.append({"component": "agent states (ami)", "healthy": feed["healthy"],
                                   "detail": feed["detail"]})
            # Faults the daemon rides out but an operator must see (docs/operations.md).
            if "database" in daemon:
                waiting = daemon["database"]["unwritten"]
                components.append({"component": "attempt writes", "healthy": waiting == 0,
                                   "detail": f"{waiting} waiting for the database; "
                                             f"{daemon['database']['write_failures']} tries failed since start"})
            if "recordings" in daemon:
                failures = daemon["recordings"]["failures"]
                components.append({"component": "recordings", "healthy": failures == 0,
                                   "detail": f"{failures} missing or truncated since start "
                                             "(audit log: recording_failed)"})
    if as_json:
        print_json({"components": components, "daemon": daemon})
        return
    print_table("health", ["component", "healthy", "detail"],
                [(c["component"], "yes" if c["healthy"] else "NO", c["detail"]) for c in components])
    if daemon:
        columns = ["campaign", "state", "in flight", "wanted", "placed", "denied"]
        rows = [[c["campaign"], c["state"], c["in_flight"], c["wanted"], c["placed"], c["denied"]]
                for c in daemon["campaigns"]]
        # Scaled out (docs/scale-out.md): say which node paces each campaign; a single daemon has no owner.
        if any(c.get("owner") for c in daemon["campaigns"]):
            columns.append("pacing owner")
            for row, c in zip(rows, daemon["campaigns"]):
                row.append(c.get("owner") or "-")
        print_table("campaigns (last tick)", columns, rows)
