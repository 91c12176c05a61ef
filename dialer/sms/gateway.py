"""The SMS gateway interface and the file/log gateway for tests and demos.

A gateway sends one message and says what happened. Permanent refusals (bad number, rejected
content) come back as a FAILED receipt; transient trouble (timeouts, 5xx, throttling) raises
`SmsGatewayError(retryable=True)` so the outbox keeps the message queued and tries later.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from dialer.domain import SmsStatus


@dataclass(frozen=True)
class OutgoingSms:
    message_id: str               # ours (the outbox row id): the idempotency key at the gateway
    to_e164: str
    body: str
    sender: str | None = None


@dataclass(frozen=True)
class SendReceipt:
    status: SmsStatus             # SENT (accepted by the gateway) or FAILED (permanent)
    gateway: str
    gateway_ref: str | None = None
    error: str | None = None


class SmsGatewayError(Exception):
    """The gateway could not be reached or asked us to back off."""

    def __init__(self, gateway: str, detail: str, *, retryable: bool) -> None:
        super().__init__(f"SMS gateway {gateway}: {detail}")
        self.gateway = gateway
        self.retryable = retryable


class Gateway(Protocol):
    name: str

    async def send(self, message: OutgoingSms) -> SendReceipt: ...


class FileGateway:
    """Appends each message as one JSON line: the demo's phone, and a record tests can read."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, message: OutgoingSms) -> SendReceipt:
        line = json.dumps(asdict(message), ensure_ascii=False) + "\n"
        await asyncio.to_thread(self._append, line)
        return SendReceipt(SmsStatus.SENT, self.name, gateway_ref=f"file:{message.message_id}")

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)


class LogGateway:
    """Logs the message instead of sending it (dry runs)."""

    name = "log"

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    async def send(self, message: OutgoingSms) -> SendReceipt:
        # logs outlive the debt: keep the number's tail only (seed 004, personal data)
        self.logger.info("SMS %s to ...%s: %s", message.message_id, message.to_e164[-4:],
                         message.body)
        return SendReceipt(SmsStatus.SENT, self.name, gateway_ref=f"log:{message.message_id}")
