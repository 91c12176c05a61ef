"""`dialer account …` (one debt: record a payment, show everything) and `dialer payments import`."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from dialer.commands.common import open_app, print_json, print_mapping, print_table, user_errors
from dialer.db.session import transaction
from dialer.importing.errors import ImportRejected
from dialer.money import Money
from dialer.scheduling.account_view import account_details
from dialer.scheduling.payments import PaymentError, import_payments, record_payment


def _actor() -> str:
    return f"cli:{os.environ.get('USER', 'unknown')}"


def _when(text: str | None, now: datetime) -> datetime:
    if text is None:
        return now
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO date or date-time", param_hint="--at") from None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


@click.group("account")
def account() -> None:
    """One account: record a payment, show its calls, promises and texts."""


@account.command("paid")
@click.argument("account_id")
@click.option("--amount", help="Amount paid, e.g. 1234.50 or '¥1,234.50' (default: all that is owed).")
@click.option("--at", "at", metavar="ISO", help="When it was paid (UTC unless an offset is given; default: now).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def paid(ctx: click.Context, account_id: str, amount: str | None, at: str | None, as_json: bool) -> None:
    """Record a payment. Paid in full, the account leaves its campaign (status paid, open
    promises kept).

    \b
    Examples:
      dialer account paid LN-100234                       # paid in full, now
      dialer account paid LN-100234 --amount 500 --at 2026-03-04T10:30+08:00
    """
    with open_app(ctx) as app:
        now = app.clock.now()
        try:
            with transaction(app.sessions) as session:
                result = record_payment(session, account_id, amount=amount, paid_at=_when(at, now),
                                        now=now, actor=_actor())
        except PaymentError as error:
            raise click.ClickException(str(error)) from None
    data = {"account": result.account, "amount_minor": result.amount.minor,
            "currency": result.amount.currency, "outstanding_minor": result.outstanding_minor,
            "left_campaign": result.left_campaign}
    if as_json:
        print_json(data)
        return
    rest = Money(max(0, result.outstanding_minor), result.amount.currency)
    click.echo(f"{result.account}: {result.amount} recorded; "
               + ("paid in full, out of the campaign" if result.left_campaign else f"{rest} still owed"))


@account.command("show")
@click.argument("account_id")
@click.option("--json", "as_json", is_flag=True, help="Everything, transcripts included, as JSON.")
@click.pass_context
@user_errors
def show(ctx: click.Context, account_id: str, as_json: bool) -> None:
    """Balance, stage, numbers, calls, conversations, promises, payments and texts.

    Example: dialer account show LN-100234 --json
    """
    with open_app(ctx) as app, app.sessions() as session:
        try:
            data = account_details(session, account_id)
        except PaymentError as error:
            raise click.ClickException(str(error)) from None
    if as_json:
        print_json(data)
        return
    print_mapping(f"account {data['account']['external_id']}", {
        **data["account"], "debtor": f"{data['debtor']['full_name']} ({data['debtor']['external_id']})"})
    _table("numbers", data["contacts"], ["e164", "owner", "rank", "time_zones", "sms_consent", "suppressed"])
    _table("calls", data["attempts"], ["placed_at", "e164", "outcome", "route", "talk_seconds", "conversation"])
    _table("conversations", data["conversations"], ["attempt_id", "party", "handled_by", "disposition", "intents"])
    _table("promises", data["promises"], ["amount_minor", "currency", "promised_date", "status"])
    _table("payments", data["payments"], ["amount_minor", "currency", "paid_at", "external_ref"])
    _table("texts", data["texts"], ["trigger", "status", "send_after", "sent_at"])


def _table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    if rows:
        print_table(title, columns, [[row[c] for c in columns] for row in rows])


@click.group("payments")
def payments() -> None:
    """Repayments from the lender: they keep promises and take paid accounts out of campaigns."""


@payments.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def import_(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Import a CSV/XLSX of payments: account_id, amount, currency, paid_at, external_ref.

    All rows or none; a second import of the same file changes nothing (external_ref is the key).

    \b
    Example:
      dialer payments import repayments-2026-03-04.csv
    """
    with open_app(ctx) as app:
        try:
            report = import_payments(app.sessions, file, now=app.clock.now(), actor=_actor())
        except ImportRejected as rejected:
            for error in rejected.errors:
                click.echo(str(error), err=True)
            raise click.ClickException(f"{file}: {rejected}") from None
    if as_json:
        print_json(report.as_dict())
    else:
        click.echo(f"{file}: {report.inserted} payment(s) recorded, {report.already} already imported, "
                   f"{report.accounts_paid} account(s) paid in full")
