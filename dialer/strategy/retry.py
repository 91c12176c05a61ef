"""Disposition rules in the Wombat Dialer style: outcome → retry after N minutes, at most M times.

Wombat's reschedule rules (status → retry after N seconds, at most M times) are the cleanest retry
model around (reference/PACING.md); we add the collection moves the seeds need: move to another
stage or campaign, send an SMS, hand to agents (seed 003: hardship claims go to humans with the
history), close. Counters are per stage, so entering a new stage opens a fresh set of attempts.

These rules only propose the earliest time; the compliance gate still decides every dial (window in
the contact's zone, caps, quiet week after a conversation).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dialer.clock import ensure_utc
from dialer.domain import Outcome, PromiseStatus

if TYPE_CHECKING:  # stages imports this module for RetryRules
    from dialer.strategy.stages import Stage, StagePlan


class Disposition(str, enum.Enum):
    # telephony results (no conversation)
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    MACHINE = "machine"
    FAILED = "failed"
    REJECTED = "rejected"
    CONGESTION = "congestion"
    ABANDONED = "abandoned"
    # conversation results (from the bot or the agent's wrap-up)
    PROMISE = "promise"
    REFUSED = "refused"
    CALLBACK_REQUESTED = "callback_requested"
    HARDSHIP = "hardship"
    DISPUTE = "dispute"
    WRONG_NUMBER = "wrong_number"
    OPT_OUT = "opt_out"
    PAID = "paid"

    @classmethod
    def from_outcome(cls, outcome: Outcome) -> Disposition:
        """The disposition of a call that never reached a conversation.

        A HUMAN outcome has no disposition of its own: the conversation result decides it.
        """
        if outcome in (Outcome.HUMAN, Outcome.CANCELLED):
            raise ValueError(f"outcome {outcome.value!r} needs a conversation result, "
                             "not a telephony disposition")
        return cls(outcome.value)


class WhenExhausted(str, enum.Enum):
    CLOSE = "close"
    NEXT_STAGE = "next_stage"
    HANDOFF = "handoff"


@dataclass(frozen=True)
class RetryRule:
    retry_after_minutes: int | None = None   # None: no automatic redial
    max_attempts: int | None = None          # calls ending this way in this stage; None: no limit
    when_exhausted: WhenExhausted = WhenExhausted.CLOSE
    move_to_stage: str | None = None
    move_to_campaign: str | None = None
    sms: str | None = None                   # SMS template to send now
    handoff: bool = False                    # an agent should take the account
    close: bool = False                      # stop calling this account in this campaign


@dataclass(frozen=True)
class RetryRules:
    by_disposition: Mapping[Disposition, RetryRule] = field(default_factory=dict)
    max_attempts_in_stage: int | None = None  # all dispositions together

    def rule_for(self, disposition: Disposition) -> RetryRule:
        return self.by_disposition.get(disposition, RetryRule(close=True))

    def overridden(self, changes: Mapping[Disposition, RetryRule],
                   max_attempts_in_stage: int | None = None) -> RetryRules:
        merged = {**self.by_disposition, **changes}
        limit = (self.max_attempts_in_stage if max_attempts_in_stage is None
                 else max_attempts_in_stage)
        return RetryRules(by_disposition=merged, max_attempts_in_stage=limit)


def default_retry_rules() -> RetryRules:
    D, R = Disposition, RetryRule
    return RetryRules(max_attempts_in_stage=12, by_disposition={
        D.NO_ANSWER: R(retry_after_minutes=120, max_attempts=6),
        D.BUSY: R(retry_after_minutes=15, max_attempts=4),
        D.MACHINE: R(retry_after_minutes=240, max_attempts=3),
        D.FAILED: R(retry_after_minutes=60, max_attempts=2),
        D.REJECTED: R(retry_after_minutes=240, max_attempts=3),
        D.CONGESTION: R(retry_after_minutes=5, max_attempts=5),
        # the person answered and we failed them: call back soon, but the gate's abandon rules apply
        D.ABANDONED: R(retry_after_minutes=60, max_attempts=2),
        # parked until the promised date; `review_promise` re-enters a broken one
        D.PROMISE: R(),
        D.REFUSED: R(retry_after_minutes=24 * 60, max_attempts=2,
                     when_exhausted=WhenExhausted.NEXT_STAGE),
        D.CALLBACK_REQUESTED: R(retry_after_minutes=60, max_attempts=3,
                                when_exhausted=WhenExhausted.HANDOFF),
        # seed 003: the robot cannot judge a hardship claim; a human decides, with the history
        D.HARDSHIP: R(handoff=True),
        D.DISPUTE: R(handoff=True, close=True),
        D.WRONG_NUMBER: R(close=True),
        D.OPT_OUT: R(close=True),
        D.PAID: R(close=True),
    })


@dataclass(frozen=True)
class NextStep:
    """What to do with an account after a call (or a promise review)."""

    next_eligible_at: datetime | None   # UTC; None: do not redial automatically
    stage: str
    script: str
    sms_template: str | None = None
    handoff: bool = False
    close: bool = False
    move_to_campaign: str | None = None
    reason: str = ""


def decide(disposition: Disposition, *, now: datetime, stage: Stage, plan: StagePlan,
           attempts_in_stage: Mapping[Disposition, int],
           callback_at: datetime | None = None) -> NextStep:
    """The next step after a call ended with `disposition`.

    `attempts_in_stage` counts calls in the current stage by disposition, including this one.
    `callback_at` is the debtor's requested time (see `callback_instant`), used for
    CALLBACK_REQUESTED instead of the rule's delay.
    """
    now = ensure_utc(now)
    rule = stage.retry.rule_for(disposition)
    target = plan.named(rule.move_to_stage) if rule.move_to_stage else stage
    step = NextStep(next_eligible_at=None, stage=target.name, script=target.script,
                    sms_template=rule.sms, handoff=rule.handoff, close=rule.close,
                    move_to_campaign=rule.move_to_campaign, reason=disposition.value)
    if rule.close or rule.handoff or rule.move_to_campaign or rule.retry_after_minutes is None:
        return step

    this_kind = attempts_in_stage.get(disposition, 0)
    total = sum(attempts_in_stage.values())
    stage_limit = stage.retry.max_attempts_in_stage
    if rule.max_attempts is not None and this_kind >= rule.max_attempts:
        return _exhausted(step, rule.when_exhausted, now, stage, plan,
                          f"{disposition.value}: {this_kind} of {rule.max_attempts} attempts used")
    if stage_limit is not None and total >= stage_limit:
        return _exhausted(step, WhenExhausted.CLOSE, now, stage, plan,
                          f"stage {stage.name}: {total} of {stage_limit} attempts used")

    if disposition is Disposition.CALLBACK_REQUESTED and callback_at is not None:
        eligible = max(ensure_utc(callback_at), now)
        return replace(step, next_eligible_at=eligible, reason="callback requested")
    return replace(step, next_eligible_at=now + timedelta(minutes=rule.retry_after_minutes))


def _exhausted(step: NextStep, when: WhenExhausted, now: datetime, stage: Stage,
               plan: StagePlan, why: str) -> NextStep:
    if when is WhenExhausted.HANDOFF:
        return replace(step, handoff=True, reason=why)
    if when is WhenExhausted.NEXT_STAGE:
        following = plan.next_after(stage.name)
        if following is not None:
            return replace(step, stage=following.name, script=following.script,
                           next_eligible_at=now, reason=f"{why}; moved to {following.name}")
    return replace(step, close=True, reason=why)


def callback_instant(requested: time | datetime, zone: str, now: datetime) -> datetime:
    """A bot-captured "call me at 6 pm" as a UTC instant.

    A bare time means its next occurrence in the contact's zone (tomorrow if already past); a naive
    datetime is a wall-clock time in the contact's zone. The gate still checks the window: a
    callback at 23:00 is proposed, and the gate defers or refuses it.
    """
    now = ensure_utc(now)
    tz = ZoneInfo(zone)
    if isinstance(requested, datetime):
        local = requested if requested.tzinfo is not None else requested.replace(tzinfo=tz)
        return ensure_utc(local)
    today = now.astimezone(tz).date()
    for offset in (0, 1, 2):
        candidate = datetime.combine(today + timedelta(days=offset), requested, tzinfo=tz)
        if ensure_utc(candidate) > now:
            return ensure_utc(candidate)
    raise AssertionError("unreachable: a wall time recurs within two days")


@dataclass(frozen=True)
class PromiseToPay:
    account_id: int
    amount_minor: int
    due_date: date          # in the debtor's calendar
    paid_minor: int = 0     # paid since the promise was made


def review_promise(promise: PromiseToPay, *, today: date, now: datetime, stage: Stage,
                   plan: StagePlan, grace_days: int = 1) -> tuple[PromiseStatus, NextStep | None]:
    """Kept when paid in full; broken when the date (plus grace for bank posting) passed unpaid.

    A broken promise re-enters the account at once with the follow-up script (seed 000: different
    willingness, different follow-up script); the gate decides when the call may go out.
    """
    if promise.paid_minor >= promise.amount_minor:
        return PromiseStatus.KEPT, None
    if today <= promise.due_date + timedelta(days=grace_days):
        return PromiseStatus.OPEN, None
    step = NextStep(next_eligible_at=ensure_utc(now), stage=stage.name,
                    script=plan.broken_promise_script, reason="broken promise")
    return PromiseStatus.BROKEN, step
