"""The campaign simulation's event loop: N days on a simulated clock.

Production code does the work; this module only decides *when* each piece runs:

* dialling: the real hopper (`next_candidates`) proposes accounts best first, the real `CallGate`
  decides every number (window in the contact's zone, caps, DNC, third-party lock; attempt and
  audit rows written), a denied account is parked exactly as the daemon's runner parks it, and the
  permit is redeemed by the simulated line before the call "rings". Pacing is a fixed number of
  bot channels: every live answer is taken by the bot, so nobody is abandoned;
* call ends: the bot's outcome sink, `attempts.close`, the after-call retry rules (`calls.py`);
* the scheduler's units of work at their cron times in the campaign's zone: the daily advance
  (00:05), the promise review (hourly at :10) and the priority refresh (every 15 minutes) unless
  the order is oldest-first;
* debtors paying: kept promises on the drawn day and hour, self-cures (`record_payment`).

The loop is single-threaded and every draw is keyed (behaviour.py), so a seed reproduces a run
row for row.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from dialer import attempts
from dialer.botdb import DbOutcomeSink
from dialer.clock import FixedClock
from dialer.compliance.book import ProfileBook
from dialer.compliance.budget import AbandonmentBudget
from dialer.compliance.gate import CallGate, DialTarget
from dialer.compliance.permit import PermitAuthority
from dialer.daemon.aftercall import plan_for
from dialer.daemon.hopper import Candidate, next_candidates, park
from dialer.db.models import Account, Campaign, Debtor, Payment, PhoneContact
from dialer.db.session import transaction
from dialer.domain import AttemptState, ContactOwner
from dialer.money import exponent
from dialer.scheduling.daily import advance_accounts
from dialer.scheduling.lookups import current_stage
from dialer.scheduling.payments import outstanding, record_payment
from dialer.scheduling.priorities import refresh_account_priorities
from dialer.scheduling.promises import review_open_promises
from dialer.sim.campaign.behaviour import Population
from dialer.sim.campaign.calls import CallPlan, Dialled, draw_call, record_end

NODE = "sim"
PRIORITY_EVERY = timedelta(minutes=15)
ADVANCE_AT = time(0, 5)
REVIEW_MINUTE = 10


class Order(str, enum.Enum):
    """How the hopper ranks accounts (the lift study's four arms)."""

    OLDEST = "oldest"            # no priority: longest-waiting first (the hopper's own tie-break)
    RECOVERY = "recovery"        # expected recovery only
    BEST_TIME = "best-time"      # the contact's answer chance at this local hour only
    PRIORITY = "priority"        # both: what the scheduler does in production

    @property
    def refresh_flags(self) -> tuple[bool, bool] | None:
        return {Order.OLDEST: None, Order.RECOVERY: (True, False), Order.BEST_TIME: (False, True),
                Order.PRIORITY: (True, True)}[self]


class Event(int, enum.Enum):
    # lower value first among events at the same instant: calls end before new dials are decided
    CALL_END = 0
    PAYMENT = 1
    ADVANCE = 2
    REVIEW = 3
    PRIORITIES = 4
    WAKE = 5


@dataclass
class InFlight:
    call: Dialled
    plan: CallPlan
    placed_at: datetime
    debtor_id: int


@dataclass
class RunCounters:
    decided: int = 0
    denied: int = 0
    payments: int = 0
    self_cures: int = 0
    days: list[dict[str, object]] = field(default_factory=list)


class CampaignSimulation:
    def __init__(self, *, sessions: sessionmaker[Session], campaign_id: int, book: ProfileBook,
                 population: Population, start: datetime, days: int, channels: int, order: Order,
                 zone: str, progress: Callable[[dict[str, object]], None] | None = None) -> None:
        self._sessions = sessions
        self._campaign_id = campaign_id
        self._population = population
        self._start, self._end = start, start + timedelta(days=days)
        self._channels = channels
        self._order = order
        self._zone = zone
        self._progress = progress or (lambda _day: None)
        self.clock = FixedClock(start)
        self._authority = PermitAuthority()
        self._gate = CallGate(sessions=sessions, profile_for=book.for_campaign, authority=self._authority,
                              clock=self.clock, node=NODE,
                              # Refreshed once a simulated minute: it re-reads 30 days of answered calls.
                              abandonment_budget=AbandonmentBudget(sessions=sessions, profile_for=book.for_campaign,
                                                                   refresh_s=60.0))
        self._sink = DbOutcomeSink(sessions=sessions, clock=self.clock)
        self._events: list[tuple[datetime, int, int, Event, object]] = []
        self._seq = itertools.count()
        self._in_flight: dict[int, InFlight] = {}
        self._calls_to: dict[int, int] = {}       # contact id -> calls so far
        self._talks_on: dict[int, int] = {}       # account id -> live conversations so far
        self._wake_at: datetime | None = None
        self.counters = RunCounters()

    # ---- the loop ----------------------------------------------------------------------------

    def run(self) -> RunCounters:
        if self._order is Order.OLDEST:
            with transaction(self._sessions) as session:
                session.execute(update(Account).where(Account.campaign_id == self._campaign_id)
                                .values(priority=0.0))
        self._push(self._start, Event.ADVANCE)
        self._push(self._next_review(self._start), Event.REVIEW)
        if self._order.refresh_flags is not None:
            self._push(self._start, Event.PRIORITIES)
        self._push(self._start, Event.WAKE)
        day_end = self._start + timedelta(days=1)
        while self._events and self._events[0][0] < self._end:
            at, _, _, kind, payload = heapq.heappop(self._events)
            while at >= day_end:
                self._day_done(day_end)
                day_end += timedelta(days=1)
            self.clock.set(at)
            self._handle(kind, payload)
            self._dial()
        while day_end <= self._end:
            self._day_done(day_end)
            day_end += timedelta(days=1)
        self._finish_in_flight()
        return self.counters

    def _handle(self, kind: Event, payload: object) -> None:
        now = self.clock.now()
        if kind is Event.CALL_END:
            self._end_call(int(payload))  # type: ignore[call-overload]
        elif kind is Event.PAYMENT:
            assert isinstance(payload, tuple)
            self._pay(*payload)
        elif kind is Event.ADVANCE:
            advance_accounts(self._sessions, now=now, fallback_zone=self._zone)
            self._plan_self_cures(now)
            self._push(self._next_local(now, ADVANCE_AT), Event.ADVANCE)
        elif kind is Event.REVIEW:
            review_open_promises(self._sessions, now=now, fallback_zone=self._zone)
            self._push(self._next_review(now), Event.REVIEW)
        elif kind is Event.PRIORITIES:
            flags = self._order.refresh_flags
            assert flags is not None
            refresh_account_priorities(self._sessions, now=now, fallback_zone=self._zone,
                                       by_recovery=flags[0], by_answer_time=flags[1])
            self._push(now + PRIORITY_EVERY, Event.PRIORITIES)
        elif kind is Event.WAKE:
            self._wake_at = None

    def _push(self, at: datetime, kind: Event, payload: object = None) -> None:
        heapq.heappush(self._events, (at, kind.value, next(self._seq), kind, payload))

    # ---- dialling: hopper -> gate -> simulated line -------------------------------------------

    def _dial(self) -> None:
        now = self.clock.now()
        tried: set[int] = set()   # a gate that parks an account no later than now must not loop us
        while (free := self._channels - len(self._in_flight)) > 0:
            busy = {c.debtor_id for c in self._in_flight.values()}
            with self._sessions() as session:
                candidates = [c for c in next_candidates(session, self._campaign_id, limit=free * 2 + len(tried),
                                                         now=now, exclude_debtors=busy)
                              if c.account_id not in tried]
            if not candidates:
                break
            for candidate in candidates:
                if len(self._in_flight) >= self._channels:
                    break
                tried.add(candidate.account_id)
                self._try(candidate, now)
        if len(self._in_flight) < self._channels:
            self._wake_for_next_eligible(now)

    def _try(self, candidate: Candidate, now: datetime) -> None:
        earliest, why = None, ""
        for contact_id in candidate.contact_ids:
            result = self._gate.decide(DialTarget(self._campaign_id, candidate.account_id, contact_id),
                                       script=candidate.script)
            if result.permit is not None:
                permit = self._authority.redeem(result.permit, now=now)   # what a telephony adapter does
                self.counters.decided += 1
                self._place(candidate, permit.attempt_id, contact_id, permit.ring_timeout_s, now)
                return
            self.counters.denied += 1
            why = result.decision.detail
            if result.decision.next_allowed_at is not None:
                earliest = min(earliest or result.decision.next_allowed_at, result.decision.next_allowed_at)
        with transaction(self._sessions) as session:
            park(session, candidate.account_id, earliest, now=now, why=why or "no dialable number")

    def _place(self, candidate: Candidate, attempt_id: int, contact_id: int, ring_timeout_s: int,
               now: datetime) -> None:
        with transaction(self._sessions) as session:
            attempts.transition(session, attempt_id, AttemptState.ORIGINATING, now, channel_id=f"SIM/{attempt_id}")
            account = session.get_one(Account, candidate.account_id)
            contact = session.get_one(PhoneContact, contact_id)
            debtor = session.get_one(Debtor, candidate.debtor_id)
            campaign = session.get_one(Campaign, self._campaign_id)
            owed = outstanding(session, account)
            stage = current_stage(plan_for(campaign), account.stage, account.days_past_due, owed).name
            call = Dialled(
                attempt_id=attempt_id, account_id=account.id, contact_id=contact_id,
                third_party_number=contact.owner is ContactOwner.THIRD_PARTY,
                zone=(contact.time_zones or [self._zone])[0], stage=stage, outstanding_minor=owed,
                minimum_minor=account.minimum_payment_minor, currency=account.currency,
                language=debtor.language or campaign.language, script=candidate.script,
                ring_timeout_s=ring_timeout_s, call_index=self._calls_to.get(contact_id, 0),
                talk_index=self._talks_on.get(account.id, 0))
        self._calls_to[contact_id] = call.call_index + 1
        plan = draw_call(self._population, call, now)
        if plan.record is not None and plan.record.verified:
            self._talks_on[call.account_id] = call.talk_index + 1
        self._in_flight[attempt_id] = InFlight(call, plan, now, candidate.debtor_id)
        self._push(now + timedelta(seconds=plan.duration_s), Event.CALL_END, attempt_id)

    def _end_call(self, attempt_id: int) -> None:
        flight = self._in_flight.pop(attempt_id)
        record_end(self._sessions, self._sink, flight.call, flight.plan, flight.placed_at, self.clock.now())
        if flight.plan.pays_at is not None:
            self._push(flight.plan.pays_at, Event.PAYMENT, (flight.call.account_id, flight.plan.pays_minor))

    def _wake_for_next_eligible(self, now: datetime) -> None:
        with self._sessions() as session:
            soonest = session.scalar(select(func.min(Account.next_eligible_at)).where(
                Account.campaign_id == self._campaign_id, Account.status == "open",
                Account.next_eligible_at > now))
        if soonest is not None and (self._wake_at is None or soonest < self._wake_at):
            self._wake_at = soonest
            self._push(soonest, Event.WAKE)

    def _finish_in_flight(self) -> None:
        """Calls still ringing at the end are followed to their end; no new dial is placed."""
        while self._events:
            at, _, _, kind, payload = heapq.heappop(self._events)
            if kind is Event.CALL_END:
                self.clock.set(max(at, self.clock.now()))
                self._end_call(int(payload))  # type: ignore[call-overload]
        self.clock.set(max(self.clock.now(), self._end))
        review_open_promises(self._sessions, now=self.clock.now(), fallback_zone=self._zone)

    # ---- debtors paying ----------------------------------------------------------------------

    def _pay(self, account_id: int, minor: int | None) -> None:
        """`minor` None: the whole balance (a self-cure)."""
        now = self.clock.now()
        with transaction(self._sessions) as session:
            account = session.get_one(Account, account_id)
            owed = outstanding(session, account)
            if account.status == "paid" or owed <= 0:
                return
            amount = owed if minor is None else min(minor, owed)
            major = str(Decimal(amount).scaleb(-exponent(account.currency)))
            record_payment(session, f"#{account_id}", amount=major, paid_at=now, now=now, actor="sim:debtor")
        self.counters.payments += 1

    def _plan_self_cures(self, now: datetime) -> None:
        day = (now - self._start).days
        rate = self._population.model.self_cure_per_day
        with self._sessions() as session:
            open_ids = list(session.scalars(select(Account.id).where(
                Account.campaign_id == self._campaign_id, Account.status == "open").order_by(Account.id)))
        for account_id in open_ids:
            r = self._population.draws.rng("self-cure", account_id, day)
            if r.random() < rate:
                self.counters.self_cures += 1
                self._push(now + timedelta(hours=24 * r.random()), Event.PAYMENT, (account_id, None))

    # ---- calendar ----------------------------------------------------------------------------

    def _next_local(self, now: datetime, at: time) -> datetime:
        tz = ZoneInfo(self._zone)
        local = now.astimezone(tz)
        candidate = datetime.combine(local.date(), at, tzinfo=tz)
        if candidate <= local:
            candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=tz)
        return candidate.astimezone(now.tzinfo)

    def _next_review(self, now: datetime) -> datetime:
        top = now.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=REVIEW_MINUTE)
        return top if top > now else top + timedelta(hours=1)

    def _day_done(self, day_end: datetime) -> None:
        with self._sessions() as session:
            paid = session.scalar(select(func.coalesce(func.sum(Payment.amount_minor), 0))
                                  .join(Account, Account.id == Payment.account_id)
                                  .where(Account.campaign_id == self._campaign_id,
                                         Payment.paid_at >= self._start, Payment.paid_at < day_end))
        day = {"day": (day_end - self._start).days, "ends": day_end.isoformat(), "dials": self.counters.decided,
               "denied": self.counters.denied, "payments": self.counters.payments, "paid_minor": int(paid or 0)}
        self.counters.days.append(day)
        self._progress(day)
