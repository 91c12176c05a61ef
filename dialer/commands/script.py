"""`dialer script check FILE`: script QA before a script goes live (structure, disclosure before
verification, forbidden phrases, debt words on third-party paths)."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from dialer.bot.lint import check_script


@click.group("script")
def script() -> None:
    """Validate and lint bot dialog scripts."""


@script.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print findings as JSON.")
def check(files: tuple[str, ...], as_json: bool) -> None:
    """Reject scripts with structural errors or forbidden content; exit 1 on any finding.

    Example: dialer script check dialer/bot/scripts/*.yaml
    """
    results = {path: check_script(path) for path in files}
    if as_json:
        click.echo(json.dumps({p: [asdict(f) for f in fs] for p, fs in results.items()}, ensure_ascii=False, indent=2))
    else:
        for path, findings in results.items():
            if not findings:
                click.echo(f"{path}: OK")
            for finding in findings:
                where = f" [{finding.where}]" if finding.where else ""
                phrase = f" «{finding.phrase}»" if finding.phrase else ""
                click.echo(f"{path}{where}: {finding.category}{phrase}: {finding.message}")
    if any(results.values()):
        raise SystemExit(1)
