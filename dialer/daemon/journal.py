"""The daemon's `CallJournal`: every transition the call tracker makes, written on the attempt row.

It is the only writer of attempt rows after the gate, so restarts reconcile against one place.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer import attempts
from dialer.db.models import Agent, Attempt
from dialer.db.session import transaction
from dialer.domain import AttemptState, Outcome, Route
from dialer.telephony.lifecycle import CallLifecycle
from dialer.telephony.tracker import CallEnd


class AttemptJournal:
    def __init__(self, *, sessions: sessionmaker[Session], node: str) -> None:
        self._sessions = sessions
        self._node = node
        self._agent_ids: dict[str, int | None] = {}

    def originating(self, attempt_id: int, at: datetime, channel_id: str) -> None:
        with transaction(self._sessions) as session:
            attempts.transition(session, attempt_id, AttemptState.ORIGINATING, at, channel_id=channel_id)

    def advanced(self, attempt_id: int, state: AttemptState, at: datetime, fields: dict[str, object]) -> None:
        fields = dict(fields)
        agent = fields.pop("agent", None)
        with transaction(self._sessions) as session:
            if agent is not None:
                fields["agent_id"] = self._agent_id(session, str(agent))
            attempts.transition(session, attempt_id, state, at, **fields)

    def closed(self, end: CallEnd) -> None:
        lc = end.call.lifecycle
        with transaction(self._sessions) as session:
            attempt = session.get(Attempt, end.call.attempt_id)
            # An answered call routed straight to the bot is a conversation candidate; whether it
            # was an effective conversation (RPC) is the bot's verdict, recorded with its outcome.
            conversation = attempt.conversation if attempt is not None else False
            agent_id = self._agent_id(session, lc.agent) if lc.agent else None
            attempts.close(session, end.call.attempt_id, attempts.CallResult(
                outcome=end.outcome, ended_at=end.at, answered_at=lc.answered_at, connected_at=lc.connected_at,
                hangup_cause=lc.cause, hangup_cause_text=end.why, amd_result=lc.amd.value if lc.amd else None,
                route=_recorded_route(lc), conversation=conversation,
                abandoned=end.outcome is Outcome.ABANDONED, recording_path=end.recording, agent_id=agent_id),
                actor=f"daemon@{self._node}")

    def _agent_id(self, session: Session, name: str) -> int | None:
        # Asterisk names the agent after the softphone's endpoint (PJSIP/agent1 -> agent1); the
        # agents table names people. Either may match.
        if name not in self._agent_ids:
            self._agent_ids[name] = session.scalar(select(Agent.id).where(
                (Agent.name == name) | (Agent.endpoint.like(f"%/{name}"))).limit(1))
        return self._agent_ids[name]


def _recorded_route(lc: CallLifecycle) -> Route | None:
    """The route the attempt row keeps: the last one, except that a call the bot took at answer stays
    a bot call when its hand-off found no agent and the identification message closed it (the
    abandonment measure reads a safe-harbour route as a dropped call, which this was not)."""
    if not lc.routes:
        return None
    if lc.taken_by_bot() and lc.routes[-1] is Route.SAFE_HARBOUR:
        return Route.BOT
    return lc.routes[-1]
