"""Report files: owner-only from the first byte.

Reports carry figures derived from personal data (amounts, outcomes per campaign): created with
mode 0600 by `os.open`, not chmod-ed after the fact, so no other local user can open the file in
between. A rerun replaces the file in place (still 0600).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any


def write_private(path: Path, text: str) -> Path:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    os.chmod(path, 0o600)   # an existing file keeps its old mode through O_CREAT: tighten it
    return path


def flat_row(kpis: dict[str, Any]) -> dict[str, Any]:
    """The figures as one CSV row: per-currency, per-outcome and per-reason figures become
    `name.key` columns; the hourly series is left to JSON and HTML."""
    row: dict[str, Any] = {}
    for key, value in kpis.items():
        if isinstance(value, dict):
            row.update({f"{key}.{k}": v for k, v in sorted(value.items())})
        elif not isinstance(value, list):
            row[key] = value
    return row


def csv_text(kpis: dict[str, Any]) -> str:
    out = io.StringIO()
    row = flat_row(kpis)
    writer = csv.DictWriter(out, fieldnames=list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    return out.getvalue()
