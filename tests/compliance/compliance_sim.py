"""A tiny dial loop for the property tests: a hopper that asks the pure gate before every dial.

It keeps the debtor's attempt history the way the database would (calls still ringing have no
outcome yet), dials only on an allow decision, and records every attempt with the facts the gate
saw, so `checker.check` can re-judge the whole history independently afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from dialer.compliance.checker import AttemptRecord
from dialer.compliance.facts import DialRequest, PastAttempt, WindowAgreement
from dialer.compliance.profiles import PolicyProfile
from dialer.compliance.rules import Decision, evaluate
from dialer.domain import CampaignMode, ContactOwner, Outcome

DEBTOR_ID = 1


@dataclass(frozen=True)
class Contact:
    contact_id: int
    e164: str
    owner: ContactOwner
    zones: tuple[str, ...]
    agreements: tuple[WindowAgreement, ...] = ()
    inconvenient: tuple[tuple[time, time], ...] = ()


@dataclass(frozen=True)
class Step:
    """One hopper visit: wait, pick a contact and a debt, and what the call does if dialled."""

    wait_s: int
    contact: int
    account: int
    outcome: Outcome
    duration_s: int
    conversation: bool
    jump_to_next_allowed: bool      # the hopper skips straight to the gate's next instant
    mode: CampaignMode = CampaignMode.PREDICTIVE
    consent: bool = False


@dataclass
class DialLoop:
    profile: PolicyProfile
    contacts: list[Contact]
    start: datetime
    unreachable_since: datetime | None = None
    budget_restored_at: datetime | None = None
    attempts: list[AttemptRecord] = field(default_factory=list)
    decisions: list[tuple[DialRequest, datetime, Decision]] = field(default_factory=list)

    def history(self, now: datetime) -> tuple[PastAttempt, ...]:
        """What the database shows at `now`: calls not yet ended have no outcome."""
        past = []
        for a in self.attempts:
            ended = a.ended_at is not None and a.ended_at <= now
            past.append(PastAttempt(
                attempt_id=a.attempt_id, contact_id=a.contact_id, e164=a.e164, account_id=a.account_id,
                campaign_id=a.campaign_id, placed_at=a.placed_at,
                outcome=a.outcome if ended else None,
                conversation=a.conversation and ended, abandoned=a.abandoned and ended,
                live_agent_guaranteed=a.live_agent_guaranteed, consented=a.consented,
                owner=a.owner, ended_at=a.ended_at if ended else None, time_zones=a.zones))
        return tuple(past)

    def request(self, step: Step, now: datetime) -> DialRequest:
        c = self.contacts[step.contact % len(self.contacts)]
        return DialRequest(
            campaign_id=1 + step.account % 2, campaign_mode=step.mode, account_id=100 + step.account % 2,
            debtor_id=DEBTOR_ID, contact_id=c.contact_id, e164=c.e164, owner=c.owner, time_zones=c.zones,
            inconvenient_times=c.inconvenient, window_agreements=c.agreements,
            direct_consent_given_at=now - timedelta(days=1) if step.consent else None,
            direct_consent_until=now + timedelta(days=30) if step.consent else None,
            debtor_unreachable_since=self.unreachable_since,
            abandonment_budget_restored_at=self.budget_restored_at,
            history=self.history(now))

    def run(self, steps: list[Step], *, obey_gate: bool = True) -> None:
        """Visit each step; dial on allow (or always, to test that the checker catches breaches)."""
        now = self.start
        last_next: datetime | None = None
        for step in steps:
            if step.jump_to_next_allowed and last_next is not None and last_next > now:
                now = last_next
            else:
                now = now + timedelta(seconds=step.wait_s)
            request = self.request(step, now)
            decision = evaluate(request, self.profile, now)
            self.decisions.append((request, now, decision))
            last_next = decision.next_allowed_at
            if decision.allowed or not obey_gate:
                self.dial(step, request, now, decision)

    def dial(self, step: Step, request: DialRequest, now: datetime, decision: Decision) -> None:
        rpc = step.conversation and step.outcome is Outcome.HUMAN and request.owner is ContactOwner.DEBTOR
        self.attempts.append(AttemptRecord(
            attempt_id=len(self.attempts) + 1, debtor_id=DEBTOR_ID, account_id=request.account_id,
            campaign_id=request.campaign_id, contact_id=request.contact_id, e164=request.e164,
            owner=request.owner, zones=request.time_zones, placed_at=now, outcome=step.outcome,
            ended_at=now + timedelta(seconds=step.duration_s), conversation=rpc,
            abandoned=step.outcome is Outcome.ABANDONED,
            live_agent_guaranteed=request.campaign_mode.live_agent_guaranteed,
            consented=decision.consent_excluded, consent_given_at=request.direct_consent_given_at,
            agreements=request.window_agreements, inconvenient=request.inconvenient_times,
            debtor_unreachable_since=request.debtor_unreachable_since,
            abandonment_budget_restored_at=request.abandonment_budget_restored_at))
