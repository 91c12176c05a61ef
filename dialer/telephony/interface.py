"""The contract between the dialer and a telephony back end (ARI or AMI on Asterisk, or a simulator).

How the daemon uses it (one adapter per Asterisk server, built once in the composition root)::

    telephony = AriTelephony(settings=..., authority=permit_authority, clock=SystemClock())
    tracker = CallTracker()                                # tracker.py: lifecycles, reconcile
    unsubscribe = telephony.subscribe(on_event)            # several subscribers are fine;
                                                           # on_event: tracker.on_event + persist
    telephony.on_reconnect(reconcile)                      # tracker.reconcile(await live_calls())
    await telephony.start()                                # returns once connected (or raises)
    ...
    tracker.originating(permit.attempt_id, at=clock.now())
    handle = await telephony.originate(permit, route=RoutePlan.to_queue("collections"))
    ...                                                    # CallEvents arrive at the subscribers
    await telephony.close()

Contract, whichever adapter:

- `originate` never dials without a valid, unused gate permit: it calls
  `PermitAuthority.redeem(permit, now=clock.now())` first and lets `PermitRejected` propagate. It
  refuses (`RingTimeoutTooShort`) a ring time below the permit's `ring_timeout_s`, the compliance
  floor of the campaign's profile. The attempt id travels on the channel as `DIALER_ATTEMPT_ID`
  and comes back in every `CallEvent`.
- `originate` returns once Asterisk accepted the call (the far end may still be ringing); what
  happens next arrives as `CallEvent`s, ending with exactly one `ENDED` (or `FAILED`) per attempt
  unless the adapter lost Asterisk: then `live_calls()` after the reconnect is the truth, and
  attempts missing from it ended while the dialer was blind.
- Subscribers are called in subscription order, on the adapter's event task; a subscriber that
  raises is logged and does not stop the others. Subscribers must be quick (put work on a queue).
- `health()` is cheap and synchronous: what `dialer status` prints per component.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from dialer.compliance.permit import DialPermit
from dialer.domain import Route


class AsteriskError(Exception):
    """Asterisk refused or could not be reached; the message says what an admin should check."""


class AsteriskRefused(AsteriskError):
    """Asterisk answered and said no (an HTTP error from ARI, an AMI error response): unlike a
    timeout or a lost link, nothing was created, so the caller knows the call did not start."""


class RingTimeoutTooShort(ValueError):
    """A ring time below the profile's floor (e.g. Ofcom: 15 s) was asked for."""


class CallEventKind(str, enum.Enum):
    RINGING = "ringing"            # the far end is alerting (180/183)
    ANSWERED = "answered"          # the callee picked up; recording started
    AMD = "amd"                    # answering-machine detection finished (see `amd`)
    ROUTED = "routed"              # sent to bot / queue / safe-harbour message (see `route`)
    CONNECTED = "connected"        # an agent took the call (see `agent`)
    UNANSWERED = "unanswered"      # Dial() gave up: busy / no answer / rejected / congestion
    ENDED = "ended"                # our channel is gone; `cause` is the Q.850 hangup cause
    FAILED = "failed"              # Asterisk could not even start the call (no channel)


class AmdResult(str, enum.Enum):
    """AMD()'s AMDSTATUS."""

    HUMAN = "HUMAN"
    MACHINE = "MACHINE"
    NOTSURE = "NOTSURE"
    HANGUP = "HANGUP"


@dataclass(frozen=True)
class CallEvent:
    """One milestone of one attempt, from either adapter.

    `at` is when the dialer received it (UTC, from the adapter's clock); `asterisk_at` is
    Asterisk's own timestamp when the protocol gives one.
    """

    attempt_id: int
    kind: CallEventKind
    at: datetime
    channel_id: str | None = None
    cause: int | None = None
    dial_status: str | None = None
    amd: AmdResult | None = None
    amd_cause: str | None = None
    route: Route | None = None
    queue: str | None = None
    agent: str | None = None
    recording: str | None = None
    asterisk_at: datetime | None = None
    source: str = ""


CallEventHandler = Callable[[CallEvent], Awaitable[None] | None]
ReconnectHandler = Callable[[], Awaitable[None] | None]
Unsubscribe = Callable[[], None]


class SafeHarbour(str, enum.Enum):
    """What a live answer gets when no agent takes it within 2 s (the profile decides)."""

    MESSAGE = "message"
    BOT = "bot"


@dataclass(frozen=True)
class RoutePlan:
    """Where an answered call goes: sets DIALER_ROUTE / DIALER_QUEUE / DIALER_SAFE_HARBOUR."""

    route: Route
    queue: str | None = None
    safe_harbour: SafeHarbour = SafeHarbour.MESSAGE
    amd: bool = True
    # Preview / manual: the agent's softphone (e.g. PJSIP/agent3) is rung first, the contact once
    # the agent answered ([dialer-agent-first] in extensions.conf).
    agent_endpoint: str | None = None

    def __post_init__(self) -> None:
        if self.route not in (Route.BOT, Route.QUEUE):
            raise ValueError(f"calls are routed to bot or queue, not {self.route.value}")
        if self.route is Route.QUEUE and not self.queue:
            raise ValueError("a queue route needs a queue name")

    @classmethod
    def to_bot(cls, *, amd: bool = True) -> RoutePlan:
        return cls(Route.BOT, amd=amd)

    @classmethod
    def agent_first(cls, endpoint: str, *, queue: str) -> RoutePlan:
        """Call `endpoint` (the agent's softphone) first, then the contact, and bridge them."""
        return cls(Route.QUEUE, queue=queue, amd=False, agent_endpoint=endpoint)

    @classmethod
    def to_queue(cls, queue: str, *, safe_harbour: SafeHarbour = SafeHarbour.MESSAGE,
                 amd: bool = True) -> RoutePlan:
        return cls(Route.QUEUE, queue=queue, safe_harbour=safe_harbour, amd=amd)


@dataclass(frozen=True)
class CallHandle:
    """What `originate` returns: enough to hang the call up and to match events to it."""

    attempt_id: int
    channel_id: str
    adapter: str


@dataclass(frozen=True)
class LiveCall:
    """A dialer call Asterisk still has, as listed for reconciliation."""

    attempt_id: int
    channel_id: str
    state: str            # Asterisk's channel state: Down, Ring, Ringing, Up, ...
    answered: bool


@dataclass(frozen=True)
class Health:
    component: str        # "ari" / "ami"
    healthy: bool
    detail: str
    since: datetime | None = None
    reconnects: int = 0
    extra: Mapping[str, object] = field(default_factory=dict)


class Telephony(Protocol):
    """Implemented by `AriTelephony` and `AmiTelephony` (and by the simulator's telephony)."""

    name: str

    async def start(self) -> None:
        """Connect and start delivering events; raise `AsteriskError` if Asterisk is unreachable."""
        ...

    async def close(self) -> None:
        """Stop event delivery and disconnect (calls in progress are left to Asterisk)."""
        ...

    def subscribe(self, handler: CallEventHandler) -> Unsubscribe:
        """Add an event subscriber; call the returned function to remove it."""
        ...

    def events(self) -> AbstractAsyncContextManager[asyncio.Queue[CallEvent]]:
        """`async with telephony.events() as queue:` every event while open (tests, watchers)."""
        ...

    def on_reconnect(self, handler: ReconnectHandler) -> Unsubscribe:
        """Called after every reconnect (not the first connect), before new events are delivered.

        The daemon reconciles there: `await live_calls()`, close attempts Asterisk no longer has
        (their ENDED event may have been lost while disconnected), keep tracking the others.
        """
        ...

    async def originate(self, permit: DialPermit, *, route: RoutePlan,
                        ring_timeout_s: int | None = None, dial: str | None = None,
                        variables: Mapping[str, str] | None = None) -> CallHandle:
        """Redeem `permit` and place the call to `permit.e164`.

        `ring_timeout_s` defaults to the permit's floor and may only be longer. `dial` overrides the
        dial string (default `PJSIP/<e164>@<trunk>`; tests use `Local/busy@callee-sim`).
        `variables` are extra channel variables (names must not start with DIALER_).
        Raises `PermitRejected`, `RingTimeoutTooShort` or `AsteriskError`.
        """
        ...

    async def hangup(self, handle: CallHandle, *, cause: int = 16) -> None:
        """Hang the call up (both legs); a call already gone is not an error."""
        ...

    async def live_calls(self) -> list[LiveCall]:
        """The dialer's calls Asterisk has right now (one per attempt)."""
        ...

    async def channel_variables(self, channel_id: str, names: Sequence[str]) -> dict[str, str]:
        """Values of channel variables (unset ones as ""); the agent's screen-pop reads the bot's
        hand-off context this way. Raises `AsteriskError` when the channel is gone."""
        ...

    def health(self) -> Health:
        ...
