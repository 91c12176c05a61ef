"""`dialer report C --html` opened in headless Chromium: no console error, no failed load, no
request beyond the file itself (the report must work offline and leak nothing), and every chart
actually drawn. The screenshot is kept in the test's directory (path printed; `pytest -s`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from dialer.db import migrate
from dialer.db.session import make_engine, make_sessionmaker
from tests.reports.browser import chromium, find_chromium
from tests.reports.history import seed

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHARTS = ["hourly-volume", "connect-rate", "outcome-mix", "funnel", "denials"]

# Per chart: how many bars, and the widest bar's drawn size in CSS pixels.
DRAWN = """
Array.from(document.querySelectorAll('section')).map(s => {
  const rects = Array.from(s.querySelectorAll('svg rect')).map(r => r.getBoundingClientRect());
  return {id: s.id, bars: rects.length,
          widest: Math.max(0, ...rects.map(r => r.width)), tallest: Math.max(0, ...rects.map(r => r.height)),
          labels: Array.from(s.querySelectorAll('svg text')).map(t => t.textContent)};
})
"""


@pytest.fixture
def database(tmp_path: Path) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp_path / 'report.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine)  # type: ignore[misc]
    engine.dispose()


async def test_given_a_known_day_when_the_html_report_opens_in_chromium_then_it_is_clean_and_every_chart_is_drawn(
        database: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert CHROMIUM is not None
    seed(database)
    monkeypatch.setenv("DIALER_DATABASE_URL", str(database.kw["bind"].url))
    monkeypatch.setenv("DIALER_DATA_DIR", str(tmp_path / "var"))
    report = tmp_path / "m1.html"
    result = CliRunner().invoke(main, ["report", "m1", "--from", "2026-11-16", "--to", "2026-11-17",
                                       "--html", str(report)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert report.stat().st_mode & 0o777 == 0o600

    async with chromium(CHROMIUM, tmp_path / "chromium-profile") as page:
        await page.open(report)
        charts = await page.evaluate(DRAWN)
        cards = await page.evaluate("Array.from(document.querySelectorAll('.card span')).map(s => s.textContent)")
        shot = await page.screenshot(tmp_path / "report.png")
    print(f"\nscreenshot: {shot}")

    assert page.log.errors == []
    assert page.log.requests == [report.resolve().as_uri()]   # nothing but the file itself
    drawn = {c["id"]: c for c in charts}
    assert list(drawn) == CHARTS
    for chart in drawn.values():
        assert chart["bars"] > 0 and chart["widest"] > 10 and chart["tallest"] > 5, chart
    # the charts draw the day's figures (tests/reports/history.py): two hours, 4 then 3 dials
    assert drawn["hourly-volume"]["labels"] == ["11-16 10:00", "4", "11-16 11:00", "3"]
    assert drawn["connect-rate"]["labels"] == ["11-16 10:00", "50%", "11-16 11:00", "100%"]
    assert drawn["denials"]["labels"] == ["outside_window", "4"]
    assert {"Calls placed", "Connect rate", "RPC rate", "AI talk time", "Promise rate", "Promised",
            "Kept promises", "Recovery rate", "Abandonment", "Agent occupancy", "Gate denials"} <= set(cards)
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_given_a_page_with_a_script_error_and_a_remote_font_then_the_browser_check_catches_both(
        tmp_path: Path) -> None:
    """The harness itself: a broken page must not pass (the request goes to a closed local port)."""
    assert CHROMIUM is not None
    page_file = tmp_path / "broken.html"
    page_file.write_text("<!doctype html><link rel=stylesheet href='http://127.0.0.1:9/x.css'>"
                         "<script>console.error('boom'); undefined_function();</script>", encoding="utf-8")
    async with chromium(CHROMIUM, tmp_path / "chromium-profile") as page:
        await page.open(page_file)
    assert any("boom" in e for e in page.log.errors)
    assert any("undefined_function" in e or "Uncaught" in e for e in page.log.errors)
    assert any(e.startswith("load failed") for e in page.log.errors)
    assert "http://127.0.0.1:9/x.css" in page.log.requests


@pytest.mark.slow
async def test_given_a_three_day_simulated_campaign_when_its_report_opens_in_chromium_then_every_figure_is_there(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's "done when": a supervisor dry-runs a multi-day campaign in the simulator and
    reads the figures in the report."""
    assert CHROMIUM is not None
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'source.sqlite3'}")
    monkeypatch.setenv("DIALER_DATA_DIR", str(tmp_path / "var"))
    sim = tmp_path / "sim.sqlite3"
    for args in (["db", "upgrade"], ["campaign", "create", "m1", "--mode", "bot_only"],
                 ["campaign", "import", "m1", str(EXAMPLES / "accounts.csv")],
                 ["simulate", "campaign", "m1", "--days", "3", "--out", str(sim), "--json"],
                 ["--db-url", f"sqlite:///{sim}", "report", "m1", "--html", str(tmp_path / "sim.html")]):
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
    async with chromium(CHROMIUM, tmp_path / "chromium-profile") as page:
        await page.open(tmp_path / "sim.html")
        charts = await page.evaluate(DRAWN)
        cards = await page.evaluate("Object.fromEntries(Array.from(document.querySelectorAll('.card'))"
                                    ".map(c => [c.querySelector('span').textContent, c.querySelector('b').textContent]))")
        shot = await page.screenshot(tmp_path / "sim.png")
    print(f"\nscreenshot: {shot}")
    assert page.log.errors == []
    assert all(chart["bars"] > 0 for chart in charts), charts
    assert next(c for c in charts if c["id"] == "hourly-volume")["bars"] > 3   # several hours over the days
    assert int(cards["Calls placed"]) > 10 and cards["Connect rate"].endswith("%") and cards["Promises"] != "0"
