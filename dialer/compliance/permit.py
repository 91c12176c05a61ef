"""Dial permits: the only thing a telephony adapter accepts as a reason to originate.

The gate issues a `DialPermit` in the same transaction that writes the attempt row. The permit
is signed with a key that only the composition root hands to both the gate and the adapters, so
code that has not been through the gate cannot forge one; each permit is single-use and expires
quickly, so a decision cannot be replayed after the rules changed (an opt-out, a new attempt).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

PERMIT_LIFETIME = timedelta(seconds=30)


class PermitRejected(Exception):
    """A dial was attempted without a valid, unused, unexpired permit from the gate."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"dial refused: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class DialPermit:
    attempt_id: int
    campaign_id: int
    contact_id: int
    e164: str
    ring_timeout_s: int
    live_agent_required: bool
    issued_at: datetime
    expires_at: datetime
    signature: str

    def payload(self) -> bytes:
        return "|".join(
            str(v)
            for v in (
                self.attempt_id, self.campaign_id, self.contact_id, self.e164, self.ring_timeout_s,
                int(self.live_agent_required), self.issued_at.isoformat(), self.expires_at.isoformat(),
            )
        ).encode()


class PermitAuthority:
    """Signs permits (the gate's side) and checks them once (the adapter's side)."""

    def __init__(self, *, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)
        self._spent: set[int] = set()

    def issue(self, *, attempt_id: int, campaign_id: int, contact_id: int, e164: str,
              ring_timeout_s: int, live_agent_required: bool, now: datetime) -> DialPermit:
        unsigned = DialPermit(attempt_id, campaign_id, contact_id, e164, ring_timeout_s,
                              live_agent_required, now, now + PERMIT_LIFETIME, "")
        return DialPermit(**{**unsigned.__dict__, "signature": self._sign(unsigned)})

    def redeem(self, permit: object, *, now: datetime) -> DialPermit:
        """Validate and spend a permit; raise `PermitRejected` otherwise."""
        if not isinstance(permit, DialPermit):
            raise PermitRejected("no gate permit")
        if not hmac.compare_digest(permit.signature, self._sign(permit)):
            raise PermitRejected("permit signature invalid (not issued by this gate)")
        if now > permit.expires_at:
            raise PermitRejected(f"permit for attempt {permit.attempt_id} expired")
        if permit.attempt_id in self._spent:
            raise PermitRejected(f"permit for attempt {permit.attempt_id} already used")
        self._spent.add(permit.attempt_id)
        return permit

    def _sign(self, permit: DialPermit) -> str:
        return hmac.new(self._key, permit.payload(), hashlib.sha256).hexdigest()
