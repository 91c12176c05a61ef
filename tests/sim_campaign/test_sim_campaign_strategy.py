"""Several days of strategy: stages advance with days past due, retries wait as the rules say,
callbacks are called back no earlier than the debtor asked, promises are reviewed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dialer.db.models import Account, Attempt, AuditEntry, Conversation, PromiseToPay
from dialer.db.session import make_engine, make_sessionmaker
from dialer.domain import Outcome, PromiseStatus
from dialer.sim.campaign.service import SimulationResult


def test_given_three_days_then_accounts_moved_up_the_stage_ladder(three_days: SimulationResult) -> None:
    engine = make_engine(three_days.scratch_url)
    with make_sessionmaker(engine)() as session:
        moves = [d for (d,) in session.execute(select(AuditEntry.detail).where(AuditEntry.kind == "stage_change"))
                 if d["move"] == "moved"]
    engine.dispose()

    assert three_days.figures.stage_moves == len(moves) > 0
    assert any((m["from"], m["to"]) == ("reminder", "willingness") for m in moves)
    assert any((m["from"], m["to"]) == ("escalation", "final") for m in moves)


def test_given_callbacks_requested_then_each_next_call_is_at_or_after_the_time_named(
        three_days: SimulationResult) -> None:
    engine = make_engine(three_days.scratch_url)
    with make_sessionmaker(engine)() as session:
        asked = session.execute(select(Attempt.account_id, Attempt.placed_at, Conversation.callback_at)
                                .join(Conversation, Conversation.attempt_id == Attempt.id)
                                .where(Conversation.callback_at.is_not(None))).all()
        following = [session.scalar(select(Attempt.placed_at).where(Attempt.account_id == account,
                                                                    Attempt.placed_at > at)
                                    .order_by(Attempt.placed_at).limit(1)) for account, at, _ in asked]
    engine.dispose()

    called_back = [(nxt, wanted) for nxt, (_, _, wanted) in zip(following, asked)
                   if nxt is not None and wanted is not None]
    assert called_back
    assert all(nxt >= wanted for nxt, wanted in called_back)
    assert three_days.figures.callbacks_honoured == len(called_back)
    assert three_days.figures.callbacks_early == 0


def test_given_a_no_answer_then_the_account_waits_the_retry_delay(three_days: SimulationResult) -> None:
    engine = make_engine(three_days.scratch_url)
    with make_sessionmaker(engine)() as session:
        promised = set(session.scalars(select(PromiseToPay.account_id)))
        calls = session.execute(select(Attempt.account_id, Attempt.placed_at, Attempt.ended_at, Attempt.outcome)
                                .order_by(Attempt.account_id, Attempt.placed_at)).all()
    engine.dispose()

    gaps = [later.placed_at - earlier.ended_at for earlier, later in zip(calls, calls[1:])
            if earlier.account_id == later.account_id and earlier.account_id not in promised
            and earlier.outcome is Outcome.NO_ANSWER]
    assert gaps
    assert min(gaps) >= timedelta(minutes=120)   # default rule: no answer → retry after 120 minutes


def test_given_promises_then_they_are_reviewed_and_kept_ones_were_paid(three_days: SimulationResult) -> None:
    engine = make_engine(three_days.scratch_url)
    with make_sessionmaker(engine)() as session:
        statuses = list(session.scalars(select(PromiseToPay.status)))
        paid_accounts = session.scalar(select(Account.id).where(Account.status == "paid").limit(1))
    engine.dispose()

    assert PromiseStatus.KEPT in statuses
    assert three_days.figures.promises == len(statuses)
    assert three_days.figures.recovered_minor > 0 and paid_accounts is not None
