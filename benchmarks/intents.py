"""Intent recognition accuracy on the labelled evaluation sets.

    python -m benchmarks.intents            # prints per-intent accuracy, writes benchmarks/results/intents.md

Each set is a TSV (text, intent, expected date, expected amount, expected callback time) written by
hand; dates resolve against today = 2026-11-22 (a Sunday), callback times against 10:00 that day in
the debtor's zone (Asia/Shanghai for zh-CN, America/New_York for en-US) and are labelled as wall-clock
times there. Intent accuracy is the headline; dates, amounts and callback times are scored on the
rows that label them.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time as wall_time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from dialer.bot.nlu import recognise

DATA = Path(__file__).parent / "data"
RESULTS = Path(__file__).parent / "results"
TODAY = date(2026, 11, 22)
LANGUAGES = ("zh-CN", "en-US")
ZONES = {"zh-CN": ZoneInfo("Asia/Shanghai"), "en-US": ZoneInfo("America/New_York")}


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    expected_date: date | None
    expected_amount: Decimal | None
    expected_callback: datetime | None = None     # naive wall-clock time in the language's zone


def load(language: str) -> list[Example]:
    rows = []
    with (DATA / f"intents-{language}.tsv").open(encoding="utf-8", newline="") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    for row in csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
        rows.append(Example(row["text"] or "", row["intent"],
                            date.fromisoformat(row["date"]) if row.get("date") else None,
                            Decimal(row["amount"]) if row.get("amount") else None,
                            datetime.fromisoformat(row["callback"]) if row.get("callback") else None))
    return rows


@dataclass
class Score:
    language: str
    per_intent: dict[str, tuple[int, int]]
    dates: tuple[int, int]
    amounts: tuple[int, int]
    callbacks: tuple[int, int]
    misses: list[tuple[str, str, str]]
    mean_ms: float

    @property
    def accuracy(self) -> float:
        right = sum(r for r, _ in self.per_intent.values())
        total = sum(t for _, t in self.per_intent.values())
        return right / total if total else 0.0


def evaluate(language: str) -> Score:
    examples = load(language)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    dates = [0, 0]
    amounts = [0, 0]
    callbacks = [0, 0]
    misses = []
    now = datetime.combine(TODAY, wall_time(10), tzinfo=ZONES[language])
    started = time.perf_counter()
    for example in examples:
        got = recognise(example.text, language, TODAY, now=now)
        counts[example.intent][1] += 1
        if got.intent.value == example.intent:
            counts[example.intent][0] += 1
        else:
            misses.append((example.text, example.intent, got.intent.value))
        if example.expected_date is not None:
            dates[1] += 1
            dates[0] += got.promised_date == example.expected_date
        if example.expected_amount is not None:
            amounts[1] += 1
            amounts[0] += got.amount == example.expected_amount
        if example.expected_callback is not None:
            callbacks[1] += 1
            said = got.callback_at.replace(tzinfo=None) if got.callback_at else None
            callbacks[0] += said == example.expected_callback
            if said != example.expected_callback and got.intent.value == example.intent:
                misses.append((example.text, f"callback {example.expected_callback:%Y-%m-%d %H:%M}",
                               f"{said:%Y-%m-%d %H:%M}" if said else "no time"))
    elapsed = (time.perf_counter() - started) * 1000 / max(len(examples), 1)
    return Score(language, {k: (v[0], v[1]) for k, v in sorted(counts.items())}, (dates[0], dates[1]),
                 (amounts[0], amounts[1]), (callbacks[0], callbacks[1]), misses, elapsed)


def render(scores: list[Score]) -> str:
    lines = ["# Intent recognition on the evaluation sets", "",
             "`python -m benchmarks.intents` (rule-based recogniser `dialer/bot/nlu.py`; sets in "
             "`benchmarks/data/`, today = 2026-11-22; callback times against 10:00 local that day, "
             "Asia/Shanghai for zh-CN and America/New_York for en-US).", ""]
    for score in scores:
        total = sum(t for _, t in score.per_intent.values())
        lines += [f"## {score.language}: {score.accuracy:.1%} of {total} utterances", "",
                  "| intent | right | total | accuracy |", "|---|---:|---:|---:|"]
        for intent, (right, count) in score.per_intent.items():
            lines.append(f"| {intent} | {right} | {count} | {right / count:.1%} |")
        lines += ["", f"Dates parsed right: {score.dates[0]}/{score.dates[1]}; amounts: "
                      f"{score.amounts[0]}/{score.amounts[1]}; callback times: "
                      f"{score.callbacks[0]}/{score.callbacks[1]}; mean {score.mean_ms:.3f} ms per utterance.", ""]
        if score.misses:
            lines += ["Misses (text → expected / got):", ""]
            lines += [f"- `{text}` → {want} / {got}" for text, want, got in score.misses]
            lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    scores = [evaluate(language) for language in LANGUAGES]
    report = render(scores)
    print(report)
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "intents.md").write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
