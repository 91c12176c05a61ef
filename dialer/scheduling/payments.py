"""Repayments: recorded one at a time (`dialer account paid`) or imported from the lender's file
(`dialer payments import`). An account paid in full leaves its campaign at once: status `paid`,
its open promises kept; the daily advance and the SMS outbox see it and stop."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialer.db.models import Account, AuditEntry, ImportBatch, Payment, PromiseToPay
from dialer.db.session import transaction
from dialer.domain import PromiseStatus
from dialer.importing.errors import FileProblem, ImportRejected, RowError
from dialer.importing.reader import open_table
from dialer.money import Money, MoneyError, parse_amount

COLUMNS = ("account_id", "amount", "currency", "paid_at", "external_ref")
REQUIRED = ("account_id", "amount", "paid_at", "external_ref")


class PaymentError(ValueError):
    """A payment that cannot be recorded; the message says what to fix."""


@dataclass(frozen=True)
class PaymentRecorded:
    account: str
    amount: Money
    outstanding_minor: int
    left_campaign: bool


def find_account(session: Session, reference: str) -> Account:
    """By the lender's account id (as imported); `#123` is our row id."""
    if reference.startswith("#") and reference[1:].isdigit():
        account = session.get(Account, int(reference[1:]))
    else:
        account = session.scalar(select(Account).where(Account.external_id == reference))
    if account is None:
        raise PaymentError(f"account {reference!r} not found (use the lender's account id, "
                           "as in the import file, or #ROW_ID)")
    return account


def outstanding(session: Session, account: Account) -> int:
    paid = session.scalar(select(func.coalesce(func.sum(Payment.amount_minor), 0))
                          .where(Payment.account_id == account.id)) or 0
    return account.amount_due_minor - int(paid)


def record_payment(session: Session, reference: str, *, amount: str | None, paid_at: datetime,
                   now: datetime, actor: str) -> PaymentRecorded:
    """Record one payment; without `amount`, the whole outstanding balance (paid in full)."""
    account = find_account(session, reference)
    owed = outstanding(session, account)
    if amount is None:
        if owed <= 0:
            raise PaymentError(f"account {reference!r} owes nothing; pass --amount to record more")
        money = Money(owed, account.currency)
    else:
        money = _amount(amount, account.currency)
    if paid_at > now:
        raise PaymentError(f"paid at {paid_at.isoformat()} is in the future")
    session.add(Payment(account_id=account.id, amount_minor=money.minor, currency=money.currency,
                        paid_at=paid_at))
    session.add(AuditEntry(at=now, actor=actor, kind="payment", campaign_id=account.campaign_id,
                           account_id=account.id,
                           detail={"amount_minor": money.minor, "currency": money.currency,
                                   "paid_at": paid_at.isoformat()}))
    left = settle(session, [account], now=now, actor=actor)
    return PaymentRecorded(account.external_id, money, owed - money.minor, bool(left))


def settle(session: Session, accounts: Iterable[Account], *, now: datetime, actor: str) -> list[int]:
    """Accounts whose payments cover the debt leave the campaign; returns their ids."""
    session.flush()
    left = []
    for account in accounts:
        if account.status == "paid" or outstanding(session, account) > 0:
            continue
        previous = account.status
        account.status, account.paid_at = "paid", now
        open_promises = list(session.scalars(select(PromiseToPay).where(
            PromiseToPay.account_id == account.id, PromiseToPay.status == PromiseStatus.OPEN)))
        for promise in open_promises:
            promise.status, promise.resolved_at = PromiseStatus.KEPT, now
        kept = len(open_promises)
        session.add(AuditEntry(at=now, actor=actor, kind="account_paid", campaign_id=account.campaign_id,
                               account_id=account.id,
                               detail={"from": previous, "stage": account.stage, "promises_kept": kept}))
        left.append(account.id)
    return left


@dataclass
class PaymentImport:
    file: str
    rows: int = 0
    inserted: int = 0
    already: int = 0               # same external_ref imported before: skipped (idempotent)
    accounts_paid: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "rows": self.rows, "inserted": self.inserted,
                "already_imported": self.already, "accounts_paid": self.accounts_paid}


def import_payments(sessions: sessionmaker[Session], path: Path, *, now: datetime,
                    actor: str) -> PaymentImport:
    """All rows or none: any bad row rejects the file with file:line:column errors."""
    report = PaymentImport(file=str(path))
    with transaction(sessions) as session:
        rows: list[tuple[int, Account, Money, datetime, str]] = []
        seen: dict[str, int] = {}
        with open_table(path) as (header, table):
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise FileProblem(f"{path}:1: missing required column(s): {', '.join(missing)} "
                                  f"(columns: {', '.join(COLUMNS)})")
            for line, raw in table:
                report.rows += 1
                parsed = _parse_row(session, path.name, line, raw, seen, now, report.errors)
                if parsed is not None:
                    rows.append(parsed)
        if report.errors:
            bad = len({e.line for e in report.errors})
            raise ImportRejected(report.errors, bad_rows=bad, rows=report.rows)
        known = _known_refs(session, [r[4] for r in rows])
        touched: dict[int, Account] = {}
        for line, account, money, paid_at, ref in rows:
            if ref in known:
                previous = known[ref]
                if (previous.account_id, previous.amount_minor) != (account.id, money.minor):
                    report.errors.append(RowError(path.name, line, "external_ref",
                                                  f"{ref!r} was imported before for another "
                                                  "account or amount"))
                report.already += 1
                continue
            session.add(Payment(account_id=account.id, external_ref=ref, amount_minor=money.minor,
                                currency=money.currency, paid_at=paid_at))
            touched[account.id] = account
            report.inserted += 1
        if report.errors:
            raise ImportRejected(report.errors, bad_rows=len(report.errors), rows=report.rows)
        report.accounts_paid = len(settle(session, touched.values(), now=now, actor=actor))
        session.add(ImportBatch(kind="payments", file_name=path.name, rows=report.rows,
                                inserted=report.inserted, updated=0, rejected=0, started_at=now,
                                finished_at=now))
        session.add(AuditEntry(at=now, actor=actor, kind="payments_import",
                               detail={"file": path.name, **report.as_dict()}))
    return report


def _parse_row(session: Session, file: str, line: int, raw: dict[str, str], seen: dict[str, int],
               now: datetime, errors: list[RowError]) -> tuple[int, Account, Money, datetime, str] | None:
    before = len(errors)

    def fail(column: str, reason: str) -> None:
        errors.append(RowError(file, line, column, reason))

    reference = raw.get("account_id", "")
    account = session.scalar(select(Account).where(Account.external_id == reference)) if reference else None
    if account is None:
        fail("account_id", f"account {reference!r} not found" if reference else "required")
    ref = raw.get("external_ref", "")
    if not ref:
        fail("external_ref", "required (it makes a second import of the same file harmless)")
    elif ref in seen:
        fail("external_ref", f"duplicate {ref!r} (first on line {seen[ref]})")
    else:
        seen[ref] = line
    paid_at = _instant(raw.get("paid_at", ""), fail, now)
    money = None
    if account is not None:
        currency = raw.get("currency", "").upper() or account.currency
        if currency != account.currency:
            fail("currency", f"{currency} but account {reference!r} is billed in {account.currency}")
        else:
            try:
                money = _amount(raw.get("amount", ""), currency)
            except PaymentError as error:
                fail("amount", str(error))
    if len(errors) > before or account is None or money is None or paid_at is None:
        return None
    return line, account, money, paid_at, ref


def _amount(text: str, currency: str) -> Money:
    try:
        money = parse_amount(text, default_currency=currency)
    except MoneyError as error:
        raise PaymentError(str(error)) from None
    if money.currency != currency:
        raise PaymentError(f"amount in {money.currency}, but the account is billed in {currency}")
    if money.minor <= 0:
        raise PaymentError(f"amount must be greater than zero, got {text!r}")
    return money


def _instant(text: str, fail: Callable[[str, str], None], now: datetime) -> datetime | None:
    """ISO date (taken as 00:00 UTC: bank files date payments) or date-time (UTC unless offset)."""
    if not text:
        fail("paid_at", "required (ISO date or date-time)")
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail("paid_at", f"not an ISO date or date-time: {text!r}")
        return None
    if len(text) == 10:
        value = datetime.combine(value.date(), time(0))
    value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if value > now:
        fail("paid_at", f"{text} is in the future")
        return None
    return value.astimezone(timezone.utc)


def _known_refs(session: Session, refs: list[str]) -> dict[str, Payment]:
    if not refs:
        return {}
    return {p.external_ref: p for p in session.scalars(select(Payment).where(Payment.external_ref.in_(refs)))
            if p.external_ref is not None}
