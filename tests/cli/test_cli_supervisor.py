"""The supervisor's commands end to end through click, on a SQLite file as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_given_a_fresh_database_when_a_supervisor_sets_up_a_campaign_then_show_reports_it(dialer) -> None:  # type: ignore[no-untyped-def]
    assert "run `dialer db upgrade`" in dialer("campaign", "list", ok=False).output
    dialer("db", "upgrade")
    dialer("campaign", "create", "spring-m1", "--profile", "cn", "--mode", "predictive", "--queue", "collectors")
    imported = json.loads(dialer("campaign", "import", "spring-m1", str(EXAMPLES / "accounts.csv"), "--json").output)
    assert (imported["rows"], imported["inserted"]) == (11, 11)
    shown = json.loads(dialer("campaign", "show", "spring-m1", "--json").output)
    assert shown["accounts"] == 11 and shown["queue"] == "collectors" and shown["state"] == "draft"
    assert shown["open_amount_due_minor"]["USD"] == 125000 + 64025 + 248000
    dialer("campaign", "start", "spring-m1")
    dialer("campaign", "pause", "spring-m1")
    listed = json.loads(dialer("campaign", "list", "--json").output)
    assert [(c["name"], c["state"]) for c in listed] == [("spring-m1", "paused")]


def test_given_a_bad_file_when_imported_then_the_exit_is_non_zero_and_errors_are_located(dialer) -> None:  # type: ignore[no-untyped-def]
    dialer("db", "upgrade")
    dialer("campaign", "create", "m1", "--mode", "bot_only")
    result = dialer("campaign", "import", "m1", str(EXAMPLES / "accounts-bad.csv"), ok=False)
    assert "accounts-bad.csv:2:phone: '12345' is not a valid phone number for region CN" in result.output
    assert "nothing imported" in result.output
    assert json.loads(dialer("campaign", "show", "m1", "--json").output)["accounts"] == 0


def test_given_dnc_commands_then_numbers_are_normalised_listed_and_unknown_campaigns_are_named(dialer) -> None:  # type: ignore[no-untyped-def]
    dialer("db", "upgrade")
    dialer("dnc", "add", "13800138000", "--reason", "asked to stop")
    dialer("dnc", "import", str(EXAMPLES / "dnc.csv"))
    listed = json.loads(dialer("dnc", "list", "--json").output)
    assert {e["e164"] for e in listed} == {"+8613800138000", "+8613800138099", "+8613800138098"}
    assert "campaign 'nope' not found" in dialer("dnc", "add", "13800138000", "--campaign", "nope", ok=False).output


def test_given_a_mode_that_needs_agents_without_a_queue_then_create_says_what_to_do(dialer) -> None:  # type: ignore[no-untyped-def]
    dialer("db", "upgrade")
    assert "pass --queue NAME" in dialer("campaign", "create", "m1", "--mode", "predictive", ok=False).output


def test_given_a_state_change_that_is_not_allowed_then_the_error_names_the_commands_that_are(dialer) -> None:  # type: ignore[no-untyped-def]
    dialer("db", "upgrade")
    dialer("campaign", "create", "m1", "--mode", "bot_only")
    dialer("campaign", "start", "m1")
    dialer("campaign", "stop", "m1")
    error = dialer("campaign", "pause", "m1", ok=False).output
    assert "campaign 'm1' is stopped; cannot go to paused (possible now: `dialer campaign start m1`)" in error
