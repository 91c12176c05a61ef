"""Hopper order: expected recovery × the chance the contact answers at this local hour.

Seed 003 asks for "focus on the groups likely to repay" and "the best time to call by model";
seed 002's C-score segments debtors from past collection data. We keep both small and explainable:

* probability of payment: a Beta prior centred on the stage's base rate, updated with the debtor's
  promises kept (successes) and broken, plus refusals at half weight (failures);
* answer probability: an empirical-Bayes Beta-binomial per local hour of the week. A contact's
  slot is shrunk towards the contact's own hour of day (all days pooled), which is shrunk towards
  the pooled population rate for that hour scaled by the contact's overall answer propensity. A new
  contact gets the population's hourly profile; a contact who never answers sinks even before every
  hour has been tried; one who answers at 19:00 on Mondays is tried at 19:00 on Tuesdays too.

Pure functions over frozen dataclasses so the simulator can call them per tick; the lift study
can switch each factor off (`order_hopper(..., by_recovery=False)`) and compare to oldest-first.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dialer.clock import ensure_utc
from dialer.compliance.facts import PastAttempt
from dialer.domain import Outcome

HOURS_PER_WEEK = 168
# a live person picked up; machines are not an answer for best-time purposes
_ANSWERED = frozenset({Outcome.HUMAN, Outcome.ABANDONED})


class HourBasis(str, enum.Enum):
    HOUR_OF_WEEK = "hour_of_week"   # Monday 00:00–00:59 local is slot 0
    HOUR_OF_DAY = "hour_of_day"     # pools the seven days: for sparse histories


def hour_of_week(instant: datetime, zone: str) -> int:
    local = ensure_utc(instant).astimezone(ZoneInfo(zone))
    return local.weekday() * 24 + local.hour


@dataclass(frozen=True)
class AnswerTally:
    """Dials and live answers of one contact (or a population) per local hour of the week."""

    attempts: tuple[int, ...] = (0,) * HOURS_PER_WEEK
    answers: tuple[int, ...] = (0,) * HOURS_PER_WEEK

    def __post_init__(self) -> None:
        if len(self.attempts) != HOURS_PER_WEEK or len(self.answers) != HOURS_PER_WEEK:
            raise ValueError("an AnswerTally has one count per hour of the week (168)")

    def recorded(self, slot: int, answered: bool) -> AnswerTally:
        attempts = list(self.attempts)
        attempts[slot] += 1
        answers = self.answers
        if answered:
            answers_list = list(answers)
            answers_list[slot] += 1
            answers = tuple(answers_list)
        return AnswerTally(tuple(attempts), answers)

    def slot(self, slot: int, basis: HourBasis) -> tuple[int, int]:
        """(attempts, answers) for the slot, pooled over the week's days for HOUR_OF_DAY."""
        if basis is HourBasis.HOUR_OF_WEEK:
            return self.attempts[slot], self.answers[slot]
        hour = slot % 24
        return (sum(self.attempts[hour::24]), sum(self.answers[hour::24]))

    @property
    def total_attempts(self) -> int:
        return sum(self.attempts)

    @property
    def total_answers(self) -> int:
        return sum(self.answers)


def tally_from_attempts(attempts: Iterable[PastAttempt], zone: str) -> AnswerTally:
    """Build a contact's tally from the gate's attempt history (calls still in flight skipped)."""
    tried = [0] * HOURS_PER_WEEK
    answered = [0] * HOURS_PER_WEEK
    for attempt in attempts:
        if attempt.outcome is None or attempt.outcome is Outcome.CANCELLED:
            continue
        slot = hour_of_week(attempt.placed_at, zone)
        tried[slot] += 1
        answered[slot] += attempt.outcome in _ANSWERED
    return AnswerTally(tuple(tried), tuple(answered))


@dataclass(frozen=True)
class PopulationPrior:
    """Pooled answer rates per slot, precomputed once per campaign (or per simulator run)."""

    overall: float
    by_day_hour: tuple[float, ...]    # 24
    by_week_hour: tuple[float, ...]   # 168
    slot_strength: float = 3.0        # pseudo-dials behind a contact's slot prior
    contact_strength: float = 6.0     # pseudo-dials behind a contact's overall propensity

    @classmethod
    def pooled(cls, tallies: Iterable[AnswerTally], *, default_rate: float = 0.3,
               smoothing: float = 20.0, slot_strength: float = 3.0,
               contact_strength: float = 6.0) -> PopulationPrior:
        tried = [0] * HOURS_PER_WEEK
        answered = [0] * HOURS_PER_WEEK
        for tally in tallies:
            for slot in range(HOURS_PER_WEEK):
                tried[slot] += tally.attempts[slot]
                answered[slot] += tally.answers[slot]
        overall = (sum(answered) + smoothing * default_rate) / (sum(tried) + smoothing)
        by_day = tuple((sum(answered[h::24]) + smoothing * overall)
                       / (sum(tried[h::24]) + smoothing) for h in range(24))
        by_week = tuple((answered[s] + smoothing * by_day[s % 24]) / (tried[s] + smoothing)
                        for s in range(HOURS_PER_WEEK))
        return cls(overall, by_day, by_week, slot_strength, contact_strength)

    def rate(self, slot: int, basis: HourBasis) -> float:
        if basis is HourBasis.HOUR_OF_WEEK:
            return self.by_week_hour[slot]
        return self.by_day_hour[slot % 24]


def answer_probability(tally: AnswerTally, prior: PopulationPrior, slot: int,
                       basis: HourBasis = HourBasis.HOUR_OF_WEEK) -> float:
    """Posterior mean of the contact answering a dial placed in `slot` (local hour of the week).

    Three nested Beta-binomial levels, each the prior of the next: the contact's overall
    propensity (relative to the population), the contact's hour of day (all seven days pooled),
    then, for HOUR_OF_WEEK, the contact's exact hour of the week.
    """
    propensity = ((tally.total_answers + prior.contact_strength * prior.overall)
                  / (tally.total_attempts + prior.contact_strength)) / prior.overall
    day_prior = min(0.999, max(0.001, prior.rate(slot, HourBasis.HOUR_OF_DAY) * propensity))
    tried, answered = tally.slot(slot, HourBasis.HOUR_OF_DAY)
    by_day = (answered + prior.slot_strength * day_prior) / (tried + prior.slot_strength)
    if basis is HourBasis.HOUR_OF_DAY:
        return by_day
    # the population's weekly shape (e.g. Sunday evenings) scales the contact's hour of day
    weekly_shape = prior.rate(slot, HourBasis.HOUR_OF_WEEK) / prior.rate(slot,
                                                                          HourBasis.HOUR_OF_DAY)
    week_prior = min(0.999, max(0.001, by_day * weekly_shape))
    tried, answered = tally.slot(slot, HourBasis.HOUR_OF_WEEK)
    return (answered + prior.slot_strength * week_prior) / (tried + prior.slot_strength)


@dataclass(frozen=True)
class PaymentHistory:
    promises_kept: int = 0
    promises_broken: int = 0
    refusals: int = 0


@dataclass(frozen=True)
class PaymentModel:
    """Base chance that an account in a stage pays during the campaign, and how history moves it.

    Starting rates are guesses shaped by seed 000 (M1 1–3 dpd: 52% same-day, 80%+ cumulative) and
    falling with dpd; calibrate them from the campaign's own reports.
    """

    stage_rates: Mapping[str, float] = field(default_factory=lambda: {
        "reminder": 0.6, "willingness": 0.4, "escalation": 0.25, "final": 0.1})
    default_rate: float = 0.2
    prior_strength: float = 4.0
    refusal_weight: float = 0.5

    def probability(self, stage: str, history: PaymentHistory) -> float:
        base = self.stage_rates.get(stage, self.default_rate)
        successes = history.promises_kept
        failures = history.promises_broken + self.refusal_weight * history.refusals
        return (self.prior_strength * base + successes) / (self.prior_strength + successes
                                                            + failures)


@dataclass(frozen=True)
class Candidate:
    """A dialable contact as the hopper sees it."""

    contact_id: int
    account_id: int
    zone: str
    outstanding_minor: int
    stage: str
    waiting_since: datetime          # when it became eligible: the oldest-first key
    history: PaymentHistory = PaymentHistory()
    tally: AnswerTally = AnswerTally()


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    expected_recovery_minor: float   # amount × P(pay); a ranking figure, never booked as money
    answer_probability: float
    score: float


def score(candidate: Candidate, now: datetime, *, payment: PaymentModel,
          prior: PopulationPrior, basis: HourBasis = HourBasis.HOUR_OF_WEEK,
          by_recovery: bool = True, by_answer_time: bool = True) -> Scored:
    expected = candidate.outstanding_minor * payment.probability(candidate.stage,
                                                                 candidate.history)
    p_answer = answer_probability(candidate.tally, prior, hour_of_week(now, candidate.zone), basis)
    value = (expected if by_recovery else 1.0) * (p_answer if by_answer_time else 1.0)
    return Scored(candidate, expected, p_answer, value)


def order_hopper(candidates: Iterable[Candidate], now: datetime, *, payment: PaymentModel,
                 prior: PopulationPrior, basis: HourBasis = HourBasis.HOUR_OF_WEEK,
                 by_recovery: bool = True, by_answer_time: bool = True) -> list[Scored]:
    """Best first; ties (and both factors off) fall back to oldest-first."""
    scored = [score(c, now, payment=payment, prior=prior, basis=basis, by_recovery=by_recovery,
                    by_answer_time=by_answer_time) for c in candidates]
    scored.sort(key=lambda s: (-s.score, s.candidate.waiting_since, s.candidate.contact_id))
    return scored


def oldest_first(candidates: Iterable[Candidate]) -> list[Candidate]:
    """The baseline the lift study compares against."""
    return sorted(candidates, key=lambda c: (c.waiting_since, c.contact_id))


def best_times_to_call(tally: AnswerTally, prior: PopulationPrior, zone: str, now: datetime, *,
                       horizon_hours: int = 24, window_start: time = time(8),
                       window_end: time = time(21),
                       basis: HourBasis = HourBasis.HOUR_OF_WEEK
                       ) -> Sequence[tuple[datetime, float]]:
    """Local hour starts in the next `horizon_hours` inside the window, best answer chance first.

    The window here is the campaign's own preference (e.g. 08:00–21:00, inside the legal
    22:00–08:00 quiet hours); the gate still checks the legal window on every dial. The current
    hour counts from `now`, later hours from their local start.
    """
    now = ensure_utc(now)
    tz = ZoneInfo(zone)
    local_now = now.astimezone(tz)
    top_of_hour = local_now.replace(minute=0, second=0, microsecond=0)
    options: list[tuple[datetime, float]] = []
    for offset in range(horizon_hours):
        # step in UTC so DST transitions neither repeat nor skip an hour
        start_utc = ensure_utc(top_of_hour) + timedelta(hours=offset)
        local = start_utc.astimezone(tz)
        if not _within(local.time(), window_start, window_end):
            continue
        slot = local.weekday() * 24 + local.hour
        options.append((max(start_utc, now), answer_probability(tally, prior, slot, basis)))
    options.sort(key=lambda option: (-option[1], option[0]))
    return options


def _within(moment: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end
