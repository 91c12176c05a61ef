"""One simulated call: how it resolves (drawn from the population model) and how its end is
written, through the same functions production uses: the bot's outcome sink (conversation,
promise, opt-out), `attempts.close` (outcome, what the number taught us) and the after-call rules
(`schedule_next`), in that order, as the bot records before the channel hangs up and the daemon
closes the attempt after it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer import attempts
from dialer.bot.record import CallRecord, Disposition as BotDisposition, PromiseToPay
from dialer.botdb import DbOutcomeSink
from dialer.clock import ensure_utc
from dialer.daemon.aftercall import schedule_next
from dialer.db.models import Conversation
from dialer.db.session import transaction
from dialer.domain import Outcome, Party, Route
from dialer.money import exponent
from dialer.sim.campaign.behaviour import CALLBACK_HOUR, Population
from dialer.strategy.retry import callback_instant

# Q.850 causes Asterisk reports for these ends
_CAUSE = {Outcome.NO_ANSWER: 19, Outcome.BUSY: 17, Outcome.FAILED: 1, Outcome.MACHINE: 16, Outcome.HUMAN: 16}
MACHINE_HANGUP_S = 4.0   # the bot hangs up on a voicemail greeting once AMD has spoken


@dataclass(frozen=True)
class Dialled:
    """What the simulation knows about a call the gate allowed."""

    attempt_id: int
    account_id: int
    contact_id: int
    third_party_number: bool
    zone: str
    stage: str
    outstanding_minor: int
    minimum_minor: int | None
    currency: str
    language: str
    script: str | None
    ring_timeout_s: int
    call_index: int          # calls to this number so far in the simulation
    talk_index: int          # live conversations on this account so far in the simulation


@dataclass(frozen=True)
class CallPlan:
    outcome: Outcome
    ring_s: float
    talk_s: float = 0.0
    record: CallRecord | None = None
    callback_at: datetime | None = None
    pays_at: datetime | None = None      # a kept promise: when the money arrives
    pays_minor: int = 0

    @property
    def duration_s(self) -> float:
        return self.ring_s + self.talk_s


def draw_call(population: Population, call: Dialled, now: datetime) -> CallPlan:
    model = population.model
    number = population.number(call.contact_id, third_party=call.third_party_number)
    r = population.draws.rng("call", call.contact_id, call.call_index)
    if number.invalid:
        return CallPlan(Outcome.FAILED, ring_s=1.0)
    local = ensure_utc(now).astimezone(ZoneInfo(call.zone))
    if r.random() >= number.answer_chance(local.hour):
        kind = r.random()
        if kind < model.busy_share:
            return CallPlan(Outcome.BUSY, ring_s=3.0)
        if kind < model.busy_share + model.machine_share:
            return CallPlan(Outcome.MACHINE, ring_s=r.uniform(*model.ring_answer_s), talk_s=MACHINE_HANGUP_S)
        return CallPlan(Outcome.NO_ANSWER, ring_s=float(call.ring_timeout_s))
    ring = r.uniform(*model.ring_answer_s)
    record = CallRecord(attempt_id=str(call.attempt_id), script=call.script or call.stage, language=call.language)
    if number.wrong_number:
        record.party, record.disposition = Party.WRONG_NUMBER, BotDisposition.WRONG_NUMBER
        return CallPlan(Outcome.HUMAN, ring, r.uniform(*model.talk_other_s), record)
    if call.third_party_number or r.random() < number.someone_else:
        record.party, record.disposition = Party.THIRD_PARTY, BotDisposition.THIRD_PARTY_MESSAGE
        return CallPlan(Outcome.HUMAN, ring, r.uniform(*model.talk_other_s), record)
    record.party = Party.DEBTOR
    if r.random() >= model.verified:
        record.disposition = BotDisposition.VERIFICATION_FAILED
        return CallPlan(Outcome.HUMAN, ring, r.uniform(*model.talk_other_s), record)
    record.verified = record.disclosed = True
    return _conversation(population, call, record, ring, local)


def _conversation(population: Population, call: Dialled, record: CallRecord, ring: float,
                  local: datetime) -> CallPlan:
    model = population.model
    talk = population.draws.rng("talk", call.account_id, call.talk_index)
    talk_s = talk.uniform(*model.talk_rpc_s)
    if talk.random() < population.promise_chance(call.account_id, call.stage, call.outstanding_minor):
        full = call.minimum_minor is None or talk.random() < model.full_amount_promise
        amount = call.outstanding_minor if full else min(call.minimum_minor or 0, call.outstanding_minor)
        due = local.date() + timedelta(days=talk.randint(0, model.promise_days_max))
        record.disposition = BotDisposition.PROMISE_TO_PAY
        record.promise = PromiseToPay(_major(amount, call.currency), call.currency, due, confirmed=True)
        keeps = talk.random() < population.keep_chance(call.account_id, call.stage, call.outstanding_minor)
        pays_at = _payment_time(talk.random(), talk.random(), local, due) if keeps else None
        return CallPlan(Outcome.HUMAN, ring, talk_s, record, pays_at=pays_at, pays_minor=amount if keeps else 0)
    pick = talk.random()
    for disposition, share in ((BotDisposition.REFUSED, model.refuse), (BotDisposition.HARDSHIP, model.hardship),
                               (BotDisposition.DISPUTE, model.dispute), (BotDisposition.OPTED_OUT, model.opt_out)):
        if pick < share:
            record.disposition = disposition
            record.opt_out = disposition is BotDisposition.OPTED_OUT
            return CallPlan(Outcome.HUMAN, ring, talk_s, record)
        pick -= share
    record.disposition = BotDisposition.REMINDED
    callback_at = None
    if pick < model.callback:
        rhythm = population.number(call.contact_id, third_party=False).rhythm
        callback_at = callback_instant(CALLBACK_HOUR[rhythm], call.zone, local)
    return CallPlan(Outcome.HUMAN, ring, talk_s, record, callback_at=callback_at)


def _payment_time(day_u: float, hour_u: float, local: datetime, due: date) -> datetime:
    """A day from today to the promised date, a local hour 09–20; never before the call."""
    days = (due - local.date()).days
    day = local.date() + timedelta(days=min(days, int(day_u * (days + 1))))
    at = datetime.combine(day, time(9), tzinfo=local.tzinfo) + timedelta(hours=11 * hour_u)
    return ensure_utc(max(at, local + timedelta(minutes=30)))


def _major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def record_end(sessions: sessionmaker[Session], sink: DbOutcomeSink, call: Dialled, plan: CallPlan,
               placed_at: datetime, now: datetime) -> None:
    """Write the end of the call at `now` (the simulated clock already reads it)."""
    answered_at = placed_at + timedelta(seconds=plan.ring_s) if plan.outcome in (Outcome.HUMAN,
                                                                                 Outcome.MACHINE) else None
    if plan.record is not None:
        sink.store(call.attempt_id, plan.record)
        if plan.callback_at is not None:
            # The bot's record has no field for the time the debtor named: written where the
            # after-call rules read it (Conversation.callback_at), as the bot would.
            with transaction(sessions) as session:
                conversation = session.scalar(select(Conversation).where(Conversation.attempt_id == call.attempt_id))
                if conversation is not None:
                    conversation.callback_at = plan.callback_at
    rpc = plan.record is not None and plan.record.party is Party.DEBTOR and plan.record.verified
    with transaction(sessions) as session:
        attempts.close(session, call.attempt_id, attempts.CallResult(
            outcome=plan.outcome, ended_at=now, answered_at=answered_at,
            connected_at=answered_at if plan.outcome is Outcome.HUMAN else None,
            hangup_cause=_CAUSE.get(plan.outcome), amd_result="MACHINE" if plan.outcome is Outcome.MACHINE else None,
            route=Route.BOT if plan.outcome is Outcome.HUMAN else None, conversation=rpc),
            actor="sim")
    with transaction(sessions) as session:
        schedule_next(session, call.attempt_id, now=now)
