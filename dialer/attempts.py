"""Attempt rows after the gate: lifecycle transitions, outcomes, and what an outcome teaches us
about the contact (invalid number, unreachable streak, opt-out). Every change is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.compliance import outcomes
from dialer.db.models import Attempt, AuditEntry, DncEntry, PhoneContact
from dialer.domain import AttemptState, ContactOwner, Outcome, Route

# Q.850 cause 1 (unallocated number) and 28 (invalid format) mean the number does not exist.
INVALID_NUMBER_CAUSES = frozenset({1, 28})


@dataclass(frozen=True)
class CallResult:
    outcome: Outcome
    ended_at: datetime
    answered_at: datetime | None = None
    connected_at: datetime | None = None
    hangup_cause: int | None = None
    hangup_cause_text: str | None = None
    amd_result: str | None = None
    route: Route | None = None
    conversation: bool = False       # an effective conversation with the debtor (RPC)
    abandoned: bool = False
    recording_path: str | None = None
    agent_id: int | None = None


def transition(session: Session, attempt_id: int, state: AttemptState, at: datetime, **fields: object) -> None:
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise LookupError(f"attempt {attempt_id} not found")
    if attempt.state is AttemptState.ENDED:
        return  # late events after the end (Asterisk sends several) change nothing
    attempt.state = state
    if state is AttemptState.ORIGINATING and attempt.originated_at is None:
        attempt.originated_at = at
    for name, value in fields.items():
        setattr(attempt, name, value)


def close(session: Session, attempt_id: int, result: CallResult, *, actor: str) -> Attempt:
    """Record how the call ended (idempotent: a second close of an ended attempt is ignored)."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise LookupError(f"attempt {attempt_id} not found")
    if attempt.state is AttemptState.ENDED:
        return attempt
    attempt.state = AttemptState.ENDED
    attempt.outcome = Outcome.ABANDONED if result.abandoned and result.outcome is Outcome.HUMAN else result.outcome
    attempt.ended_at = result.ended_at
    attempt.answered_at = result.answered_at
    attempt.connected_at = result.connected_at
    attempt.hangup_cause, attempt.hangup_cause_text = result.hangup_cause, result.hangup_cause_text
    attempt.amd_result = result.amd_result
    attempt.route = result.route or attempt.route
    attempt.conversation = result.conversation
    attempt.abandoned = result.abandoned or result.outcome is Outcome.ABANDONED
    attempt.recording_path = result.recording_path or attempt.recording_path
    attempt.agent_id = result.agent_id or attempt.agent_id
    start = attempt.originated_at or attempt.placed_at
    if result.answered_at is not None:
        attempt.ring_seconds = (result.answered_at - start).total_seconds()
        attempt.talk_seconds = (result.ended_at - (result.connected_at or result.answered_at)).total_seconds()
        if result.connected_at is not None:
            attempt.wait_seconds = (result.connected_at - result.answered_at).total_seconds()
    else:
        attempt.ring_seconds = (result.ended_at - start).total_seconds()
    _learn_about_contact(session, attempt, result)
    session.add(AuditEntry(at=result.ended_at, actor=actor, kind="attempt_end", campaign_id=attempt.campaign_id,
                           account_id=attempt.account_id, contact_id=attempt.contact_id, attempt_id=attempt.id,
                           detail={"outcome": attempt.outcome.value if attempt.outcome else None,
                                   "cause": result.hangup_cause, "route": attempt.route.value if attempt.route else None,
                                   "conversation": result.conversation, "abandoned": attempt.abandoned}))
    return attempt


def _learn_about_contact(session: Session, attempt: Attempt, result: CallResult) -> None:
    contact = session.get(PhoneContact, attempt.contact_id)
    if contact is None:
        return
    if result.outcome is Outcome.FAILED and result.hangup_cause in INVALID_NUMBER_CAUSES:
        contact.valid = False
    if outcomes.no_contact(attempt.outcome):
        contact.consecutive_failures += 1
        if contact.unreachable_since is None:
            contact.unreachable_since = attempt.placed_at
    elif attempt.outcome in (Outcome.HUMAN, Outcome.ABANDONED):
        contact.consecutive_failures = 0
        contact.unreachable_since = None


def opt_out(session: Session, *, contact_id: int, campaign_id: int | None, source: str, at: datetime,
            reason: str = "asked not to be called") -> None:
    """The person asked us to stop. A debtor's number goes on the global DNC list at once (checked
    by the gate before the next dial); a third party is suppressed permanently (cn GB/T 45251)."""
    contact = session.get(PhoneContact, contact_id)
    if contact is None:
        raise LookupError(f"contact {contact_id} not found")
    if contact.owner is ContactOwner.THIRD_PARTY:
        contact.suppressed, contact.suppressed_reason = True, reason
    exists = session.scalar(select(DncEntry.id).where(DncEntry.e164 == contact.e164, DncEntry.campaign_id.is_(None)))
    if exists is None:
        session.add(DncEntry(e164=contact.e164, campaign_id=None, reason=reason, source=source, created_at=at))
    session.add(AuditEntry(at=at, actor=source, kind="opt_out", campaign_id=campaign_id, contact_id=contact_id,
                           detail={"e164": contact.e164, "owner": contact.owner.value, "reason": reason}))
