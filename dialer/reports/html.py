"""The HTML report: one self-contained page with inline SVG charts.

No script and no external resource (font, stylesheet, image, CDN library): the file is opened on
supervisors' machines that may have no internet, and it carries figures derived from personal
data that must not leak through a third-party request. tests/reports/test_html_in_browser.py
renders it in headless Chromium and fails on any console error or network request.
"""

from __future__ import annotations

import html
from typing import Any

from dialer.money import Money

_STYLE = ("body{font-family:sans-serif;margin:2em;color:#222}.cards{display:flex;flex-wrap:wrap;gap:1em}"
          ".card{border:1px solid #ccc;border-radius:6px;padding:.8em 1.2em;min-width:8em}"
          ".card b{display:block;font-size:1.6em}.card span{color:#666}svg text{font-size:12px}"
          "section{margin-top:1.5em}")


def render(kpis: dict[str, Any]) -> str:
    e = html.escape
    hourly = kpis["hourly"]
    zone = kpis.get("hour_zone", "UTC")
    sections = [
        ("hourly-volume", f"Hourly volume (dials, {zone})", _bars([(h["hour"][-11:], h["dials"]) for h in hourly])),
        ("connect-rate", f"Connect rate by hour ({zone})",
         _bars([(h["hour"][-11:], round(100 * (h["connect_rate"] or 0))) for h in hourly], "%")),
        ("outcome-mix", "Outcome mix", _bars(sorted(kpis["outcomes"].items(), key=lambda kv: -kv[1]))),
        ("funnel", "Funnel (accounts)", _bars(list(kpis["funnel"].items()))),
        ("denials", "Gate denials by reason", _bars(sorted(kpis["denials_by_reason"].items(), key=lambda kv: -kv[1]))),
    ]
    period = f"{kpis['from'] or 'first dial'} to {kpis['to'] or 'now'}"
    body = [f"<h1>Campaign {e(kpis['campaign'])}</h1><p>{e(period)}</p>",
            '<div class="cards">' + "".join(f'<div class="card"><b>{e(str(v))}</b><span>{e(k)}</span></div>'
                                            for k, v in _cards(kpis)) + "</div>"]
    body += [f'<section id="{sid}"><h2>{e(title)}</h2>{chart}</section>' for sid, title, chart in sections]
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{e(kpis['campaign'])} report</title>"
            f"<style>{_STYLE}</style></head><body>{''.join(body)}</body></html>")


def _cards(kpis: dict[str, Any]) -> list[tuple[str, object]]:
    return [("Calls placed", kpis["calls_placed"]), ("Dial count", kpis["dial_count"]),
            ("Numbers dialled", kpis["numbers_dialled"]), ("Connect rate", _pct(kpis["connect_rate"])),
            ("Reach rate", _pct(kpis["reach_rate"])), ("RPC rate", _pct(kpis["rpc_rate"])),
            ("AI talk time", f"{kpis['ai_talk_seconds']:.0f} s"), ("Promises", kpis["promises"]),
            ("Promise rate", _pct(kpis["promise_rate"])), ("Promised", _money(kpis["promised_minor"])),
            ("Kept promises", _pct(kpis["kept_promise_rate"])), ("Recovered", _money(kpis["recovered_minor"])),
            ("Recovery rate", ", ".join(f"{_pct(r)} {c}" for c, r in sorted(kpis["recovery_rate"].items())) or "n/a"),
            ("Abandonment", _pct(kpis["abandonment_rate"])), ("Agent occupancy", _pct(kpis["agent_occupancy"])),
            ("Gate denials", sum(kpis["denials_by_reason"].values()))]


def _bars(items: list[tuple[str, int]], unit: str = "") -> str:
    if not items:
        return '<p class="empty">no data</p>'
    width, row = 640, 22
    top = max(v for _, v in items) or 1
    parts = [f'<svg width="{width}" height="{row * len(items) + 4}" role="img">']
    for i, (label, value) in enumerate(items):
        # a zero still gets a 1 px bar, so every row is visibly drawn
        y, w = i * row, max(1, int((width - 220) * value / top))
        parts.append(f'<text x="0" y="{y + 15}">{html.escape(str(label))}</text>'
                     f'<rect x="160" y="{y + 3}" width="{w}" height="{row - 6}" fill="#4a7bd0"/>'
                     f'<text x="{165 + w}" y="{y + 15}">{value}{unit}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _money(amounts: dict[str, int]) -> str:
    return ", ".join(str(Money(minor, currency)) for currency, minor in sorted(amounts.items())) or "0"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"
