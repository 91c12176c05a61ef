"""The agents' API as seen from `dialer agent next/call/skip/screen` (stdlib urllib, no framework)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode


class ApiError(Exception):
    """The API refused (its message and details), or `dialer run` is not serving it."""

    def __init__(self, message: str, *, status: int = 0, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.details = details or {}


class AgentApiClient:
    def __init__(self, *, host: str, port: int, token: str, timeout_s: float = 15.0) -> None:
        self._base = f"http://{host}:{port}"
        self._token = token
        self._timeout = timeout_s

    def next(self, agent: str, *, campaign: str | None = None) -> dict[str, Any]:
        query = f"?{urlencode({'campaign': campaign})}" if campaign else ""
        return self._request("GET", f"/agents/{quote(agent)}/next{query}")

    def call(self, agent: str, *, contact_id: int | None = None, number: str | None = None,
             campaign: str | None = None) -> dict[str, Any]:
        body = {k: v for k, v in (("contact_id", contact_id), ("number", number), ("campaign", campaign))
                if v is not None}
        return self._request("POST", f"/agents/{quote(agent)}/call", body)

    def skip(self, agent: str, *, account_id: int, why: str = "") -> dict[str, Any]:
        return self._request("POST", f"/agents/{quote(agent)}/skip", {"account_id": account_id, "why": why})

    def screen(self, agent: str) -> dict[str, Any]:
        return self._request("GET", f"/agents/{quote(agent)}/screen")

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self._base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self._token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            try:
                payload = json.loads(exc.read())
            except ValueError:
                payload = {"error": exc.reason}
            message = payload.pop("error", str(exc.reason))
            raise ApiError(message, status=exc.code, details=payload) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ApiError(f"agents' API at {self._base} unreachable ({exc}): is `dialer run` running with "
                           "agents.api_port set?") from None
