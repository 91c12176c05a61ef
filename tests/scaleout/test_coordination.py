"""The scale-out contract between daemons, on the real PostgreSQL: one pacing owner per campaign
with failover, dial slots shared by free channels, hopper claims that never overlap, and each
Asterisk server's channel limit (docs/scale-out.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import FixedClock
from dialer.compliance.book import ProfileBook
from dialer.compliance.gate import CallGate
from dialer.compliance.permit import PermitAuthority
from dialer.compliance.profiles import load_profiles
from dialer.daemon.calls_view import ClusterCalls
from dialer.daemon.cluster import Cluster, SingleDaemonOnly, server_rooms, split_slots
from dialer.daemon.hopper import AFTER_CALL_SETTLE, next_candidates, release
from dialer.db import migrate
from dialer.db.models import Attempt, CampaignLease, DialerNode
from dialer.db.session import make_engine, make_sessionmaker, transaction
from dialer.domain import AttemptState, CampaignMode, Outcome
from dialer.pacing.snapshot import DialResult, ResolvedDial
from tests.gate.helpers import make_campaign, make_debtor, make_gate, target

NOON = datetime(2026, 11, 23, 4, 0, tzinfo=timezone.utc)   # 12:00 in Asia/Shanghai


@pytest.fixture
def pg(postgres_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(postgres_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def node(sessions: sessionmaker[Session], clock: FixedClock, name: str, *, server: str = "ast-1",
         limit: int = 10) -> Cluster:
    return Cluster(sessions=sessions, clock=clock, node=name, asterisk_server=server, channel_limit=limit,
                   lease_seconds=5.0, tick_seconds=0.5)


def test_given_free_channels_when_splitting_slots_then_shares_follow_free_channels_and_never_exceed_them() -> None:
    assert split_slots(6, {"a": 10, "b": 5, "c": 0}) == {"a": 4, "b": 2, "c": 0}
    assert split_slots(30, {"a": 10, "b": 5}) == {"a": 10, "b": 5}
    assert split_slots(1, {"a": 3, "b": 3}) == {"a": 1, "b": 0}          # ties by name: same on every node
    assert split_slots(0, {"a": 3}) == {"a": 0}
    for wanted in range(0, 25):
        shares = split_slots(wanted, {"a": 7, "b": 4, "c": 9})
        assert sum(shares.values()) == min(wanted, 20)
        assert shares["a"] <= 7 and shares["b"] <= 4 and shares["c"] <= 9


def test_given_two_nodes_on_one_server_when_rooms_are_computed_then_they_share_that_servers_limit() -> None:
    nodes = [DialerNode(name="a1", asterisk_server="s1", channel_limit=10),
             DialerNode(name="a2", asterisk_server="s1", channel_limit=10),
             DialerNode(name="b", asterisk_server="s2", channel_limit=6)]
    rooms = {r.node: r.free_channels for r in server_rooms(nodes, {"s1": 3, "s2": 6})}
    assert rooms == {"a1": 4, "a2": 3, "b": 0}



def test_given_a_node_with_fewer_calls_on_a_shared_server_then_it_gets_the_odd_channel_and_the_tied_slot() -> None:
    nodes = [DialerNode(name="a1", asterisk_server="s1", channel_limit=8, live_calls=5),
             DialerNode(name="a2", asterisk_server="s1", channel_limit=8, live_calls=0)]
    rooms = server_rooms(nodes, {"s1": 5})
    assert [(r.node, r.free_channels) for r in rooms] == [("a2", 2), ("a1", 1)]
    # One slot per tick (a slow campaign): it goes to the idle node, not to the first name.
    assert split_slots(1, {r.node: r.free_channels for r in rooms}) == {"a2": 1, "a1": 0}


def test_given_an_owner_when_it_stops_renewing_then_another_node_takes_the_lease_after_it_expires(
        pg: sessionmaker[Session]) -> None:
    clock = FixedClock(NOON)
    campaign = make_campaign(pg)
    a, b = node(pg, clock, "a"), node(pg, clock, "b")
    assert a.owns(campaign) and not b.owns(campaign)
    clock.advance(4)
    assert a.owns(campaign) and not b.owns(campaign)      # renewed: 5 s from now again
    clock.advance(4.9)
    assert not b.owns(campaign)
    clock.advance(0.2)                                    # a silent for 5.1 s
    assert b.owns(campaign) and not a.owns(campaign)
    assert b.owner_of(campaign) == "b"


def test_given_many_nodes_racing_for_an_expired_lease_then_exactly_one_wins(pg: sessionmaker[Session]) -> None:
    clock = FixedClock(NOON)
    campaign = make_campaign(pg)
    nodes = [node(pg, clock, f"n{i}") for i in range(8)]

    async def race() -> list[bool]:
        return list(await asyncio.gather(*(asyncio.to_thread(n.owns, campaign) for n in nodes)))

    assert sum(asyncio.run(race())) == 1                  # first insert
    clock.advance(6)
    assert sum(asyncio.run(race())) == 1                  # takeover of an expired lease
    with pg() as session:
        assert len(session.scalars(select(CampaignLease)).all()) == 1


def test_given_a_graceful_stop_when_the_owner_leaves_then_another_node_owns_at_once(
        pg: sessionmaker[Session]) -> None:
    clock = FixedClock(NOON)
    campaign = make_campaign(pg)
    a, b = node(pg, clock, "a"), node(pg, clock, "b")
    a.heartbeat(live_calls=0, free_agents=0)
    assert a.owns(campaign)
    a.leave()
    assert b.owns(campaign)


def test_given_live_nodes_when_the_owner_grants_then_each_claims_its_share_once_and_stale_grants_lapse(
        pg: sessionmaker[Session]) -> None:
    clock = FixedClock(NOON)
    campaign = make_campaign(pg)
    a, b, gone = node(pg, clock, "a", limit=10), node(pg, clock, "b", server="ast-2", limit=5), node(pg, clock, "gone")
    gone.heartbeat(live_calls=0, free_agents=0)
    clock.advance(6)                                       # "gone" stopped heartbeating
    a.heartbeat(live_calls=0, free_agents=0)
    b.heartbeat(live_calls=0, free_agents=0)
    assert a.grant(campaign, 9) == {"a": 6, "b": 3}        # 10 and 5 free channels
    assert b.claim(campaign) == 3 and b.claim(campaign) == 0
    clock.advance(2)                                       # a's grant is older than two ticks
    assert a.claim(campaign) == 0
    assert gone.claim(campaign) == 0


def test_given_two_nodes_claiming_from_the_hopper_then_no_account_is_handed_to_both(
        pg: sessionmaker[Session]) -> None:
    campaign = make_campaign(pg)
    for i in range(20):
        make_debtor(pg, campaign, ref=f"d{i}", zones=["Asia/Shanghai"], numbers=[f"+8613800{i:06d}"])
    with transaction(pg) as first, transaction(pg) as second:
        # Both transactions are open at once: SKIP LOCKED makes the second pass over the first's rows.
        mine = next_candidates(first, campaign, limit=8, now=NOON, exclude_debtors=set(), node="a")
        theirs = next_candidates(second, campaign, limit=8, now=NOON, exclude_debtors=set(), node="b")
    assert len(mine) == len(theirs) == 8
    assert not {c.account_id for c in mine} & {c.account_id for c in theirs}
    with transaction(pg) as session:                       # held after commit, for other ticks too
        later = next_candidates(session, campaign, limit=20, now=NOON, exclude_debtors=set(), node="c")
    assert len(later) == 4
    with transaction(pg) as session:
        release(session, [c.account_id for c in mine], node="a")
        release(session, [c.account_id for c in theirs], node="not-b")   # not b's to release
    with pg() as session:
        again = next_candidates(session, campaign, limit=20, now=NOON, exclude_debtors=set())
    assert {c.account_id for c in again} == {c.account_id for c in mine}


def test_given_a_debtor_with_a_call_in_flight_on_another_node_then_the_hopper_does_not_propose_them(
        pg: sessionmaker[Session]) -> None:
    clock = FixedClock(NOON)
    campaign = make_campaign(pg)
    account, contacts, _ = make_debtor(pg, campaign, ref="busy", zones=["Asia/Shanghai"], numbers=["+8613800000001"])
    assert make_gate(pg, clock, node="other").decide(target(campaign, account, contacts[0])).allowed
    with pg() as session:
        assert next_candidates(session, campaign, limit=5, now=NOON, exclude_debtors=set()) == []


async def test_given_two_nodes_on_one_server_then_their_dials_together_stay_within_its_channel_limit(
        pg: sessionmaker[Session]) -> None:
    clock = FixedClock(NOON)
    campaign = make_campaign(pg)
    ids = [make_debtor(pg, campaign, ref=f"d{i}", zones=["Asia/Shanghai"], numbers=[f"+8613811{i:06d}"])
           for i in range(12)]
    a, b = node(pg, clock, "a", limit=5), node(pg, clock, "b", limit=5)
    book = ProfileBook(load_profiles())
    gate = {n: CallGate(sessions=pg, profile_for=book.for_campaign, authority=PermitAuthority(), clock=clock,
                        node=n, asterisk_server="ast-1") for n in ("a", "b")}

    async def dial_all(cluster: Cluster, accounts: list[tuple[int, list[int], int | None]]) -> int:
        placed = 0
        async with cluster.server_room(wait_s=5) as room:
            for account, contacts, _ in accounts[:room]:
                await asyncio.sleep(0.01)     # an originate in flight: the other node must wait
                placed += gate[cluster.node].decide(target(campaign, account, contacts[0])).allowed
        return placed

    placed = await asyncio.gather(dial_all(a, ids[:6]), dial_all(b, ids[6:]))
    assert sum(placed) == 5
    with pg() as session:
        open_on_server = session.scalars(select(Attempt.id).where(Attempt.asterisk_server == "ast-1",
                                                                  Attempt.state != AttemptState.ENDED)).all()
    assert len(open_on_server) == 5


def test_given_sqlite_when_a_second_daemon_starts_then_it_refuses_and_says_why(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    clock = FixedClock(NOON)
    first = node(sessions, clock, "first")
    first.refuse_second_sqlite_daemon()
    first.heartbeat(live_calls=0, free_agents=0)
    node(sessions, clock, "first").refuse_second_sqlite_daemon()      # the same node restarting: fine
    with pytest.raises(SingleDaemonOnly, match="SQLite supports one `dialer run`: use PostgreSQL"):
        node(sessions, clock, "second").refuse_second_sqlite_daemon()
    clock.advance(6)                                                   # the first one is gone
    node(sessions, clock, "second").refuse_second_sqlite_daemon()
    engine.dispose()


def test_given_a_call_that_just_ended_when_its_retry_time_is_not_written_yet_then_no_node_redials_at_once(
        pg: sessionmaker[Session]) -> None:
    clock = FixedClock(NOON)
    campaign = make_campaign(pg)
    account, contacts, _ = make_debtor(pg, campaign, ref="done", zones=["Asia/Shanghai"], numbers=["+8613800000002"])
    permit = make_gate(pg, clock, node="other").decide(target(campaign, account, contacts[0])).permit
    assert permit is not None
    with transaction(pg) as session:   # the call's end, before `schedule_next` writes the retry time
        attempt = session.get(Attempt, permit.attempt_id)
        assert attempt is not None
        attempt.state, attempt.ended_at = AttemptState.ENDED, NOON
    with pg() as session:
        assert next_candidates(session, campaign, limit=5, now=NOON + AFTER_CALL_SETTLE / 2,
                               exclude_debtors=set()) == []
        assert len(next_candidates(session, campaign, limit=5, now=NOON + AFTER_CALL_SETTLE * 2,
                                   exclude_debtors=set())) == 1


def test_given_calls_of_several_nodes_when_the_owner_looks_then_it_sees_all_in_flight_and_each_end_once(
        pg: sessionmaker[Session]) -> None:
    clock = FixedClock(NOON)
    campaign = make_campaign(pg)
    permits = []
    for i, name in enumerate(("a", "b", "c")):
        account, contacts, _ = make_debtor(pg, campaign, ref=f"v{i}", zones=["Asia/Shanghai"],
                                           numbers=[f"+861380000010{i}"])
        permit = make_gate(pg, clock, node=name).decide(target(campaign, account, contacts[0])).permit
        assert permit is not None
        permits.append(permit.attempt_id)
    view = ClusterCalls(campaign, since=NOON)
    clock.advance(3)
    with pg() as session:
        seen = view.look(session, CampaignMode.BOT_ONLY, clock.now())
    assert seen.ringing == (3.0, 3.0, 3.0) and seen.lines_in_use == 3 and seen.resolved == ()
    with transaction(pg) as session:          # node b's call was busy; node c's was answered, then ended
        busy, live = session.get_one(Attempt, permits[1]), session.get_one(Attempt, permits[2])
        busy.state, busy.outcome, busy.ended_at, busy.ring_seconds = AttemptState.ENDED, Outcome.BUSY, clock.now(), 3.0
        live.answered_at = clock.now()
    clock.advance(1)
    with pg() as session:
        seen = view.look(session, CampaignMode.BOT_ONLY, clock.now())
        again = view.look(session, CampaignMode.BOT_ONLY, clock.now())
    assert seen.ringing == (4.0,) and seen.bot_busy == 1 and seen.lines_in_use == 2
    assert seen.resolved == (ResolvedDial(DialResult.BUSY, 3.0),)
    assert again.resolved == ()                                   # each end is observed once


def test_given_an_old_owner_still_granting_when_the_new_one_grants_too_then_neither_tick_fails(
        pg: sessionmaker[Session]) -> None:
    clock = FixedClock(NOON)
    campaign = make_campaign(pg)
    owners = [node(pg, clock, "old"), node(pg, clock, "new")]
    for owner in owners:
        owner.heartbeat(live_calls=0, free_agents=0)

    async def both() -> list[dict[str, int]]:
        return list(await asyncio.gather(*(asyncio.to_thread(o.grant, campaign, 4) for o in owners)))

    for _ in range(5):
        assert all(sum(g.values()) == 4 for g in asyncio.run(both()))
