"""`dialer strategy …`: check a campaign's strategy and preview its SMS texts before going live."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from dialer.campaigns import get_campaign
from dialer.commands.common import open_app, print_json, print_table, user_errors
from dialer.money import Money
from dialer.sms.templates import LANGUAGES, BillFacts, default_catalog, message_parts, render
from dialer.strategy.config import StrategyConfigError, load_strategy, load_strategy_yaml
from dialer.strategy.stages import StagePlan


@click.group("strategy")
def strategy() -> None:
    """Collection stages, disposition rules and SMS texts."""


@strategy.command("show")
@click.argument("file", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", "campaign_name", help="Show the strategy stored on this campaign.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of tables.")
@click.pass_context
@user_errors
def show(ctx: click.Context, file: Path | None, campaign_name: str | None, as_json: bool) -> None:
    """Validate a strategy and print its stages and disposition rules.

    \b
    Examples:
      dialer strategy show                      # the default ladder (1-3, 4-5, 6-8, 9+ dpd)
      dialer strategy show my-strategy.yaml     # check a file before attaching it to a campaign
      dialer strategy show --campaign m1 --json
    """
    known_sms = default_catalog().names
    try:
        if file is not None:
            plan = load_strategy_yaml(file.read_text(encoding="utf-8"), known_sms=known_sms)
        elif campaign_name is not None:
            with open_app(ctx) as app, app.sessions() as session:
                stored = get_campaign(session, campaign_name).strategy or {}
            plan = load_strategy(stored, known_sms=known_sms)
        else:
            plan = load_strategy({}, known_sms=known_sms)
    except StrategyConfigError as error:
        raise click.ClickException(f"strategy not valid: {error}") from None
    data = _describe(plan)
    if as_json:
        print_json(data)
        return
    print_table("Stages", ["stage", "dpd", "amount (minor)", "script", "taken by", "voices", "SMS"],
                [[s["name"], s["dpd"], s["amount_minor"], s["script"], s["handler"],
                  ", ".join(s["voices"]), ", ".join(s["sms"])] for s in data["stages"]])
    for stage in data["stages"]:
        print_table(f"Disposition rules: {stage['name']} (at most "
                    f"{stage['max_attempts_in_stage']} calls in the stage)",
                    ["disposition", "retry after (min)", "max", "when exhausted", "effect"],
                    [[name, r["retry_after_minutes"], r["max_attempts"], r["when_exhausted"],
                      r["effect"]] for name, r in stage["retry"].items()])


@strategy.command("sms-preview")
@click.option("--language", type=click.Choice(LANGUAGES), help="Only this language.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
@user_errors
def sms_preview(language: str | None, as_json: bool) -> None:
    """Render every SMS template with sample figures, with its part count and lint findings.

    \b
    Example:
      dialer strategy sms-preview --language zh-CN
    """
    from dialer.bot.lint import find_forbidden

    catalog = default_catalog()
    rows: list[dict[str, Any]] = []
    for (name, lang), template in sorted(catalog.templates.items()):
        if language is not None and lang != language:
            continue
        text = render(template, _sample_facts(lang))
        rows.append({"template": name, "language": lang, "parts": message_parts(text),
                     "text": text,
                     "lint": [f"{f.category}: {f.phrase}" for f in find_forbidden(text, lang)]})
    if as_json:
        print_json({"templates": rows})
        return
    for row in rows:
        click.echo(f"{row['template']} [{row['language']}, {row['parts']} part(s)]")
        click.echo(f"  {row['text']}")
        for finding in row["lint"]:
            click.echo(f"  LINT {finding}")


def _sample_facts(language: str) -> BillFacts:
    if language == "zh-CN":
        return BillFacts(creditor="示例银行", account_tail="1234", amount_due=Money(123_450, "CNY"),
                         minimum_payment=Money(12_345, "CNY"), dpd=5, due_date=date(2026, 3, 1),
                         pay_how="示例银行App或网点柜台", contact_phone="95500")
    return BillFacts(creditor="Example Bank", account_tail="1234",
                     amount_due=Money(123_450, "USD"), minimum_payment=Money(2_500, "USD"), dpd=5,
                     due_date=date(2026, 3, 1), pay_how="the Example Bank app",
                     contact_phone="1-800-555-0100")


def _describe(plan: StagePlan) -> dict[str, Any]:
    stages = []
    for stage in plan.stages:
        rules = {}
        for disposition, rule in stage.retry.by_disposition.items():
            effects = [word for word, on in (("handoff", rule.handoff), ("close", rule.close))
                       if on]
            effects += [f"{label} {value}" for label, value in
                        (("stage", rule.move_to_stage), ("campaign", rule.move_to_campaign),
                         ("sms", rule.sms)) if value]
            rules[disposition.value] = {
                "retry_after_minutes": rule.retry_after_minutes,
                "max_attempts": rule.max_attempts,
                "when_exhausted": rule.when_exhausted.value,
                "effect": ", ".join(effects)}
        upper = "" if stage.max_dpd is None else str(stage.max_dpd)
        amount_upper = "" if stage.max_amount_minor is None else str(stage.max_amount_minor)
        stages.append({
            "name": stage.name, "dpd": f"{stage.min_dpd}-{upper}",
            "amount_minor": f"{stage.min_amount_minor}-{amount_upper}",
            "script": stage.script, "handler": stage.handler.value,
            "voices": list(stage.voice.voices), "alternate_voice": stage.voice.alternate_on_redial,
            "sms": list(stage.sms_triggers),
            "max_attempts_in_stage": stage.retry.max_attempts_in_stage, "retry": rules})
    return {"broken_promise_script": plan.broken_promise_script, "stages": stages}
