"""The pure decision of the compliance gate: one dial request, one profile, one instant.

`evaluate` runs every rule of the profile. Each rule either passes or denies with the earliest
instant at which *that rule* would pass for the same request and the same history (history only
grows when the gate allows something, so the instant is exact for every rule but `call_in_flight`,
whose end depends on the network). The decision's `next_allowed_at` is the earliest instant at
which *all* rules pass together, found by jumping from one rule's next instant to the next until
none denies, so the hopper can skip the contact without polling.

"A day" is the local calendar date of the dial in each candidate zone of the contact being
dialled; with several zones the strictest reading wins (a cap reached on the local day of any
zone denies). See docs/compliance.md for every rule, its profile field and its source.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from dialer.clock import ensure_utc
from dialer.compliance import localtime as lt
from dialer.compliance import outcomes
from dialer.compliance.facts import DialRequest, PastAttempt
from dialer.compliance.profiles import PolicyProfile
from dialer.compliance.windows import ContactHours, closed_reason, next_open
from dialer.domain import ContactOwner, Outcome

_MAX_JUMPS = 64


class DenyReason(str, enum.Enum):
    NO_TIME_ZONE = "no_time_zone"
    INVALID_NUMBER = "invalid_number"
    DNC = "dnc"
    SUPPRESSED = "suppressed"
    THIRD_PARTY_LOCKED = "third_party_locked"
    LIFETIME_ATTEMPT_LIMIT = "lifetime_attempt_limit"
    CAMPAIGN_ATTEMPT_LIMIT = "campaign_attempt_limit"
    CALL_IN_FLIGHT = "call_in_flight"
    ABANDONMENT_BUDGET_SPENT = "abandonment_budget_spent"
    HOLIDAY = "holiday"
    INCONVENIENT_TIME = "inconvenient_time"
    OUTSIDE_WINDOW = "outside_window"
    DAILY_CONVERSATION_CAP = "daily_conversation_cap"
    DAILY_NUMBER_ATTEMPT_CAP = "daily_number_attempt_cap"
    SEVEN_IN_SEVEN = "seven_in_seven"
    CONVERSATION_QUIET_PERIOD = "conversation_quiet_period"
    UNANSWERED_WITHIN_5MIN = "unanswered_within_5min"
    ABANDONED_LOCKOUT_72H = "abandoned_lockout_72h"
    MACHINE_SAME_DAY = "machine_same_day"


@dataclass(frozen=True)
class Denial:
    reason: DenyReason
    next_allowed_at: datetime | None     # None: never, on the facts the gate has
    detail: str
    exact: bool = True                   # False only for call_in_flight (a re-check hint)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: DenyReason | None
    next_allowed_at: datetime | None
    detail: str
    denials: tuple[Denial, ...] = ()
    consent_excluded: bool = False       # us 1006.14(b)(3): store on the attempt as `consented`


@dataclass(frozen=True)
class RuleContext:
    """The request with its history cleaned once: cancelled calls dropped, future rows ignored."""

    request: DialRequest
    profile: PolicyProfile
    history: tuple[PastAttempt, ...]
    hours: ContactHours = field(init=False)
    _epochs: dict[int, tuple[int, int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hours", ContactHours(
            self.request.time_zones, self.request.window_agreements, self.request.inconvenient_times))
        # epoch seconds of each attempt's dial and result, computed once per decision
        object.__setattr__(self, "_epochs", {a.attempt_id: (lt.epoch(a.placed_at), lt.epoch(a.result_at))
                                             for a in self.history})

    @classmethod
    def build(cls, request: DialRequest, profile: PolicyProfile, now: datetime) -> RuleContext:
        history = tuple(a for a in request.history
                        if a.outcome is not Outcome.CANCELLED and a.placed_at <= now)
        return cls(request, profile, history)

    def placed_s(self, attempt: PastAttempt) -> int:
        return self._epochs[attempt.attempt_id][0]

    def result_s(self, attempt: PastAttempt) -> int:
        return self._epochs[attempt.attempt_id][1]

    def same_number(self) -> list[PastAttempt]:
        return [a for a in self.history if a.e164 == self.request.e164]


Rule = Callable[[RuleContext, datetime], Denial | None]


def evaluate(request: DialRequest, profile: PolicyProfile, now: datetime) -> Decision:
    now = ensure_utc(now)
    ctx = RuleContext.build(request, profile, now)
    consent = consent_active(request, profile, now)
    denials = deny_all(ctx, now)
    if not denials:
        return Decision(True, None, None, "allowed", consent_excluded=consent)
    primary = max(denials, key=lambda d: (d.next_allowed_at is None,
                                          d.next_allowed_at or now, -RULES_BY_REASON[d.reason]))
    return Decision(False, primary.reason, earliest_all_clear(ctx, now, denials),
                    "; ".join(f"{d.reason.value}: {d.detail}" for d in denials), tuple(denials),
                    consent_excluded=consent)


def deny_all(ctx: RuleContext, at: datetime) -> list[Denial]:
    return [d for rule in RULES if (d := rule(ctx, at)) is not None]


def earliest_all_clear(ctx: RuleContext, now: datetime, denials: list[Denial]) -> datetime | None:
    """Jump to the latest per-rule instant until no time-bound rule denies.

    Sound because each rule's instant is the first at which it passes: no instant before the
    largest of them can pass all rules. An in-flight call only contributes its re-check hint.
    """
    hint = max((d.next_allowed_at for d in denials if not d.exact and d.next_allowed_at), default=now)
    current = [d for d in denials if d.exact]
    at = now
    for _ in range(_MAX_JUMPS):
        if not current:
            return max(at, hint)
        if any(d.next_allowed_at is None for d in current):
            return None
        at = max(d.next_allowed_at for d in current if d.next_allowed_at is not None)
        current = [d for d in deny_all(ctx, at) if d.exact]
    # Not reached with real profiles (each jump passes a midnight or a window edge); if it were,
    # a later re-check is safe, "never" would hide the contact for good.
    return max(at, hint)


def consent_active(request: DialRequest, profile: PolicyProfile, at: datetime) -> bool:
    """1006.14(b)(3): a call placed with direct prior consent given within the last 7 days is
    excluded from the frequency limits. Without the consent instant we cannot bound it: no exclusion."""
    days = profile.caps.consent_exclusion_days
    given, until = request.direct_consent_given_at, request.direct_consent_until
    if days is None or given is None or request.owner is not ContactOwner.DEBTOR:
        return False
    end = given + timedelta(days=days)
    if until is not None:
        end = min(end, until)
    return given <= at < end


# ---------------------------------------------------------------- rules without a clock


def _zones(ctx: RuleContext, at: datetime) -> Denial | None:
    if not ctx.request.time_zones:
        return Denial(DenyReason.NO_TIME_ZONE, None, "no candidate time zone for this number")
    return None


def _invalid(ctx: RuleContext, at: datetime) -> Denial | None:
    return None if ctx.request.valid_number else Denial(DenyReason.INVALID_NUMBER, None, "number marked invalid")


def _dnc(ctx: RuleContext, at: datetime) -> Denial | None:
    return Denial(DenyReason.DNC, None, "on a do-not-call list") if ctx.request.on_dnc else None


def _suppressed(ctx: RuleContext, at: datetime) -> Denial | None:
    return Denial(DenyReason.SUPPRESSED, None, "contact suppressed") if ctx.request.suppressed else None


def _lifetime(ctx: RuleContext, at: datetime) -> Denial | None:
    cap = ctx.profile.caps.lifetime_attempts
    if cap is None:
        return None
    seen = sum(1 for a in ctx.history if a.contact_id == ctx.request.contact_id)
    count = max(ctx.request.lifetime_attempts_on_contact, seen)
    return Denial(DenyReason.LIFETIME_ATTEMPT_LIMIT, None, f"{count} of {cap} lifetime attempts") \
        if count >= cap else None


def _campaign(ctx: RuleContext, at: datetime) -> Denial | None:
    cap = ctx.profile.caps.campaign_attempts
    if cap is None:
        return None
    r = ctx.request
    seen = sum(1 for a in ctx.history if a.campaign_id == r.campaign_id and a.account_id == r.account_id)
    count = max(r.campaign_attempts_on_account, seen)
    return Denial(DenyReason.CAMPAIGN_ATTEMPT_LIMIT, None, f"{count} of {cap} attempts in this campaign") \
        if count >= cap else None


def _in_flight(ctx: RuleContext, at: datetime) -> Denial | None:
    """Never two calls to one debtor at once (any of their numbers or their third parties): an
    unfinished call could still become a conversation that a cap or quiet period must see."""
    flying = [a for a in ctx.history if outcomes.in_flight(a.outcome)]
    if not flying:
        return None
    return Denial(DenyReason.CALL_IN_FLIGHT, at + timedelta(seconds=ctx.profile.in_flight_recheck_s),
                  f"attempt {flying[0].attempt_id} still in flight", exact=False)


def _budget(ctx: RuleContext, at: datetime) -> Denial | None:
    restored = ctx.request.abandonment_budget_restored_at
    if restored is None or at >= restored or ctx.request.campaign_mode.live_agent_guaranteed:
        return None
    return Denial(DenyReason.ABANDONMENT_BUDGET_SPENT, restored,
                  "abandonment ceiling reached: only guaranteed-agent modes may dial")


def _third_party(ctx: RuleContext, at: datetime) -> Denial | None:
    policy, r = ctx.profile.third_party, ctx.request
    if not policy.locked_until_unreachable or r.owner is not ContactOwner.THIRD_PARTY \
            or r.debtor_numbers_all_invalid or not r.time_zones:
        return None
    unlocks = third_party_unlocks(ctx)
    if any(u <= at for u in unlocks):
        return None
    return Denial(DenyReason.THIRD_PARTY_LOCKED, min(unlocks, default=None),
                  "third party locked until the debtor is unreachable")


def third_party_unlocks(ctx: RuleContext) -> list[datetime]:
    """Instants from which the debtor counts as unreachable (cn CBA 2026), on current facts
    (all numbers invalid is handled by the caller: unlocked at once)."""
    policy, r, zones = ctx.profile.third_party, ctx.request, ctx.request.time_zones
    unlocks = []
    own = sorted((a for a in ctx.history if a.owner is ContactOwner.DEBTOR), key=lambda a: a.placed_at)
    streak = own[-policy.unlock_after_failed_attempts:]
    if len(streak) == policy.unlock_after_failed_attempts and all(outcomes.no_contact(a.outcome) for a in streak):
        last = ctx.result_s(streak[-1])
        unlocks.append(lt.from_epoch(max(lt.next_local_midnight(z, last) for z in zones)))
    if r.debtor_unreachable_since is not None:
        since = lt.epoch(r.debtor_unreachable_since)
        days = timedelta(days=policy.unlock_after_unreachable_days)
        unlocks.append(lt.from_epoch(max(lt.local_day_start(z, lt.local_date(z, since) + days) for z in zones)))
    return unlocks


# ---------------------------------------------------------------- rules of the clock


def _window(ctx: RuleContext, at: datetime) -> Denial | None:
    if not ctx.request.time_zones:
        return None       # denied by _zones
    why = closed_reason(ctx.profile.windows, ctx.hours, at)
    if why is None:
        return None
    return Denial(DenyReason(why), next_open(ctx.profile.windows, ctx.hours, at),
                  f"calling window closed in {', '.join(ctx.request.time_zones)}")


def _daily(ctx: RuleContext, at: datetime, attempts: list[PastAttempt], cap: int,
           reason: DenyReason, what: str) -> Denial | None:
    """Deny while, in any zone, the attempts on today's local date reached `cap`."""
    now_s = lt.epoch(at)
    reopen: list[int] = []
    for z in ctx.request.time_zones:
        today = lt.local_date(z, now_s)
        if sum(1 for a in attempts if lt.local_date(z, ctx.placed_s(a)) == today) >= cap:
            reopen.append(lt.next_local_midnight(z, now_s))
    if not reopen:
        return None
    return Denial(reason, lt.from_epoch(max(reopen)), f"{cap} {what} today (local day)")


def _conversations(ctx: RuleContext, at: datetime) -> Denial | None:
    """cn GB/T 45251: <= 3 effective conversations per debtor per day, human and bot, all
    campaigns. An in-flight call may still become one, so it counts."""
    cap = ctx.profile.caps.conversations_per_debtor_day
    if cap is None:
        return None
    talks = [a for a in ctx.history if a.conversation or outcomes.in_flight(a.outcome)]
    return _daily(ctx, at, talks, cap, DenyReason.DAILY_CONVERSATION_CAP, "effective conversations")


def _number_attempts(ctx: RuleContext, at: datetime) -> Denial | None:
    cap = ctx.profile.caps.attempts_per_number_day
    if cap is None:
        return None
    return _daily(ctx, at, ctx.same_number(), cap, DenyReason.DAILY_NUMBER_ATTEMPT_CAP,
                  "attempts to this number")


def _debt_calls(ctx: RuleContext) -> list[PastAttempt]:
    """Calls to this person about this debt that Reg F counts (not consent-excluded ones)."""
    r = ctx.request
    return [a for a in ctx.history
            if a.account_id == r.account_id and a.owner is ContactOwner.DEBTOR and not a.consented]


def _seven_in_seven(ctx: RuleContext, at: datetime) -> Denial | None:
    """12 CFR 1006.14(b)(2)(i)(A): more than 7 calls in 7 consecutive days presumes harassment,
    so the 8th is refused: deny when the last 7 local days already hold 7 counted calls
    (`debt_window_days` local dates D-6..D)."""
    cap, r = ctx.profile.caps.attempts_per_debt_7d, ctx.request
    if cap is None or r.owner is not ContactOwner.DEBTOR or consent_active(r, ctx.profile, at):
        return None
    calls = _debt_calls(ctx)
    span = timedelta(days=ctx.profile.caps.debt_window_days or 7)
    now_s = lt.epoch(at)
    reopen: list[int] = []
    for z in r.time_zones:
        today = lt.local_date(z, now_s)
        days = sorted((d for a in calls if (d := lt.local_date(z, ctx.placed_s(a))) <= today), reverse=True)
        in_window = [d for d in days if d > today - span]
        if len(in_window) >= cap:
            # the window D-6..D drops below cap once the cap-th most recent call leaves it
            reopen.append(lt.local_day_start(z, days[cap - 1] + span))
    if not reopen:
        return None
    return Denial(DenyReason.SEVEN_IN_SEVEN, lt.from_epoch(max(reopen)),
                  f"{cap} calls about this debt in the last 7 days")


def _quiet_period(ctx: RuleContext, at: datetime) -> Denial | None:
    """1006.14(b)(2)(i)(B): no call within 7 days after a conversation; conversation day = day 1."""
    days, r = ctx.profile.caps.conversation_quiet_days, ctx.request
    if days is None or r.owner is not ContactOwner.DEBTOR or consent_active(r, ctx.profile, at):
        return None
    talks = [a for a in ctx.history if a.account_id == r.account_id and a.conversation]
    now_s = lt.epoch(at)
    reopen: list[int] = []
    for z in r.time_zones:
        today = lt.local_date(z, now_s)
        talk_days: list[date] = [lt.local_date(z, ctx.result_s(a)) for a in talks]
        ends = [d + timedelta(days=days) for d in talk_days if d <= today < d + timedelta(days=days)]
        if ends:
            reopen.append(lt.local_day_start(z, max(ends)))
    if not reopen:
        return None
    return Denial(DenyReason.CONVERSATION_QUIET_PERIOD, lt.from_epoch(max(reopen)),
                  f"conversation about this debt within the last {days} days")


def _unanswered_gap(ctx: RuleContext, at: datetime) -> Denial | None:
    gap = ctx.profile.caps.unanswered_min_gap_s
    if gap is None:
        return None
    recent = [a.placed_at for a in ctx.same_number()
              if (outcomes.no_contact(a.outcome) or outcomes.in_flight(a.outcome))
              and a.placed_at > at - timedelta(seconds=gap)]
    if not recent:
        return None
    return Denial(DenyReason.UNANSWERED_WITHIN_5MIN, max(recent) + timedelta(seconds=gap),
                  f"unanswered call to this number less than {gap} s ago")


def _abandoned_lockout(ctx: RuleContext, at: datetime) -> Denial | None:
    hours = ctx.profile.lockouts.abandoned_redial_h
    if hours is None or ctx.request.campaign_mode.live_agent_guaranteed:
        return None
    span = timedelta(hours=hours)
    ends = [a.result_at + span for a in ctx.same_number()
            if outcomes.abandoned(a.outcome, a.abandoned) and at < a.result_at + span]
    if not ends:
        return None
    return Denial(DenyReason.ABANDONED_LOCKOUT_72H, max(ends),
                  f"abandoned call to this number within {hours} h; only a guaranteed agent may redial")


def _machine_same_day(ctx: RuleContext, at: datetime) -> Denial | None:
    if not ctx.profile.lockouts.machine_same_day or ctx.request.campaign_mode.live_agent_guaranteed:
        return None
    machines = [ctx.result_s(a) for a in ctx.same_number() if a.outcome is Outcome.MACHINE]
    now_s = lt.epoch(at)
    reopen = [lt.next_local_midnight(z, m) for z in ctx.request.time_zones for m in machines
              if lt.local_date(z, m) == lt.local_date(z, now_s)]
    if not reopen:
        return None
    return Denial(DenyReason.MACHINE_SAME_DAY, lt.from_epoch(max(reopen)),
                  "answering machine on this number today; only a guaranteed agent may redial")


RULES: tuple[Rule, ...] = (
    _zones, _invalid, _dnc, _suppressed, _third_party, _lifetime, _campaign, _in_flight, _budget,
    _window, _conversations, _number_attempts, _seven_in_seven, _quiet_period, _unanswered_gap,
    _abandoned_lockout, _machine_same_day,
)
RULE_FOR: dict[DenyReason, Rule] = {
    DenyReason.NO_TIME_ZONE: _zones, DenyReason.INVALID_NUMBER: _invalid, DenyReason.DNC: _dnc,
    DenyReason.SUPPRESSED: _suppressed, DenyReason.THIRD_PARTY_LOCKED: _third_party,
    DenyReason.LIFETIME_ATTEMPT_LIMIT: _lifetime, DenyReason.CAMPAIGN_ATTEMPT_LIMIT: _campaign,
    DenyReason.CALL_IN_FLIGHT: _in_flight, DenyReason.ABANDONMENT_BUDGET_SPENT: _budget,
    DenyReason.HOLIDAY: _window, DenyReason.INCONVENIENT_TIME: _window, DenyReason.OUTSIDE_WINDOW: _window,
    DenyReason.DAILY_CONVERSATION_CAP: _conversations, DenyReason.DAILY_NUMBER_ATTEMPT_CAP: _number_attempts,
    DenyReason.SEVEN_IN_SEVEN: _seven_in_seven, DenyReason.CONVERSATION_QUIET_PERIOD: _quiet_period,
    DenyReason.UNANSWERED_WITHIN_5MIN: _unanswered_gap, DenyReason.ABANDONED_LOCKOUT_72H: _abandoned_lockout,
    DenyReason.MACHINE_SAME_DAY: _machine_same_day,
}
RULES_BY_REASON: dict[DenyReason, int] = {reason: RULES.index(rule) for reason, rule in RULE_FOR.items()}


def rule_denial(reason: DenyReason, request: DialRequest, profile: PolicyProfile, at: datetime) -> Denial | None:
    """Run the single rule behind `reason` (tests check each rule's next instant on its own)."""
    at = ensure_utc(at)
    return RULE_FOR[reason](RuleContext.build(request, profile, at), at)
