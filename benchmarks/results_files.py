"""Where the bot benchmarks write what they measured: `benchmarks/results/<stem>.md` and `.json`
(the latest run), and the same again under a name made from `--label`, so runs of different set-ups
(listening modes, call spacing, before and after a change) stay side by side."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def labelled_name(stem: str, label: str) -> str:
    return stem + "." + re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def save(stem: str, label: str, result: dict[str, Any], markdown: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in [stem] + ([labelled_name(stem, label)] if label else []):
        (RESULTS / f"{name}.md").write_text(markdown, encoding="utf-8")
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
