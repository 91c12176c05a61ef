"""Several dialer processes racing on one PostgreSQL never break a cap or double-dial a debtor."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dialer.db.models import Attempt
from dialer.db.session import make_engine, make_sessionmaker
from tests.gate.helpers import make_campaign, make_debtor
from tests.gate.race_worker import hammer

WORKERS = 4
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("batch", [1, 8], ids=["decide", "decide_many"])
def test_given_four_processes_on_one_postgres_when_racing_then_no_cap_is_broken_and_no_debtor_is_dialled_twice_at_once(
        postgres_url: str, batch: int) -> None:
    db_url = postgres_url
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    # Rehearse at 10:00 Shanghai time so the calling window is open whatever the real hour is.
    real = datetime.now(timezone.utc)
    target_local = real.astimezone(SHANGHAI).replace(hour=10, minute=0, second=0, microsecond=0)
    offset = (target_local - real.astimezone(SHANGHAI)).total_seconds()
    campaign = make_campaign(sessions)
    targets = []
    for i in range(12):
        account, numbers, third = make_debtor(sessions, campaign, ref=str(i), zones=["Asia/Shanghai"],
                                              numbers=[f"+86138001380{i:02d}", f"+86139001390{i:02d}"],
                                              third_party=f"+86137001370{i:02d}")
        targets += [(campaign, account, n) for n in [*numbers, third]]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(WORKERS) as pool:
        allowed = pool.starmap(hammer, [(db_url, offset, targets, 8.0, seed, batch) for seed in range(WORKERS)])
    assert sum(allowed) > 0 and all(a > 0 for a in allowed), allowed  # every process got dials through

    with sessions() as session:
        rows = session.execute(select(Attempt.debtor_id, Attempt.e164, Attempt.placed_at, Attempt.ended_at,
                                      Attempt.conversation)).all()
    assert len(rows) == sum(allowed)
    per_number_day = Counter((e164, placed.astimezone(SHANGHAI).date()) for _, e164, placed, _, _ in rows)
    assert max(per_number_day.values()) <= 6, "cn: at most 6 attempts per number per day"
    conversations = Counter((debtor, placed.astimezone(SHANGHAI).date())
                            for debtor, _, placed, _, talked in rows if talked)
    assert max(conversations.values(), default=0) <= 3, "cn: at most 3 conversations per debtor per day"
    assert 3 in conversations.values(), "the race never reached a cap: it proved nothing"
    by_debtor: dict[int, list[tuple[datetime, datetime]]] = {}
    for debtor, _, placed, ended, _ in rows:
        by_debtor.setdefault(debtor, []).append((placed, ended))
    for calls in by_debtor.values():
        calls.sort()
        for (_, first_end), (second_start, _) in zip(calls, calls[1:]):
            assert second_start >= first_end, "two calls to one debtor overlapped"
    engine.dispose()
