"""Follows every call this daemon placed, from the permit to the end, and persists each transition.

Adapters deliver `CallEvent`s; the tracker feeds each to the attempt's `CallLifecycle` (the pure
state machine), writes the new state on the attempt row, closes the attempt with its outcome, and
keeps what the pacer may observe (ring times, waits, resolutions, talk durations). It is the only
writer of attempt rows after the gate, so restarts reconcile against one place.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from dialer import attempts
from dialer.db.models import Attempt
from dialer.db.session import transaction
from dialer.domain import AttemptState, Outcome, Route
from dialer.pacing.snapshot import DialResult, ResolvedDial
from dialer.telephony.interface import CallEvent, CallEventKind
from dialer.telephony.lifecycle import CallLifecycle, InvalidTransition

log = logging.getLogger(__name__)

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
    answered_at: datetime | None = None
    resolved: bool = False           # the pacer has been told how the dial resolved


@dataclass
class CampaignObservations:
    """What happened since the pacer last looked, per campaign (drained every tick)."""

    resolved: list[ResolvedDial] = field(default_factory=list)
    talk_seconds: list[float] = field(default_factory=list)
    dials: int = 0
    live_answers: int = 0
    abandons: int = 0


class CallTracker:
    def __init__(self, *, sessions: sessionmaker[Session], node: str,
                 on_ended: Callable[[int, int, Outcome], None] | None = None) -> None:
        self._sessions = sessions
        self._node = node
        self._calls: dict[int, TrackedCall] = {}
        self._observed: dict[int, CampaignObservations] = defaultdict(CampaignObservations)
        self._on_ended = on_ended or (lambda _attempt, _campaign, _outcome: None)

    # ---- what the runner asks -----------------------------------------------------------------

    def track(self, attempt_id: int, campaign_id: int, placed_at: datetime, route: Route, *,
              debtor_id: int | None = None) -> None:
        lifecycle = CallLifecycle(attempt_id)
        self._calls[attempt_id] = TrackedCall(attempt_id, campaign_id, placed_at, lifecycle, route, debtor_id)
        self._observed[campaign_id].dials += 1

    def calls_of(self, campaign_id: int) -> list[TrackedCall]:
        return [c for c in self._calls.values() if c.campaign_id == campaign_id]

    def in_flight(self) -> int:
        return len(self._calls)

    def drain(self, campaign_id: int) -> CampaignObservations:
        return self._observed.pop(campaign_id, CampaignObservations())

    # ---- events -------------------------------------------------------------------------------

    def originating(self, attempt_id: int, at: datetime, channel_id: str) -> None:
        call = self._calls.get(attempt_id)
        if call is None:
            return
        try:
            call.lifecycle.originating(at)
        except InvalidTransition:
            return  # an event raced ahead of the originate reply and already moved the call on
        with transaction(self._sessions) as session:
            attempts.transition(session, attempt_id, AttemptState.ORIGINATING, at, channel_id=channel_id)

    def originate_failed(self, attempt_id: int, at: datetime, why: str) -> None:
        """Asterisk refused the originate: the attempt counts (it was decided), outcome failed."""
        call = self._calls.pop(attempt_id, None)
        with transaction(self._sessions) as session:
            attempts.close(session, attempt_id, attempts.CallResult(
                outcome=Outcome.FAILED, ended_at=at, hangup_cause_text=why[:80]), actor=f"daemon@{self._node}")
        if call is not None:
            self._observe_resolution(call, Outcome.FAILED, at)
            self._on_ended(attempt_id, call.campaign_id, Outcome.FAILED)

    def on_event(self, event: CallEvent) -> None:
        call = self._calls.get(event.attempt_id)
        if call is None:
            return  # another daemon's call, or one already closed by reconciliation
        if call.lifecycle.state is AttemptState.DECIDED and event.kind not in (CallEventKind.ENDED,
                                                                               CallEventKind.FAILED):
            # Asterisk's first events can overtake the reply to our originate request.
            self.originating(call.attempt_id, event.at, event.channel_id or "")
        try:
            transition = call.lifecycle.apply(event)
        except InvalidTransition as exc:
            log.warning("ignoring out-of-order event: %s", exc)
            return
        if event.kind is CallEventKind.ANSWERED:
            call.answered_at = event.at
        if transition is None:
            return
        if transition.to_state is AttemptState.ENDED:
            self._close(call, event)
            return
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
        if event.recording:
            fields["recording_path"] = event.recording
        with transaction(self._sessions) as session:
            attempts.transition(session, call.attempt_id, transition.to_state, event.at, **fields)

    def _close(self, call: TrackedCall, event: CallEvent) -> None:
        self._calls.pop(call.attempt_id, None)
        lc = call.lifecycle
        outcome = lc.outcome or Outcome.FAILED
        # Answered, then only the identification message: nobody (agent or bot) took the call.
        if outcome is Outcome.HUMAN and lc.routes and lc.routes[-1] is Route.SAFE_HARBOUR:
            outcome = Outcome.ABANDONED
        # An answered call routed straight to the bot is a conversation candidate; whether it
        # was an effective conversation (RPC) is the bot's verdict, recorded with its outcome.
        with transaction(self._sessions) as session:
            attempt = session.get(Attempt, call.attempt_id)
            conversation = attempt.conversation if attempt is not None else False
            attempts.close(session, call.attempt_id, attempts.CallResult(
                outcome=outcome, ended_at=event.at, answered_at=lc.answered_at, connected_at=lc.connected_at,
                hangup_cause=lc.cause, amd_result=lc.amd.value if lc.amd else None,
                route=lc.routes[-1] if lc.routes else None, conversation=conversation,
                abandoned=outcome is Outcome.ABANDONED, recording_path=event.recording),
                actor=f"daemon@{self._node}")
        if not call.resolved:
            self._observe_resolution(call, outcome, event.at)
        observed = self._observed[call.campaign_id]
        if outcome is Outcome.ABANDONED:
            observed.abandons += 1
        if lc.connected_at is not None:
            observed.talk_seconds.append((event.at - lc.connected_at).total_seconds())
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

    # ---- reconciliation -----------------------------------------------------------------------

    def forget(self, attempt_id: int) -> None:
        self._calls.pop(attempt_id, None)

    def adopt(self, attempt_id: int, campaign_id: int, placed_at: datetime, state: AttemptState,
              route: Route | None) -> None:
        """Follow a call placed before a restart (Asterisk still has it) until it ends."""
        if attempt_id not in self._calls:
            lifecycle = CallLifecycle.resume(attempt_id, state, route=route)
            self._calls[attempt_id] = TrackedCall(attempt_id, campaign_id, placed_at, lifecycle,
                                                  route or Route.BOT,
                                                  resolved=state in (AttemptState.ANSWERED, AttemptState.ROUTED,
                                                                     AttemptState.CONNECTED))

    def tracked_ids(self) -> set[int]:
        return set(self._calls)
