"""`dialer simulate campaign` as a supervisor runs it, then `dialer report` on the scratch file."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures.cli import DialerRun
from tests.sim_campaign.conftest import source_campaign

def test_given_a_campaign_when_simulated_from_the_cli_then_the_report_reads_every_figure(
        dialer: DialerRun, tmp_path: Path) -> None:
    source_campaign(f"sqlite:///{tmp_path / 'dialer.sqlite3'}", accounts=15)

    sim = json.loads(dialer("simulate", "campaign", "m1", "--days", "1", "--channels", "1", "--json").output)
    scratch = tmp_path / "var" / "sim" / "m1.sqlite3"
    report = json.loads(dialer("--db-url", f"sqlite:///{scratch}", "report", "m1", "--json").output)
    dialer("--db-url", f"sqlite:///{scratch}", "report", "m1", "--html", str(tmp_path / "m1.html"))

    assert sim["db_url"] == f"sqlite:///{scratch}" and sim["order"] == "priority" and sim["violations"] == 0
    assert report["calls_placed"] == sim["dials"] > 0
    assert report["live_answers"] == sim["connects"]
    assert report["right_party_contacts"] == sim["accounts_reached"]
    assert report["promises"] == sim["promises"]
    assert sum(report["promised_minor"].values()) == sim["promised_minor"]
    assert sum(report["recovered_minor"].values()) == sim["recovered_minor"]
    page = (tmp_path / "m1.html").read_text(encoding="utf-8")
    assert "Connect rate by hour" in page and "Funnel" in page


def test_given_the_shift_scenario_form_then_it_still_runs(dialer: DialerRun) -> None:
    scenario = Path(__file__).parents[2] / "dialer" / "sim" / "scenarios" / "bot_only.yaml"

    metrics = json.loads(dialer("simulate", "--scenario", str(scenario), "--pacer", "bot_only", "--json").output)

    assert "abandonment" in metrics


def test_given_neither_a_scenario_nor_a_campaign_then_the_usage_says_what_to_pass(dialer: DialerRun) -> None:
    result = dialer("simulate", ok=False)

    assert "pass --scenario FILE and --pacer NAME, or use `dialer simulate campaign NAME`" in result.output


def test_given_an_unknown_campaign_then_one_clear_line(dialer: DialerRun, tmp_path: Path) -> None:
    source_campaign(f"sqlite:///{tmp_path / 'dialer.sqlite3'}", accounts=2)

    result = dialer("simulate", "campaign", "nope", ok=False)

    assert "campaign 'nope' not found in the source database (known: m1)" in result.output
