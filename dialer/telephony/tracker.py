"""The one call tracker: every call a dialer process placed, from the permit to the end.

Adapters deliver `CallEvent`s; the tracker feeds each to the attempt's `CallLifecycle` (the pure
state machine), hands every transition to a `CallJournal` (the daemon's writes the attempt row;
adapter tests use the in-memory default), and keeps what the pacer may observe per campaign (ring
times, resolutions, live answers, abandons, talk durations).

The tracker itself does no I/O, so the same class serves the daemon (with `daemon.journal.
AttemptJournal`), the adapter tests and the preview/manual desk.

Squaring with Asterisk after a reconnect, `reconcile(await telephony.live_calls(), now=...)`:

- an attempt the tracker follows but Asterisk no longer has ended while the dialer was blind (its
  ENDED event was lost): it is ended now, with what is known (answered: HUMAN / MACHINE /
  ABANDONED as the events said; never answered: FAILED, since the cause is unknown);
- a dialer call Asterisk has but the tracker does not follow is an orphan (e.g. the daemon was
  SIGKILLed and restarted without resuming that attempt): the daemon hangs it up or adopts it
  with `adopt`; it must never dial that attempt again.

Counting calls from Asterisk's own list after each reconnect is what keeps in-flight counters from
drifting ("ghost channels", reference/ASTERISK.md).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from dialer.domain import AttemptState, Outcome, Route
from dialer.pacing.snapshot import DialResult, ResolvedDial
from dialer.telephony.interface import CallEvent, CallEventKind, LiveCall
from dialer.telephony.lifecycle import CallLifecycle, InvalidTransition, Transition

log = logging.getLogger(__name__)

# An originate is acknowledged before Asterisk has created the channel (AMI Async): a call
# younger than this is not declared lost for being absent from the channel list.
RECONCILE_GRACE = timedelta(seconds=5)

_RESULT = {Outcome.HUMAN: DialResult.LIVE, Outcome.ABANDONED: DialResult.LIVE, Outcome.MACHINE: DialResult.MACHINE,
           Outcome.BUSY: DialResult.BUSY, Outcome.NO_ANSWER: DialResult.NO_ANSWER}


@dataclass
class TrackedCall:
    attempt_id: int
    campaign_id: int
    placed_at: datetime
    lifecycle: CallLifecycle
    route: Route = Route.BOT
    debtor_id: int | None = None
    agent: str | None = None          # preview/manual: the agent whose softphone rings first
    answered_at: datetime | None = None
    last_change: datetime | None = None
    resolved: bool = False            # the pacer has been told how the dial resolved


@dataclass(frozen=True)
class CallEnd:
    """What the journal records when a call is over."""

    call: TrackedCall
    outcome: Outcome
    at: datetime
    recording: str | None = None
    why: str | None = None            # set when the dialer, not Asterisk, closed the call


class CallJournal(Protocol):
    """Where transitions are persisted (the attempt row, for the daemon)."""

    def originating(self, attempt_id: int, at: datetime, channel_id: str) -> None: ...

    def advanced(self, attempt_id: int, state: AttemptState, at: datetime, fields: dict[str, object]) -> None: ...

    def closed(self, end: CallEnd) -> None: ...


class MemoryJournal:
    """Keeps nothing but the ends (adapter tests, tools): the lifecycles are the record."""

    def __init__(self) -> None:
        self.ends: list[CallEnd] = []

    def originating(self, attempt_id: int, at: datetime, channel_id: str) -> None:
        pass

    def advanced(self, attempt_id: int, state: AttemptState, at: datetime, fields: dict[str, object]) -> None:
        pass

    def closed(self, end: CallEnd) -> None:
        self.ends.append(end)


@dataclass
class CampaignObservations:
    """What happened since the pacer last looked, per campaign (drained every tick)."""

    resolved: list[ResolvedDial] = field(default_factory=list)
    talk_seconds: list[float] = field(default_factory=list)
    dials: int = 0
    live_answers: int = 0
    abandons: int = 0


@dataclass(frozen=True)
class Reconciliation:
    lost: tuple[Transition, ...]        # ENDED transitions of calls Asterisk no longer has
    orphans: tuple[LiveCall, ...]       # dialer calls in Asterisk the tracker does not follow
    live: int                           # calls followed and confirmed live


class CallTracker:
    def __init__(self, *, journal: CallJournal | None = None,
                 on_ended: Callable[[int, int, Outcome], None] | None = None) -> None:
        self._journal: CallJournal = journal or MemoryJournal()
        self._calls: dict[int, TrackedCall] = {}
        self._observed: dict[int, CampaignObservations] = defaultdict(CampaignObservations)
        self._on_ended = on_ended or (lambda _attempt, _campaign, _outcome: None)

    # ---- following calls ----------------------------------------------------------------------

    def track(self, attempt_id: int, *, campaign_id: int, placed_at: datetime, route: Route = Route.BOT,
              debtor_id: int | None = None, agent: str | None = None) -> TrackedCall:
        """Follow an attempt the gate just allowed (state `decided`), before its originate is sent."""
        if attempt_id in self._calls:
            raise ValueError(f"attempt {attempt_id} is already being followed")
        call = TrackedCall(attempt_id, campaign_id, placed_at, CallLifecycle(attempt_id), route, debtor_id,
                           agent=agent, last_change=placed_at)
        self._calls[attempt_id] = call
        self._observed[campaign_id].dials += 1
        return call

    def originating(self, attempt_id: int, *, at: datetime, channel_id: str = "") -> Transition | None:
        """The originate was sent. None when the attempt is not followed (its call already ended:
        a busy far end can end before the originate's reply arrives; following it anew would keep
        a ghost call in flight) or when Asterisk's first events already moved the call on."""
        call = self._calls.get(attempt_id)
        if call is None:
            return None
        try:
            transition = call.lifecycle.originating(at)
        except InvalidTransition:
            return None
        call.last_change = at
        self._journal.originating(attempt_id, at, channel_id)
        return transition

    def originate_failed(self, attempt_id: int, *, at: datetime, why: str) -> None:
        """Asterisk refused the originate: the attempt counts (it was decided), outcome failed."""
        call = self._calls.pop(attempt_id, None)
        if call is None:
            return
        call.lifecycle.ended(at, failed=True)
        self._journal.closed(CallEnd(call, Outcome.FAILED, at, why=why[:80]))
        self._observe_resolution(call, Outcome.FAILED, at)
        self._on_ended(attempt_id, call.campaign_id, Outcome.FAILED)

    def adopt(self, attempt_id: int, *, campaign_id: int, placed_at: datetime, state: AttemptState,
              route: Route | None = None, at: datetime | None = None) -> TrackedCall:
        """Follow a call placed before a restart (Asterisk still has it) until it ends."""
        if attempt_id in self._calls:
            return self._calls[attempt_id]
        answered = state in (AttemptState.ANSWERED, AttemptState.ROUTED, AttemptState.CONNECTED)
        call = TrackedCall(attempt_id, campaign_id, placed_at, CallLifecycle.resume(attempt_id, state, route=route),
                           route or Route.BOT, last_change=at or placed_at, resolved=answered)
        self._calls[attempt_id] = call
        return call

    def forget(self, attempt_id: int) -> None:
        self._calls.pop(attempt_id, None)

    # ---- what the pacer and the daemon ask ----------------------------------------------------

    def get(self, attempt_id: int) -> TrackedCall | None:
        return self._calls.get(attempt_id)

    def calls_of(self, campaign_id: int) -> list[TrackedCall]:
        return [c for c in self._calls.values() if c.campaign_id == campaign_id]

    def open_calls(self) -> list[TrackedCall]:
        return list(self._calls.values())

    def tracked_ids(self) -> set[int]:
        return set(self._calls)

    def in_flight(self) -> int:
        return len(self._calls)

    def count(self, state: AttemptState) -> int:
        return sum(1 for c in self._calls.values() if c.lifecycle.state is state)

    def drain(self, campaign_id: int) -> CampaignObservations:
        return self._observed.pop(campaign_id, CampaignObservations())

    # ---- events -------------------------------------------------------------------------------

    def on_event(self, event: CallEvent) -> Transition | None:
        """Apply one adapter event; returns the transition it caused, if any.

        Events of attempts not followed (another dialer process on the same Asterisk, or a call
        already closed by reconciliation) are ignored. An out-of-order event is logged and ignored:
        it means the dialplan or an adapter broke its contract, and one bad event must not stop the
        tracking of every other call. An ended call is forgotten once its ENDED is recorded.
        """
        call = self._calls.get(event.attempt_id)
        if call is None:
            return None
        if call.lifecycle.state is AttemptState.DECIDED and event.kind not in (CallEventKind.ENDED,
                                                                               CallEventKind.FAILED):
            # Asterisk's first events can overtake the reply to our originate request.
            self.originating(call.attempt_id, at=event.at, channel_id=event.channel_id or "")
        try:
            transition = call.lifecycle.apply(event)
        except InvalidTransition as exc:
            log.warning("ignoring out-of-order event: %s", exc)
            return None
        if event.kind is CallEventKind.ANSWERED:
            call.answered_at = event.at
        if transition is None:
            return None
        call.last_change = event.at
        if transition.to_state is AttemptState.ENDED:
            self._close(call, event.at, recording=event.recording)
            return transition
        fields: dict[str, object] = {}
        if transition.to_state is AttemptState.ANSWERED:
            fields["answered_at"] = event.at
        if transition.to_state is AttemptState.ROUTED and event.route is not None:
            # Routing happens after AMD said "not a machine": now the pacer may count a live answer.
            self._observe_resolution(call, Outcome.HUMAN, call.answered_at or event.at)
            fields["route"] = event.route
            if event.queue:
                fields["queue"] = event.queue
        if transition.to_state is AttemptState.CONNECTED:
            fields["connected_at"] = event.at
            if event.agent:
                fields["agent"] = event.agent
        if event.recording:
            fields["recording_path"] = event.recording
        self._journal.advanced(call.attempt_id, transition.to_state, event.at, fields)
        return transition

    def reconcile(self, live: list[LiveCall], *, now: datetime,
                  grace: timedelta = RECONCILE_GRACE) -> Reconciliation:
        """Close the calls Asterisk no longer has; report the ones it has that nobody follows."""
        live_ids = {c.attempt_id for c in live}
        lost = []
        for call in self.open_calls():
            if call.attempt_id in live_ids or call.lifecycle.state is AttemptState.DECIDED:
                continue
            if now - (call.last_change or call.placed_at) < grace:
                continue
            transition = call.lifecycle.ended(now)
            lost.append(transition)
            self._close(call, now, why="lost: not on Asterisk at reconcile")
        orphans = tuple(c for c in live if c.attempt_id not in self._calls)
        followed_live = sum(1 for c in live if c.attempt_id in self._calls)
        return Reconciliation(tuple(lost), orphans, followed_live)

    # ---- ends ---------------------------------------------------------------------------------

    def _close(self, call: TrackedCall, at: datetime, *, recording: str | None = None, why: str | None = None) -> None:
        self._calls.pop(call.attempt_id, None)
        lc = call.lifecycle
        outcome = lc.outcome or Outcome.FAILED
        # Answered, then only the identification message: nobody (agent or bot) took the call.
        if outcome is Outcome.HUMAN and lc.routes and lc.routes[-1] is Route.SAFE_HARBOUR and not lc.taken_by_bot():
            outcome = Outcome.ABANDONED
        # Preview/manual: the dialplan reports every unanswered dial of the contact (DialerDialEnd);
        # without one, the agent's own phone never answered and the contact was not dialled.
        if call.agent is not None and lc.answered_at is None and lc.dial_status is None and why is None:
            outcome, why = Outcome.FAILED, "agent did not answer: contact not dialled"
        self._journal.closed(CallEnd(call, outcome, at, recording=recording, why=why))
        if not call.resolved:
            self._observe_resolution(call, outcome, at)
        observed = self._observed[call.campaign_id]
        if outcome is Outcome.ABANDONED:
            observed.abandons += 1
        if lc.connected_at is not None:
            observed.talk_seconds.append((at - lc.connected_at).total_seconds())
        self._on_ended(call.attempt_id, call.campaign_id, outcome)

    def _observe_resolution(self, call: TrackedCall, outcome: Outcome, at: datetime) -> None:
        if call.resolved:
            return
        call.resolved = True
        result = _RESULT.get(outcome, DialResult.FAILED)
        observed = self._observed[call.campaign_id]
        observed.resolved.append(ResolvedDial(result, (at - call.placed_at).total_seconds()))
        if result is DialResult.LIVE:
            observed.live_answers += 1
