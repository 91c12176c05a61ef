"""What both adapters do before and around an originate: the permit, the ring floor, the variables.

Kept free of I/O so the rules (no permit, no call; no ring time under the floor) are tested once
for both adapters, and the dialplan contract (asterisk_conf/extensions.conf header) lives in one
place on the Python side.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from dialer.compliance.permit import DialPermit, PermitAuthority
from dialer.telephony.interface import RingTimeoutTooShort, RoutePlan

# The Local channel runs [dialer-outbound] (ring, Dial) on its ;2 half; the ;1 half, the channel
# we own and track, goes to [dialer-answered] once the callee answers.
OUTBOUND_CONTEXT = "dialer-outbound"
ANSWERED_CONTEXT = "dialer-answered"
# Preview/manual: the agent's endpoint is originated into this context, which then dials the contact.
AGENT_FIRST_CONTEXT = "dialer-agent-first"
# Extra seconds the originate waits beyond the ring time, so the dialplan's Dial() timeout (the
# floor-checked one) is what ends an unanswered call, with its DIALSTATUS, not the originate.
ORIGINATE_GRACE_S = 5

_CHANNEL_ID = re.compile(r"^dialer-(\d+)-([0-9a-f]+)(-2)?$")
_DIAL_TARGET = re.compile(r"^[+0-9A-Za-z*#-]+$")
_ENDPOINT = re.compile(r"^[A-Za-z]+/[A-Za-z0-9_.@-]+$")


@dataclass(frozen=True)
class OriginatePlan:
    """Everything an adapter sends to Asterisk for one attempt."""

    attempt_id: int
    channel: str            # Local/<number>@dialer-outbound/n
    channel_id: str         # our ;1 half: dialer-<attempt>-<nonce>
    other_channel_id: str   # the ;2 half: dialer-<attempt>-<nonce>-2
    context: str
    extension: str
    priority: int
    ring_timeout_s: int
    originate_timeout_s: int
    variables: dict[str, str]
    caller_id: str | None


def channel_ids(attempt_id: int, nonce: str) -> tuple[str, str]:
    """Channel ids that carry the attempt id, so even a bare channel list maps back to attempts."""
    base = f"dialer-{attempt_id}-{nonce}"
    return base, f"{base}-2"


def attempt_of_channel(channel_id: str) -> tuple[int, bool] | None:
    """(attempt id, is our ;1 half) for a dialer channel id, None for any other channel."""
    match = _CHANNEL_ID.match(channel_id)
    if not match:
        return None
    return int(match.group(1)), match.group(3) is None


def plan_originate(authority: PermitAuthority, permit: DialPermit, *, now: datetime,
                   route: RoutePlan, ring_timeout_s: int | None = None, dial: str | None = None,
                   variables: Mapping[str, str] | None = None, caller_id: str | None = None,
                   nonce: str | None = None) -> OriginatePlan:
    """Check the ring floor, redeem the permit (spending it), and build the originate.

    Order matters: the floor is checked before redeeming, so a programming error (too short a ring
    time) does not burn the permit; everything after the redeem cannot fail.
    """
    if not isinstance(permit, DialPermit):
        authority.redeem(permit, now=now)   # raises PermitRejected("no gate permit")
    ring = permit.ring_timeout_s if ring_timeout_s is None else ring_timeout_s
    if ring < permit.ring_timeout_s:
        raise RingTimeoutTooShort(
            f"attempt {permit.attempt_id}: ring timeout {ring}s is below the profile floor "
            f"{permit.ring_timeout_s}s")
    extra = dict(variables or {})
    reserved = sorted(k for k in extra if k.upper().startswith("DIALER_"))
    if reserved:
        raise ValueError(f"variables {reserved} are reserved for the dialer's own contract")
    if not _DIAL_TARGET.match(permit.e164):
        raise ValueError(f"attempt {permit.attempt_id}: {permit.e164!r} is not a dialable number")
    if route.agent_endpoint is not None and not _ENDPOINT.match(route.agent_endpoint):
        raise ValueError(f"attempt {permit.attempt_id}: {route.agent_endpoint!r} is not an agent endpoint "
                         "(expected e.g. PJSIP/agent3)")
    permit = authority.redeem(permit, now=now)

    channel_id, other_id = channel_ids(permit.attempt_id, nonce or secrets.token_hex(4))
    contract = {
        "DIALER_ATTEMPT_ID": str(permit.attempt_id),
        "DIALER_CAMPAIGN_ID": str(permit.campaign_id),
        "DIALER_ROUTE": route.route.value,
        "DIALER_QUEUE": route.queue or "",
        "DIALER_SAFE_HARBOUR": route.safe_harbour.value,
        "DIALER_RING_TIMEOUT": str(ring),
        "DIALER_AMD": "on" if route.amd else "off",
    }
    if dial:
        contract["DIALER_DIAL"] = dial
    channel, context = f"Local/{permit.e164}@{OUTBOUND_CONTEXT}/n", ANSWERED_CONTEXT
    if route.agent_endpoint is not None:
        channel, context = route.agent_endpoint, AGENT_FIRST_CONTEXT
        contract["DIALER_AGENT"] = route.agent_endpoint
        contract["DIALER_NUMBER"] = permit.e164
    return OriginatePlan(
        attempt_id=permit.attempt_id,
        channel=channel,
        channel_id=channel_id,
        other_channel_id=other_id,
        context=context,
        extension="s",
        priority=1,
        ring_timeout_s=ring,
        originate_timeout_s=ring + ORIGINATE_GRACE_S,
        variables={**contract, **extra},
        caller_id=caller_id,
    )
