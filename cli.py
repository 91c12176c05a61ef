"""The `dialer` command: a thin click shell over the services in `dialer/`.

Each concern registers one command group from `dialer/commands/`; the commands convert
arguments, call one service and print the result (as a table, or JSON with --json).
"""

from __future__ import annotations

import click

from dialer import __version__
from dialer.commands.agent import agent
from dialer.commands.campaign import campaign
from dialer.commands.db import db
from dialer.commands.dnc import dnc
from dialer.commands.report import compliance, report
from dialer.commands.run import run, status
from dialer.commands.simulate import simulate
from dialer.commands.strategy import strategy
from dialer.commands.agi import agi_server
from dialer.commands.script import script
from dialer.commands.account import account, payments
from dialer.commands.top import top
from dialer.commands.retention import retention


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dialer")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="DIALER_CONFIG",
              help="Settings file (YAML). Default: ./dialer.yaml if present.")
@click.option("--db-url", help="Database URL (or DIALER_DATABASE_URL); default: SQLite file var/dialer.sqlite3.")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, db_url: str | None) -> None:
    """Compliance-first predictive dialer and collection voice robot for Asterisk."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["db_url"] = db_url


main.add_command(db)
main.add_command(campaign)
main.add_command(agent)
main.add_command(dnc)
main.add_command(run)
main.add_command(status)
main.add_command(report)
main.add_command(compliance)
main.add_command(simulate)
main.add_command(strategy)
main.add_command(script)
main.add_command(agi_server)
main.add_command(account)
main.add_command(payments)
main.add_command(top)
main.add_command(retention)

if __name__ == "__main__":  # pragma: no cover
    main()
