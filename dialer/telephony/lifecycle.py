"""The call lifecycle of one attempt: a pure state machine fed by `CallEvent`s.

    decided -> originating -> ringing -> answered (human / machine) -> routed -> connected -> ended
                     \\            \\__ ended: busy | no answer | rejected | failed | congestion
                      \\__ ended (failed before ringing, or answered without a 180 first)

The state (`AttemptState`) and the final `Outcome` are what the daemon persists on the attempt row
after every transition; a restarted daemon rebuilds a `CallLifecycle` from the row with
`CallLifecycle.resume(...)`. Invalid transitions raise `InvalidTransition`: an event out of order
means the adapter or the dialplan broke its contract, and silently accepting it would corrupt
abandon-rate statistics. Repeated RINGING and AMD/UNANSWERED details are not transitions.

Outcome rules:
- unanswered: from the dial status and Q.850 cause (`causes.unanswered_outcome`);
- answered, AMD said MACHINE: MACHINE; otherwise HUMAN (NOTSURE counts as a person: hanging up on
  a person is the worse error);
- answered, routed to a queue, then re-routed (safe-harbour message or bot) without an agent
  connecting: ABANDONED (TSR 310.4(b)(4)(i), Ofcom: not connected to a live person within 2 s).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dialer.domain import AttemptState, Outcome, Route
from dialer.telephony.causes import unanswered_outcome
from dialer.telephony.interface import AmdResult, CallEvent, CallEventKind


class InvalidTransition(Exception):
    def __init__(self, attempt_id: int, state: AttemptState, event: str) -> None:
        super().__init__(f"attempt {attempt_id}: {event} is not valid in state {state.value}")
        self.attempt_id = attempt_id
        self.state = state
        self.event = event


S = AttemptState
_ALLOWED: dict[AttemptState, frozenset[AttemptState]] = {
    S.DECIDED: frozenset({S.ORIGINATING, S.ENDED}),
    S.ORIGINATING: frozenset({S.RINGING, S.ANSWERED, S.ENDED}),
    S.RINGING: frozenset({S.ANSWERED, S.ENDED}),
    S.ANSWERED: frozenset({S.ROUTED, S.ENDED}),
    # ROUTED -> ROUTED: queue -> safe-harbour / bot after 2 s, bot -> safe-harbour if the bot is down.
    S.ROUTED: frozenset({S.ROUTED, S.CONNECTED, S.ENDED}),
    S.CONNECTED: frozenset({S.ENDED}),
    S.ENDED: frozenset(),
}


@dataclass(frozen=True)
class Transition:
    attempt_id: int
    from_state: AttemptState
    to_state: AttemptState
    at: datetime
    outcome: Outcome | None = None
    route: Route | None = None


@dataclass
class CallLifecycle:
    attempt_id: int
    state: AttemptState = AttemptState.DECIDED
    outcome: Outcome | None = None
    route: Route | None = None
    routes: list[Route] = field(default_factory=list)
    amd: AmdResult | None = None
    cause: int | None = None
    dial_status: str | None = None
    agent: str | None = None
    answered_at: datetime | None = None
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    history: list[Transition] = field(default_factory=list)

    @classmethod
    def resume(cls, attempt_id: int, state: AttemptState, *, route: Route | None = None
               ) -> CallLifecycle:
        """Rebuild from a persisted attempt row (daemon restart)."""
        return cls(attempt_id=attempt_id, state=state, route=route,
                   routes=[route] if route else [])

    @property
    def is_over(self) -> bool:
        return self.state is AttemptState.ENDED

    def _go(self, to: AttemptState, at: datetime, event: str) -> Transition:
        if to not in _ALLOWED[self.state]:
            raise InvalidTransition(self.attempt_id, self.state, event)
        transition = Transition(self.attempt_id, self.state, to, at,
                                outcome=self.outcome if to is AttemptState.ENDED else None,
                                route=self.route if to is AttemptState.ROUTED else None)
        self.state = to
        self.history.append(transition)
        return transition

    # --- the transitions ----------------------------------------------------------------------

    def originating(self, at: datetime) -> Transition:
        return self._go(S.ORIGINATING, at, "originate")

    def ringing(self, at: datetime) -> Transition | None:
        if self.state is S.RINGING:
            return None  # 180 then 183, or several forks ringing: still ringing
        return self._go(S.RINGING, at, "ringing")

    def answered(self, at: datetime) -> Transition:
        transition = self._go(S.ANSWERED, at, "answered")
        self.answered_at = at
        return transition

    def amd_result(self, result: AmdResult) -> None:
        if self.state is not S.ANSWERED:
            raise InvalidTransition(self.attempt_id, self.state, "amd")
        self.amd = result

    def routed(self, route: Route, at: datetime) -> Transition:
        if route is Route.NONE:
            raise ValueError("routed needs a route")
        if self.state is S.ROUTED and route is self.route:
            raise InvalidTransition(self.attempt_id, self.state, f"routed to {route.value} again")
        self.route = route
        transition = self._go(S.ROUTED, at, f"routed to {route.value}")
        self.routes.append(route)
        return transition

    def connected(self, at: datetime, *, agent: str | None = None) -> Transition:
        transition = self._go(S.CONNECTED, at, "connected")
        self.connected_at = at
        self.agent = agent
        return transition

    def unanswered(self, *, dial_status: str | None, cause: int | None) -> None:
        """Dial() gave up; the ENDED that follows carries the outcome."""
        if self.state not in (S.ORIGINATING, S.RINGING):
            raise InvalidTransition(self.attempt_id, self.state, "unanswered")
        self.dial_status = dial_status
        if cause:
            self.cause = cause

    def ended(self, at: datetime, *, cause: int | None = None, failed: bool = False) -> Transition:
        if self.state is S.ENDED:
            raise InvalidTransition(self.attempt_id, self.state, "ended")
        if cause and self.cause is None:
            self.cause = cause
        self.outcome = self._final_outcome(failed)
        self.ended_at = at
        return self._go(S.ENDED, at, "ended")

    def _final_outcome(self, failed: bool) -> Outcome:
        if self.state is S.DECIDED:
            return Outcome.CANCELLED
        if self.answered_at is None and self.state in (S.ORIGINATING, S.RINGING):
            return Outcome.FAILED if failed else unanswered_outcome(self.cause, self.dial_status)
        if self.amd is AmdResult.MACHINE:
            return Outcome.MACHINE
        if self.taken_by_bot():
            return Outcome.HUMAN
        if (Route.QUEUE in self.routes and self.connected_at is None
                and self.routes[-1] is not Route.QUEUE):
            return Outcome.ABANDONED
        return Outcome.HUMAN

    def taken_by_bot(self) -> bool:
        """The bot took the call the moment it was answered and talked (it then handed it to agents). Its later hand-off to agents that nobody
        takes (a bot-only campaign's escalation stage) does not make the call abandoned: the person was
        never left waiting for someone to speak."""
        # The dialplan routes to the queue after the bot only when the bot itself asked for the
        # transfer; a bot that failed or never answered goes straight to the identification message.
        return bool(self.routes) and self.routes[0] is Route.BOT and Route.QUEUE in self.routes[1:]

    # --- events -----------------------------------------------------------------------------

    def apply(self, event: CallEvent) -> Transition | None:
        """Advance on an adapter event; returns the transition, or None for detail-only events."""
        if event.attempt_id != self.attempt_id:
            raise ValueError(f"event for attempt {event.attempt_id} fed to {self.attempt_id}")
        kind = event.kind
        if kind is CallEventKind.RINGING:
            return self.ringing(event.at)
        if kind is CallEventKind.ANSWERED:
            return self.answered(event.at)
        if kind is CallEventKind.AMD:
            self.amd_result(event.amd or AmdResult.NOTSURE)
            return None
        if kind is CallEventKind.ROUTED:
            assert event.route is not None
            return self.routed(event.route, event.at)
        if kind is CallEventKind.CONNECTED:
            return self.connected(event.at, agent=event.agent)
        if kind is CallEventKind.UNANSWERED:
            self.unanswered(dial_status=event.dial_status, cause=event.cause)
            return None
        if kind is CallEventKind.ENDED:
            return self.ended(event.at, cause=event.cause)
        if kind is CallEventKind.FAILED:
            return self.ended(event.at, cause=event.cause, failed=True)
        raise ValueError(f"unknown event kind {kind}")
