"""Same seed, same history: the simulation is reproducible row for row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select

from dialer.db.models import Attempt, Payment, PromiseToPay
from tests.sim_campaign.conftest import run, source_campaign


def history(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows: list[tuple[Any, ...]] = [tuple(r) for r in conn.execute(select(
            Attempt.id, Attempt.account_id, Attempt.contact_id, Attempt.placed_at, Attempt.ended_at,
            Attempt.outcome, Attempt.conversation).order_by(Attempt.id))]
        rows += [tuple(r) for r in conn.execute(select(
            PromiseToPay.account_id, PromiseToPay.amount_minor, PromiseToPay.promised_date,
            PromiseToPay.status).order_by(PromiseToPay.id))]
        rows += [tuple(r) for r in conn.execute(select(
            Payment.account_id, Payment.amount_minor, Payment.paid_at).order_by(Payment.id))]
    engine.dispose()
    return rows


def test_given_the_same_seed_when_simulated_twice_then_every_attempt_promise_and_payment_is_the_same(
        tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    source_campaign(source, accounts=20)

    first = run(source, tmp_path / "a.sqlite3", days=1, seed=3)
    second = run(source, tmp_path / "b.sqlite3", days=1, seed=3)
    other_seed = run(source, tmp_path / "c.sqlite3", days=1, seed=4)

    assert first.figures.dials > 20
    assert history(first.scratch_url) == history(second.scratch_url)
    assert first.figures == second.figures
    assert history(other_seed.scratch_url) != history(first.scratch_url)
