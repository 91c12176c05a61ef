"""Independent re-check of a complete attempt history against a profile.

The gate (`rules.py`) asks "may this one call go now?" from a snapshot of one debtor's history.
This module asks the opposite question of the finished record: "which calls broke a rule?". It
shares no counting code with the gate: one chronological sweep over all attempts, per-key sliding
windows (deques pruned as time moves on), running streaks, and its own local-time arithmetic on
`datetime.astimezone`. If either side miscounts, the two disagree and the property tests and
`dialer compliance report` show it.

The rule text the checker holds calls to (docs/compliance.md): a violation is reported on the
attempt that made the count exceed the cap, or that was placed while a lockout was running.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dialer.compliance import outcomes
from dialer.compliance.facts import WindowAgreement
from dialer.compliance.profiles import PolicyProfile
from dialer.domain import ContactOwner, Outcome



@dataclass(frozen=True)
class AttemptRecord:
    """One attempt as the audit trail holds it, with the facts the gate saw at dial time."""

    attempt_id: int
    debtor_id: int
    account_id: int
    campaign_id: int
    contact_id: int
    e164: str
    owner: ContactOwner
    zones: tuple[str, ...]
    placed_at: datetime
    outcome: Outcome | None
    ended_at: datetime | None = None
    conversation: bool = False
    abandoned: bool = False
    live_agent_guaranteed: bool = False
    consented: bool = False
    consent_given_at: datetime | None = None
    agreements: tuple[WindowAgreement, ...] = ()
    inconvenient: tuple[tuple[time, time], ...] = ()
    on_dnc: bool = False
    suppressed: bool = False
    valid_number: bool = True
    debtor_numbers_all_invalid: bool = False
    debtor_unreachable_since: datetime | None = None
    abandonment_budget_restored_at: datetime | None = None

    @property
    def outcome_at(self) -> datetime:
        return self.ended_at or self.placed_at


@dataclass(frozen=True)
class Violation:
    attempt_id: int
    rule: str             # the gate's DenyReason value for the same rule
    detail: str


def check(attempts: Iterable[AttemptRecord], profile: PolicyProfile) -> list[Violation]:
    return _Sweep(profile).run(attempts)


def _day(at: datetime, zone: str) -> date:
    return at.astimezone(ZoneInfo(zone)).date()


def _clock(at: datetime, zone: str) -> time:
    return at.astimezone(ZoneInfo(zone)).time().replace(tzinfo=None)


class _Sweep:
    def __init__(self, profile: PolicyProfile) -> None:
        self.p = profile
        caps = profile.caps
        # longest day-based look-back of the profile, plus slack for zone offsets and long calls
        self.keep = timedelta(days=max(7, caps.debt_window_days or 0, caps.conversation_quiet_days or 0,
                                       (profile.lockouts.abandoned_redial_h or 0) // 24 + 1) + 2)
        self.found: list[Violation] = []
        self.by_number: dict[str, deque[AttemptRecord]] = defaultdict(deque)
        self.talks_by_debtor: dict[int, deque[AttemptRecord]] = defaultdict(deque)
        self.counted_by_debt: dict[tuple[int, int], deque[AttemptRecord]] = defaultdict(deque)
        self.talks_by_debt: dict[tuple[int, int], deque[AttemptRecord]] = defaultdict(deque)
        self.busy_until: dict[int, datetime | None] = {}         # debtor -> end of latest call
        self.streak: dict[int, tuple[int, datetime | None]] = {}  # debtor -> failed run, last end
        self.per_contact: dict[int, int] = defaultdict(int)
        self.per_campaign: dict[tuple[int, int], int] = defaultdict(int)

    def flag(self, a: AttemptRecord, rule: str, detail: str) -> None:
        self.found.append(Violation(a.attempt_id, rule, detail))

    def run(self, attempts: Iterable[AttemptRecord]) -> list[Violation]:
        ordered = sorted((a for a in attempts if outcomes.placed(a.outcome)),
                         key=lambda a: (a.placed_at, a.attempt_id))
        for a in ordered:
            self.visit(a)
        return self.found

    def visit(self, a: AttemptRecord) -> None:
        for q in (self.by_number[a.e164], self.talks_by_debtor[a.debtor_id],
                  self.counted_by_debt[(a.debtor_id, a.account_id)], self.talks_by_debt[(a.debtor_id, a.account_id)]):
            while q and q[0].placed_at < a.placed_at - self.keep:
                q.popleft()
        self.static_facts(a)
        self.window(a)
        self.overlap(a)
        self.third_party(a)
        self.limits(a)
        self.number_rules(a)
        self.debt_rules(a)
        self.remember(a)

    def static_facts(self, a: AttemptRecord) -> None:
        if not a.zones:
            self.flag(a, "no_time_zone", "dialled without a time zone")
        if not a.valid_number:
            self.flag(a, "invalid_number", "dialled an invalid number")
        if a.on_dnc:
            self.flag(a, "dnc", "dialled a number on a do-not-call list")
        if a.suppressed:
            self.flag(a, "suppressed", "dialled a suppressed contact")
        budget = a.abandonment_budget_restored_at
        if budget is not None and a.placed_at < budget and not a.live_agent_guaranteed:
            self.flag(a, "abandonment_budget_spent", "predictive dial while the abandonment budget was spent")

    def window(self, a: AttemptRecord) -> None:
        for z in a.zones:
            if not self._open_in(a, z):
                self.flag(a, "outside_window", f"placed at {_clock(a.placed_at, z)} local time in {z}")
                return

    def _open_in(self, a: AttemptRecord, z: str) -> bool:
        d, t = _day(a.placed_at, z), _clock(a.placed_at, z)
        secs = t.hour * 3600 + t.minute * 60 + t.second
        for start, end in a.inconvenient:
            if _covers(start, end, secs, d, d - timedelta(days=1), lambda _d: True):
                return False
        window = self.p.windows.for_date(d)
        if window is not None and window.start_s <= secs < window.end_s:
            return True
        return any(
            g.valid_from <= a.placed_at and (g.valid_until is None or a.placed_at < g.valid_until)
            and _covers(g.start, g.end, secs, d, d - timedelta(days=1),
                        lambda day: self.p.windows.for_date(day) is not None)
            for g in a.agreements)

    def overlap(self, a: AttemptRecord) -> None:
        if a.debtor_id in self.busy_until:
            until = self.busy_until[a.debtor_id]
            if until is None or a.placed_at < until:
                self.flag(a, "call_in_flight", "placed while another call to this debtor was in flight")

    def third_party(self, a: AttemptRecord) -> None:
        tp = self.p.third_party
        if not tp.locked_until_unreachable or a.owner is not ContactOwner.THIRD_PARTY:
            return
        if a.debtor_numbers_all_invalid:
            return
        failed, last_end = self.streak.get(a.debtor_id, (0, None))
        if failed >= tp.unlock_after_failed_attempts and last_end is not None \
                and all(_day(a.placed_at, z) > _day(last_end, z) for z in a.zones):
            return
        since = a.debtor_unreachable_since
        if since is not None and all(
                _day(a.placed_at, z) >= _day(since, z) + timedelta(days=tp.unlock_after_unreachable_days)
                for z in a.zones):
            return
        self.flag(a, "third_party_locked", "third party called while the debtor was reachable")

    def limits(self, a: AttemptRecord) -> None:
        caps = self.p.caps
        self.per_contact[a.contact_id] += 1
        self.per_campaign[(a.campaign_id, a.account_id)] += 1
        if caps.lifetime_attempts is not None and self.per_contact[a.contact_id] > caps.lifetime_attempts:
            self.flag(a, "lifetime_attempt_limit", f"attempt {self.per_contact[a.contact_id]} to this contact")
        if caps.campaign_attempts is not None and self.per_campaign[(a.campaign_id, a.account_id)] > caps.campaign_attempts:
            self.flag(a, "campaign_attempt_limit", "over the campaign's attempts for this account")

    def number_rules(self, a: AttemptRecord) -> None:
        caps, lock, earlier = self.p.caps, self.p.lockouts, self.by_number[a.e164]
        if caps.attempts_per_number_day is not None:
            for z in a.zones:
                today = _day(a.placed_at, z)
                n = 1 + sum(1 for b in earlier if _day(b.placed_at, z) == today)
                if n > caps.attempts_per_number_day:
                    self.flag(a, "daily_number_attempt_cap", f"call {n} to this number on {today} ({z})")
                    break
        gap = caps.unanswered_min_gap_s
        if gap is not None and outcomes.no_contact(a.outcome):
            if any(outcomes.no_contact(b.outcome) and a.placed_at - b.placed_at < timedelta(seconds=gap)
                   for b in earlier):
                self.flag(a, "unanswered_within_5min", "second unanswered call to this number within the gap")
        if a.live_agent_guaranteed:
            return
        if lock.abandoned_redial_h is not None and any(
                outcomes.abandoned(b.outcome, b.abandoned)
                and a.placed_at < b.outcome_at + timedelta(hours=lock.abandoned_redial_h) for b in earlier):
            self.flag(a, "abandoned_lockout_72h", "redial after an abandoned call without a guaranteed agent")
        if lock.machine_same_day and any(
                b.outcome is Outcome.MACHINE and _day(b.outcome_at, z) == _day(a.placed_at, z)
                for b in earlier for z in a.zones):
            self.flag(a, "machine_same_day", "same-day redial after an answering machine")

    def debt_rules(self, a: AttemptRecord) -> None:
        caps = self.p.caps
        if caps.conversations_per_debtor_day is not None and a.conversation:
            for z in a.zones:
                today = _day(a.placed_at, z)
                n = 1 + sum(1 for b in self.talks_by_debtor[a.debtor_id] if _day(b.placed_at, z) == today)
                if n > caps.conversations_per_debtor_day:
                    self.flag(a, "daily_conversation_cap", f"conversation {n} with this debtor on {today} ({z})")
                    break
        if a.owner is not ContactOwner.DEBTOR or self._consent_excluded(a):
            return
        key = (a.debtor_id, a.account_id)
        if caps.attempts_per_debt_7d is not None:
            window_days = caps.debt_window_days or 7
            for z in a.zones:
                today = _day(a.placed_at, z)
                n = 1 + sum(1 for b in self.counted_by_debt[key]
                            if (today - _day(b.placed_at, z)).days < window_days)
                if n > caps.attempts_per_debt_7d:
                    self.flag(a, "seven_in_seven", f"call {n} about this debt in 7 days to {today} ({z})")
                    break
        if caps.conversation_quiet_days is not None:
            quiet = timedelta(days=caps.conversation_quiet_days)
            for b in self.talks_by_debt[key]:
                if any(_day(b.outcome_at, z) <= _day(a.placed_at, z) < _day(b.outcome_at, z) + quiet for z in a.zones):
                    self.flag(a, "conversation_quiet_period", f"call within the quiet week after attempt {b.attempt_id}")
                    break

    def _consent_excluded(self, a: AttemptRecord) -> bool:
        days = self.p.caps.consent_exclusion_days
        if not a.consented or days is None:
            return False
        given = a.consent_given_at
        return given is None or given <= a.placed_at < given + timedelta(days=days)

    def remember(self, a: AttemptRecord) -> None:
        self.by_number[a.e164].append(a)
        if a.conversation:
            self.talks_by_debtor[a.debtor_id].append(a)
        if a.owner is ContactOwner.DEBTOR and not self._consent_excluded(a):
            self.counted_by_debt[(a.debtor_id, a.account_id)].append(a)
        if a.conversation:
            self.talks_by_debt[(a.debtor_id, a.account_id)].append(a)
        previous = self.busy_until.get(a.debtor_id, a.placed_at)
        end = None if outcomes.in_flight(a.outcome) else a.outcome_at
        self.busy_until[a.debtor_id] = None if previous is None or end is None else max(previous, end)
        if a.owner is ContactOwner.DEBTOR:
            failed, _ = self.streak.get(a.debtor_id, (0, None))
            self.streak[a.debtor_id] = (failed + 1, a.outcome_at) if outcomes.no_contact(a.outcome) else (0, None)


def _covers(start: time, end: time, secs: int, day: date, yesterday: date,
            day_ok: Callable[[date], bool]) -> bool:
    s = start.hour * 3600 + start.minute * 60 + start.second
    e = end.hour * 3600 + end.minute * 60 + end.second
    if s < e:
        return s <= secs < e and day_ok(day)
    if s > e:
        return (secs >= s and day_ok(day)) or (secs < e and day_ok(yesterday))
    return False
