"""Issue 8 end to end: three `dialer run` processes and two real Asterisk 22 servers share one
PostgreSQL and one campaign. Nobody is dialled twice or past a cap, each server stays within its
channel limit, every attempt is closed, and when the pacing owner is killed -9 another node owns
the campaign within seconds and dialling goes on (docs/scale-out.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import load_profiles
from dialer.db.models import Attempt, AuditEntry, Campaign, CampaignLease
from dialer.db.session import make_engine, make_sessionmaker
from dialer.domain import AttemptState
from dialer.reports.compliance import recheck
from tests.daemon.campaign_setup import make_far_end_campaign, zone_at_local_hour
from tests.fixtures.asterisk import AsteriskInstance
from tests.scaleout.cluster_run import Cluster, NodeSpec, overlapping_debtors, peak_concurrency, spans

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres, pytest.mark.slow]
ACCOUNTS = 240
LIMIT_A, LIMIT_B = 10, 6
LEASE_S = 2.0
NOBODY_ANSWERS = (5, 6, 8)
HANDOVER_BOUND_S = LEASE_S + 3.0    # lease expiry, then the next tick of a surviving node


@pytest.fixture
def pg_sessions(postgres_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(postgres_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def lease(sessions: sessionmaker[Session], campaign_id: int) -> CampaignLease | None:
    with sessions() as session:
        return session.get(CampaignLease, campaign_id)


def denials(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return {str(reason): count for reason, count in session.execute(
            select(AuditEntry.reason, func.count(AuditEntry.id))
            .where(AuditEntry.decision == "deny").group_by(AuditEntry.reason))}


def wait_for(what: str, predicate, timeout_s: float, nodes: Cluster,  # type: ignore[no-untyped-def]
             sessions: sessionmaker[Session]) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not seen in {timeout_s:g} s; gate denials {denials(sessions)}; logs: "
                                 + "\n".join(f"--- {n}\n{node.tail()[-800:]}" for n, node in nodes.nodes.items()))
        time.sleep(0.1)


def test_given_three_daemons_and_two_asterisk_servers_when_the_owner_is_killed_then_another_paces_and_no_one_is_dialled_twice(  # noqa: E501
        asterisk: AsteriskInstance, asterisk_b: AsteriskInstance, postgres_url: str,
        pg_sessions: sessionmaker[Session], tmp_path: Path) -> None:
    # Busy, ringing 15 s, rejected: nobody answers, so no call is abandoned (no bot listens here) and
    # the abandonment budget, which the gate enforces across nodes too, never stops the run.
    campaign_id, numbers = make_far_end_campaign(pg_sessions, accounts=ACCOUNTS, zone=zone_at_local_hour(range(9, 20)),
                                                 name="scale", digits=NOBODY_ANSWERS)
    cluster = Cluster(db_url=postgres_url, workdir=tmp_path, lease_s=LEASE_S)
    a1 = NodeSpec("a1", asterisk, "ast-a", LIMIT_A)
    a2 = NodeSpec("a2", asterisk, "ast-a", LIMIT_A)
    b = NodeSpec("b", asterisk_b, "ast-b", LIMIT_B)
    try:
        # a1 first, so the owner to kill shares its server with a2, which then follows its calls.
        cluster.start(a1)
        wait_for("a1 owning the campaign", lambda: (lease(pg_sessions, campaign_id) or CampaignLease()).owner == "a1",
                 60, cluster, pg_sessions)
        cluster.start(a2)
        cluster.start(b)

        def placed_by(node: str) -> int:
            with pg_sessions() as session:
                return session.scalar(select(func.count(Attempt.id)).where(Attempt.dialer_node == node)) or 0

        wait_for("calls on both servers", lambda: placed_by("b") >= 5 and placed_by("a2") >= 5, 90, cluster, pg_sessions)
        killed_at = datetime.now(timezone.utc)
        cluster.nodes["a1"].kill()
        wait_for("another owner", lambda: (lease(pg_sessions, campaign_id) or CampaignLease()).owner != "a1",
                 HANDOVER_BOUND_S + 5, cluster, pg_sessions)
        new_owner = lease(pg_sessions, campaign_id)
        assert new_owner is not None
        handover_s = (new_owner.acquired_at - killed_at).total_seconds()
        cluster.wait(timeout_s=400)
    finally:
        cluster.stop_all()
    for name in ("a2", "b"):
        assert cluster.nodes[name].proc.returncode == 0, cluster.nodes[name].tail()

    with pg_sessions() as session:
        calls = spans(session)
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        violations = recheck(session, campaign, ProfileBook(load_profiles()).for_campaign(campaign))
        states = set(session.scalars(select(Attempt.state)))
    print(f"handover {handover_s:.2f} s to {new_owner.owner}; calls per node "
          f"{ {n: sum(c.node == n for c in calls) for n in ('a1', 'a2', 'b')} }")
    assert handover_s <= HANDOVER_BOUND_S
    twice = {e: [(c.node, c.outcome, f"{c.placed_at:%H:%M:%S.%f}") for c in calls if c.e164 == e]
             for e in {c.e164 for c in calls} if sum(c.e164 == e for c in calls) > 1}
    assert twice == {}                                              # nobody dialled twice
    assert {c.e164 for c in calls} == set(numbers)                  # everyone dialled
    assert overlapping_debtors(calls) == set()
    assert violations == []
    assert states == {AttemptState.ENDED}                           # the killed node's calls too
    on_a = [c for c in calls if c.server == "ast-a"]
    on_b = [c for c in calls if c.server == "ast-b"]
    assert len(on_a) + len(on_b) == len(calls) and on_a and on_b
    assert peak_concurrency(on_a) <= LIMIT_A
    assert peak_concurrency(on_b) <= LIMIT_B
    assert any(c.placed_at > killed_at for c in calls)             # dialling went on after the kill
