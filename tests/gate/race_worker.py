"""One dialer process in the race test: hammers the gate for a while, ending calls at random."""

from __future__ import annotations

import random
import time
from datetime import timedelta

from dialer import attempts
from dialer.clock import OffsetClock
from dialer.compliance.gate import DialTarget
from dialer.db.session import make_engine, make_sessionmaker, transaction
from dialer.domain import Outcome
from tests.gate.helpers import make_gate


def hammer(db_url: str, offset_s: float, targets: list[tuple[int, int, int]], seconds: float, seed: int,
           batch: int = 1) -> int:
    """Allowed dials of one process; `batch` > 1 asks `decide_many` for that many random targets
    at once (repeats and shared debtors included), in a random order, so two processes' batches
    overlap in every order."""
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    clock = OffsetClock(timedelta(seconds=offset_s))
    gate = make_gate(sessions, clock, node=f"worker-{seed}")
    rng = random.Random(seed)
    allowed = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if batch == 1:
            results = [gate.decide(DialTarget(*rng.choice(targets)))]
        else:
            results = gate.decide_many([DialTarget(*rng.choice(targets)) for _ in range(batch)])
        for result in results:
            if result.permit is None:
                continue
            allowed += 1
            outcome = rng.choice([Outcome.NO_ANSWER, Outcome.BUSY, Outcome.HUMAN, Outcome.HUMAN])
            with transaction(sessions) as session:
                attempts.close(session, result.permit.attempt_id, attempts.CallResult(
                    outcome=outcome, ended_at=clock.now(),
                    answered_at=clock.now() if outcome is Outcome.HUMAN else None,
                    conversation=outcome is Outcome.HUMAN), actor=f"worker-{seed}")
    engine.dispose()
    return allowed
