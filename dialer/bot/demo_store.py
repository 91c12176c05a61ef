"""Simple stand-ins for the call-context and outcome ports, for tests and the demo ONLY.

Production wires the database-backed provider and sink (dialer/db). These keep contexts in memory
or in one JSON file, and outcomes in memory or as JSON lines.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import fields
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from dialer.bot.context import CallContext, StageThresholds
from dialer.bot.record import CallRecord


def context_from_json(data: dict[str, Any]) -> CallContext:
    """A CallContext from plain JSON values (dates ISO, money as strings)."""
    values = dict(data)
    for key in ("amount_due", "minimum_payment", "interest_amount"):
        if values.get(key) is not None:
            values[key] = Decimal(str(values[key]))
    for key in ("due_date", "today"):
        if isinstance(values.get(key), str):
            values[key] = date.fromisoformat(values[key])
    if isinstance(values.get("thresholds"), dict):
        values["thresholds"] = StageThresholds(**values["thresholds"])
    known = {f.name for f in fields(CallContext)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown call-context fields {sorted(unknown)}")
    return CallContext(**values)


class InMemoryCallContexts:
    """Test/demo provider: contexts registered by attempt id."""

    def __init__(self, contexts: dict[str, CallContext] | None = None) -> None:
        self.contexts = dict(contexts or {})

    def add(self, context: CallContext) -> None:
        self.contexts[context.attempt_id] = context

    async def context_for(self, attempt_id: str, campaign_id: str) -> CallContext:
        try:
            return self.contexts[attempt_id]
        except KeyError:
            raise LookupError(f"no call context for attempt {attempt_id!r}") from None


class JsonFileCallContexts:
    """Test/demo provider: a JSON object {attempt_id: {context fields}} re-read on every call, so a
    test or the demo can add attempts while the server runs."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def context_for(self, attempt_id: str, campaign_id: str) -> CallContext:
        data = json.loads(await asyncio.to_thread(self.path.read_text, encoding="utf-8"))
        if attempt_id not in data:
            raise LookupError(f"no call context for attempt {attempt_id!r} in {self.path}")
        return context_from_json({"attempt_id": attempt_id, "campaign_id": campaign_id, **data[attempt_id]})


class InMemoryOutcomes:
    """Test/demo sink: finished records kept in a list."""

    def __init__(self) -> None:
        self.records: list[tuple[CallContext, CallRecord]] = []
        self.arrived = asyncio.Event()

    async def record_outcome(self, context: CallContext, record: CallRecord) -> None:
        self.records.append((context, record))
        self.arrived.set()


class JsonLinesOutcomes:
    """Test/demo sink: one JSON object per finished call appended to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def record_outcome(self, context: CallContext, record: CallRecord) -> None:
        line = json.dumps({"campaign_id": context.campaign_id, **record.to_json()}, ensure_ascii=False, default=str)
        await asyncio.to_thread(self._append, line)

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
