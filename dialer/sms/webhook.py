"""HTTP webhook gateway: POST each message as JSON to the operator's SMS service.

Request (JSON): {"id": ..., "to": "+86...", "text": ..., "sender": ...} with an `Idempotency-Key`
header carrying our message id, so a retry after a timeout cannot send the text twice at a gateway
that honours it. A 2xx is accepted (the response's JSON "id", if any, becomes the gateway
reference for delivery reports); 408, 429 and 5xx are transient; other 4xx are permanent.

Delivery reports come back to us as JSON {"id": <gateway ref>, "status": "delivered" | "failed",
"error": ...}; `parse_delivery_report` turns one into a status the outbox records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from dialer.domain import SmsStatus
from dialer.sms.gateway import OutgoingSms, SendReceipt, SmsGatewayError

_TRANSIENT = frozenset({408, 425, 429})


class HttpWebhookGateway:
    name = "webhook"

    def __init__(self, *, url: str, client: httpx.AsyncClient, token: str | None = None,
                 timeout_s: float = 10.0) -> None:
        # the composition root owns the client (connection pool, TLS settings) and closes it
        self.url = url
        self.client = client
        self.token = token
        self.timeout_s = timeout_s

    async def send(self, message: OutgoingSms) -> SendReceipt:
        headers = {"Idempotency-Key": message.message_id}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = {"id": message.message_id, "to": message.to_e164, "text": message.body,
                   "sender": message.sender}
        try:
            response = await self.client.post(self.url, json=payload, headers=headers,
                                               timeout=self.timeout_s)
        except httpx.TransportError as error:
            raise SmsGatewayError(self.name, f"{type(error).__name__} posting to {self.url}: "
                                  f"{error}", retryable=True) from error
        status = response.status_code
        if 200 <= status < 300:
            return SendReceipt(SmsStatus.SENT, self.name, gateway_ref=_reference(response))
        detail = f"HTTP {status} from {self.url}: {response.text[:200]}"
        if status in _TRANSIENT or status >= 500:
            raise SmsGatewayError(self.name, detail, retryable=True)
        return SendReceipt(SmsStatus.FAILED, self.name, error=detail)


def _reference(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    reference = body.get("id") if isinstance(body, dict) else None
    return str(reference) if reference is not None else None


@dataclass(frozen=True)
class DeliveryReport:
    gateway_ref: str
    status: SmsStatus
    error: str | None = None


def parse_delivery_report(payload: Mapping[str, Any]) -> DeliveryReport:
    reference = payload.get("id")
    state = payload.get("status")
    if not isinstance(reference, (str, int)) or reference == "":
        raise ValueError("delivery report without an 'id'")
    statuses = {"delivered": SmsStatus.DELIVERED, "failed": SmsStatus.FAILED}
    if state not in statuses:
        raise ValueError(f"delivery report status must be delivered or failed, got {state!r}")
    error = payload.get("error")
    return DeliveryReport(str(reference), statuses[state], str(error) if error else None)
