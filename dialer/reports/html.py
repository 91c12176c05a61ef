"""The HTML report: one self-contained page with inline SVG charts (no scripts, no network)."""

from __future__ import annotations

import html
from typing import Any


def render(kpis: dict[str, Any]) -> str:
    e = html.escape
    cards = [("Calls placed", kpis["calls_placed"]), ("Connect rate", _pct(kpis["connect_rate"])),
             ("RPC rate", _pct(kpis["rpc_rate"])), ("AI talk time", f"{kpis['ai_talk_seconds']:.0f} s"),
             ("Promises", kpis["promises"]), ("Promise rate", _pct(kpis["promise_rate"])),
             ("Kept promises", _pct(kpis["kept_promise_rate"])), ("Abandonment", _pct(kpis["abandonment_rate"]))]
    hourly = kpis["hourly"]
    body = [
        f"<h1>Campaign {e(kpis['campaign'])}</h1>",
        '<div class="cards">' + "".join(f'<div class="card"><b>{e(str(v))}</b><span>{e(k)}</span></div>'
                                        for k, v in cards) + "</div>",
        "<h2>Hourly volume</h2>", _bars([(h["hour"][-5:], h["dials"]) for h in hourly]),
        "<h2>Connect rate by hour</h2>",
        _bars([(h["hour"][-5:], round(100 * h["connected"] / h["dials"]) if h["dials"] else 0) for h in hourly], "%"),
        "<h2>Outcome mix</h2>", _bars(sorted(kpis["outcomes"].items(), key=lambda kv: -kv[1])),
        "<h2>Funnel</h2>", _bars(list(kpis["funnel"].items())),
        "<h2>Gate denials by reason</h2>", _bars(sorted(kpis["denials_by_reason"].items(), key=lambda kv: -kv[1])),
    ]
    style = ("body{font-family:sans-serif;margin:2em;color:#222}.cards{display:flex;flex-wrap:wrap;gap:1em}"
             ".card{border:1px solid #ccc;border-radius:6px;padding:.8em 1.2em;min-width:8em}"
             ".card b{display:block;font-size:1.6em}.card span{color:#666}svg text{font-size:12px}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{e(kpis['campaign'])} report</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>")


def _bars(items: list[tuple[str, int]], unit: str = "") -> str:
    if not items:
        return "<p>no data</p>"
    width, row = 640, 22
    top = max(v for _, v in items) or 1
    parts = [f'<svg width="{width}" height="{row * len(items) + 4}" role="img">']
    for i, (label, value) in enumerate(items):
        y, w = i * row, int((width - 220) * value / top)
        parts.append(f'<text x="0" y="{y + 15}">{html.escape(str(label))}</text>'
                     f'<rect x="160" y="{y + 3}" width="{w}" height="{row - 6}" fill="#4a7bd0"/>'
                     f'<text x="{165 + w}" y="{y + 15}">{value}{unit}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"
