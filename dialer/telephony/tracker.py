"""Following many calls at once: lifecycles per attempt, fed by events, squared with Asterisk.

Pure (no I/O): the daemon subscribes `CallTracker.on_event` to the adapter, persists each returned
`Transition` on the attempt row, and after every (re)connect calls `reconcile(await
telephony.live_calls(), now=...)`:

- an attempt the tracker follows but Asterisk no longer has ended while the dialer was blind (its
  ENDED event was lost): it is ended now, with what is known (answered: HUMAN / MACHINE /
  ABANDONED as the events said; never answered: FAILED, since the cause is unknown);
- a dialer call Asterisk has but the tracker does not follow is an orphan (e.g. the daemon was
  SIGKILLed and restarted without resuming that attempt): the daemon hangs it up or adopts it
  with `resume`; it must never dial that attempt again.

Counting calls from Asterisk's own list after each reconnect is what keeps in-flight counters from
drifting ("ghost channels", reference/ASTERISK.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dialer.domain import AttemptState, Route
from dialer.telephony.interface import CallEvent, LiveCall
from dialer.telephony.lifecycle import CallLifecycle, Transition

# An originate is acknowledged before Asterisk has created the channel (AMI Async): a call
# younger than this is not declared lost for being absent from the channel list.
RECONCILE_GRACE = timedelta(seconds=5)


@dataclass(frozen=True)
class Reconciliation:
    lost: tuple[Transition, ...]        # ENDED transitions of calls Asterisk no longer has
    orphans: tuple[LiveCall, ...]       # dialer calls in Asterisk the tracker does not follow
    live: int                           # calls followed and confirmed live


class CallTracker:
    def __init__(self) -> None:
        self._calls: dict[int, CallLifecycle] = {}
        self._last_change: dict[int, datetime] = {}

    def originating(self, attempt_id: int, *, at: datetime) -> Transition:
        """Start following an attempt just before its originate is sent."""
        if attempt_id in self._calls:
            raise ValueError(f"attempt {attempt_id} is already being followed")
        call = CallLifecycle(attempt_id)
        self._calls[attempt_id] = call
        self._last_change[attempt_id] = at
        return call.originating(at)

    def resume(self, attempt_id: int, state: AttemptState, *, at: datetime,
               route: Route | None = None) -> CallLifecycle:
        """Follow an attempt persisted as open by a previous run of the daemon."""
        call = CallLifecycle.resume(attempt_id, state, route=route)
        self._calls[attempt_id] = call
        self._last_change[attempt_id] = at
        return call

    def get(self, attempt_id: int) -> CallLifecycle | None:
        return self._calls.get(attempt_id)

    def open_calls(self) -> list[CallLifecycle]:
        return [c for c in self._calls.values() if not c.is_over]

    def count(self, state: AttemptState) -> int:
        return sum(1 for c in self._calls.values() if c.state is state)

    def on_event(self, event: CallEvent) -> Transition | None:
        """Apply one adapter event. Events of attempts not followed (another dialer process on the
        same Asterisk, or an attempt already closed) are ignored; out-of-order events raise
        `InvalidTransition`. An ended call is forgotten once its ENDED transition is returned."""
        call = self._calls.get(event.attempt_id)
        if call is None:
            return None
        transition = call.apply(event)
        self._last_change[event.attempt_id] = event.at
        if call.is_over:
            self._forget(event.attempt_id)
        return transition

    def reconcile(self, live: list[LiveCall], *, now: datetime,
                  grace: timedelta = RECONCILE_GRACE) -> Reconciliation:
        live_ids = {c.attempt_id for c in live}
        lost = []
        for call in self.open_calls():
            if call.attempt_id in live_ids or call.state is AttemptState.DECIDED:
                continue
            if now - self._last_change[call.attempt_id] < grace:
                continue
            lost.append(call.ended(now))
            self._forget(call.attempt_id)
        orphans = tuple(c for c in live if c.attempt_id not in self._calls)
        followed_live = sum(1 for c in live if c.attempt_id in self._calls)
        return Reconciliation(tuple(lost), orphans, followed_live)

    def _forget(self, attempt_id: int) -> None:
        self._calls.pop(attempt_id, None)
        self._last_change.pop(attempt_id, None)
