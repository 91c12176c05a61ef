"""`dialer account paid|show` and `dialer payments import` through click, on a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def dialer(dialer):  # type: ignore[no-untyped-def]
    """The shared runner, with a campaign holding the sample accounts."""
    run = dialer
    run("db", "upgrade")
    run("campaign", "create", "m1", "--mode", "bot_only")
    run("campaign", "import", "m1", str(EXAMPLES / "accounts.csv"))
    return run


def _show(dialer, account_id: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return json.loads(dialer("account", "show", account_id, "--json").output)


def test_given_a_partial_then_a_final_payment_when_recorded_then_the_account_leaves_the_campaign(dialer) -> None:  # type: ignore[no-untyped-def]
    first = json.loads(dialer("account", "paid", "CC-1001", "--amount", "234.50",
                              "--at", "2026-11-21T10:00+08:00", "--json").output)
    assert (first["amount_minor"], first["outstanding_minor"], first["left_campaign"]) == (23450, 100000, False)
    assert _show(dialer, "CC-1001")["account"]["status"] == "open"
    final = dialer("account", "paid", "CC-1001").output
    assert "1,000.00 CNY recorded; paid in full, out of the campaign" in final
    shown = _show(dialer, "CC-1001")
    assert (shown["account"]["status"], shown["account"]["outstanding_minor"]) == ("paid", 0)
    assert [p["amount_minor"] for p in shown["payments"]] == [23450, 100000]
    assert shown["payments"][0]["paid_at"] == "2026-11-21T02:00:00+00:00"
    assert "owes nothing" in dialer("account", "paid", "CC-1001", ok=False).output


def test_given_an_account_when_shown_then_numbers_and_debtor_are_listed_and_unknown_ids_are_named(dialer) -> None:  # type: ignore[no-untyped-def]
    shown = _show(dialer, "CC-1001")
    assert shown["debtor"]["full_name"] == "张伟"
    assert [(c["e164"], c["owner"]) for c in shown["contacts"]] == [
        ("+8613800138001", "debtor"), ("+8613900139001", "third_party")]
    assert shown["attempts"] == [] and shown["promises"] == []
    assert "account 'NOPE' not found" in dialer("account", "show", "NOPE", ok=False).output
    assert "张伟" in dialer("account", "show", "CC-1001").output


def test_given_a_payments_file_when_imported_twice_then_the_second_import_changes_nothing(dialer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "payments.csv"
    file.write_text("account_id,amount,currency,paid_at,external_ref\n"
                    "CC-1002,3580.00,CNY,2026-11-20,BANK-1\n"
                    "CC-1003,100,,2026-11-20T09:30:00+08:00,BANK-2\n", encoding="utf-8")
    first = json.loads(dialer("payments", "import", str(file), "--json").output)
    assert (first["rows"], first["inserted"], first["already_imported"], first["accounts_paid"]) == (2, 2, 0, 1)
    again = json.loads(dialer("payments", "import", str(file), "--json").output)
    assert (again["inserted"], again["already_imported"], again["accounts_paid"]) == (0, 2, 0)
    assert _show(dialer, "CC-1002")["account"]["status"] == "paid"
    partly = _show(dialer, "CC-1003")["account"]
    assert (partly["status"], partly["outstanding_minor"]) == ("open", 78000)


def test_given_a_payments_file_with_bad_rows_when_imported_then_nothing_is_written_and_errors_are_located(dialer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "bad.csv"
    file.write_text("account_id,amount,currency,paid_at,external_ref\n"
                    "CC-1002,3580.00,CNY,2026-11-20,BANK-1\n"
                    "CC-9999,10,CNY,2026-11-20,BANK-2\n"
                    "CC-1003,-5,CNY,2026-11-20,BANK-3\n"
                    "CC-1004,10,USD,2026-11-20,BANK-4\n"
                    "CC-1005,10,CNY,yesterday,BANK-1\n", encoding="utf-8")
    output = dialer("payments", "import", str(file), ok=False).output
    assert "bad.csv:3:account_id: account 'CC-9999' not found" in output
    assert "bad.csv:4:amount: negative amount '-5'" in output
    assert "bad.csv:5:currency: USD but account 'CC-1004' is billed in CNY" in output
    assert "bad.csv:6:external_ref: duplicate 'BANK-1' (first on line 2)" in output
    assert "bad.csv:6:paid_at: not an ISO date or date-time: 'yesterday'" in output
    assert "nothing imported" in output
    assert _show(dialer, "CC-1002")["payments"] == []
    missing = tmp_path / "missing.csv"
    missing.write_text("account_id,amount\nCC-1002,1\n", encoding="utf-8")
    assert "missing.csv:1: missing required column(s): paid_at, external_ref" in \
        dialer("payments", "import", str(missing), ok=False).output
