"""Scale-out: several `dialer run` processes (nodes) and several Asterisk servers on one PostgreSQL.

The contract between nodes (docs/scale-out.md), all of it through the database:

- every node publishes a heartbeat row in `dialer_nodes` each tick (its Asterisk server, that
  server's channel limit, its live calls); a node silent for `lease_seconds` is gone;
- one node at a time paces a campaign: it holds the row in `campaign_leases`, renewed every tick
  and taken over by any node once `expires_at` has passed (one atomic UPDATE, so two nodes can never
  both believe they won);
- the owner's pacer decides how many calls the whole cluster places now and writes each node's share
  in `dial_grants`, in proportion to the free channels of the node's Asterisk server;
- each node claims its grant (read and zeroed in one statement) and dials it on its own Asterisk,
  under that server's lock, never past the server's channel limit (counted from the open attempts
  the gate recorded on that server, so it holds across nodes sharing a server).

None of this decides *whether* a person may be called: every dial still goes through the gate,
which locks the debtor's row and writes the attempt in the same transaction. A wrong grant can
only make the cluster dial too slowly or too fast, never twice or past a cap.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
import zlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import Clock
from dialer.config import ConfigError
from dialer.db.models import Attempt, CampaignLease, DialerNode, DialGrant
from dialer.db.session import transaction
from dialer.domain import AttemptState


# Every state but ENDED, spelt out: `state IN (...)` can use the index on attempts.state, where
# `state != 'ended'` scans a table that grows by every call ever made.
OPEN_STATES = tuple(s for s in AttemptState if s is not AttemptState.ENDED)


class SingleDaemonOnly(ConfigError):
    """A second daemon on a SQLite database: only PostgreSQL coordinates several (a setting to
    change, `database.url`, hence a ConfigError: the CLI prints it as one line)."""


@dataclass(frozen=True)
class NodeRoom:
    node: str
    asterisk_server: str
    free_channels: int


def split_slots(wanted: int, rooms: Mapping[str, int]) -> dict[str, int]:
    """Share `wanted` dial slots among nodes in proportion to their free channels.

    No node gets more than its room; the largest remainders get the leftover slots, ties in the
    order of `rooms` (the owner lists the least loaded nodes first). Pure: the owner calls it with
    what the heartbeats and the open attempts say.
    """
    rooms = {node: max(0, room) for node, room in rooms.items()}
    total = sum(rooms.values())
    if wanted <= 0 or total <= 0:
        return {node: 0 for node in rooms}
    if wanted >= total:
        return dict(rooms)
    exact = {node: wanted * room / total for node, room in rooms.items()}
    slots = {node: math.floor(share) for node, share in exact.items()}
    leftover = wanted - sum(slots.values())
    # Largest remainder first; equal remainders in the caller's order (fewest calls first).
    order = list(rooms)
    for node in sorted(rooms, key=lambda n: (-(exact[n] - slots[n]), order.index(n))):
        if leftover <= 0:
            break
        if slots[node] < rooms[node]:
            slots[node] += 1
            leftover -= 1
    return slots


def server_rooms(nodes: list[DialerNode], open_by_server: Mapping[str, int]) -> list[NodeRoom]:
    """Free channels per node: each server's room (limit minus its open attempts), shared evenly
    by the live nodes on that server; the odd channels go to the nodes carrying fewest calls, so
    a node that joins late or lost a few grants catches up instead of being starved by name order."""
    by_server: dict[str, list[DialerNode]] = {}
    for node in sorted(nodes, key=lambda n: (n.live_calls or 0, n.name)):
        by_server.setdefault(node.asterisk_server, []).append(node)
    rooms: list[NodeRoom] = []
    for server, members in by_server.items():
        # Nodes of one server may publish different limits while a setting is rolled out: the
        # smallest is the one that must hold.
        room = max(0, min(m.channel_limit for m in members) - open_by_server.get(server, 0))
        share, odd = divmod(room, len(members))
        rooms.extend(NodeRoom(m.name, server, share + (1 if i < odd else 0)) for i, m in enumerate(members))
    return rooms


class Cluster:
    """One node's view of, and part in, the cluster. All methods are short transactions."""

    def __init__(self, *, sessions: sessionmaker[Session], clock: Clock, node: str, asterisk_server: str,
                 channel_limit: int, lease_seconds: float, tick_seconds: float) -> None:
        self._sessions = sessions
        self._clock = clock
        self.node = node
        self.asterisk_server = asterisk_server
        self.channel_limit = channel_limit
        self._lease = timedelta(seconds=lease_seconds)
        # A grant not claimed within two ticks is stale: the owner has decided again since.
        self._grant_ttl = timedelta(seconds=max(2 * tick_seconds, 1.0))
        self._postgres = sessions.kw["bind"].dialect.name == "postgresql"
        self._started = clock.now()

    @property
    def coordinated(self) -> bool:
        """Several daemons may share this database (PostgreSQL); on SQLite there is one."""
        return self._postgres

    # ---- heartbeats ---------------------------------------------------------------------------

    def heartbeat(self, *, live_calls: int, free_agents: int) -> None:
        now = self._clock.now()
        values = {"asterisk_server": self.asterisk_server, "channel_limit": self.channel_limit,
                  "live_calls": live_calls, "free_agents": free_agents, "pid": os.getpid(), "heartbeat_at": now}
        with transaction(self._sessions) as session:
            updated = session.execute(update(DialerNode).where(DialerNode.name == self.node).values(**values))
            if updated.rowcount == 0:  # type: ignore[attr-defined]
                session.execute(insert(DialerNode).values(name=self.node, started_at=self._started, **values))

    def live_nodes(self, session: Session) -> list[DialerNode]:
        since = self._clock.now() - self._lease
        return list(session.scalars(select(DialerNode).where(DialerNode.heartbeat_at >= since)))

    def refuse_second_sqlite_daemon(self) -> None:
        """SQLite serialises the gate but cannot share pacing: one `dialer run` per SQLite file."""
        if self._postgres:
            return
        with self._sessions() as session:
            others = [n.name for n in self.live_nodes(session) if n.name != self.node]
        if others:
            raise SingleDaemonOnly(
                f"daemon {others[0]!r} is already running on this SQLite database (heartbeat within "
                f"{self._lease.total_seconds():g} s); SQLite supports one `dialer run`: use PostgreSQL "
                "(database.url) to run several (docs/scale-out.md)")

    def leave(self) -> None:
        """Graceful stop: give up this node's leases and heartbeat so others take over at once."""
        past = self._clock.now() - self._lease - timedelta(seconds=1)
        with transaction(self._sessions) as session:
            session.execute(update(CampaignLease).where(CampaignLease.owner == self.node).values(expires_at=past))
            session.execute(update(DialerNode).where(DialerNode.name == self.node).values(heartbeat_at=past))
            session.execute(delete(DialGrant).where(DialGrant.node == self.node))

    # ---- the pacing lease ---------------------------------------------------------------------

    def owns(self, campaign_id: int) -> bool:
        """Take or renew the campaign's pacing lease; True while this node is the owner.

        The UPDATE only matches when the lease is ours or expired, and the database applies
        concurrent UPDATEs of one row one after the other (the second re-checks the WHERE on the
        row the first wrote), so exactly one node wins a takeover.
        """
        now = self._clock.now()
        expires = now + self._lease
        with transaction(self._sessions) as session:
            won = session.execute(
                update(CampaignLease)
                .where(CampaignLease.campaign_id == campaign_id,
                       (CampaignLease.owner == self.node) | (CampaignLease.expires_at < now))
                .values(owner=self.node, expires_at=expires,
                        # a renewal keeps the instant this owner took the lease
                        acquired_at=case((CampaignLease.owner == self.node, CampaignLease.acquired_at), else_=now))
            ).rowcount  # type: ignore[attr-defined]
            if won:
                return True
            exists = session.scalar(select(CampaignLease.owner).where(CampaignLease.campaign_id == campaign_id))
            if exists is not None:
                return False
        # First node to pace this campaign: insert; a concurrent insert makes ours fail harmlessly.
        try:
            with transaction(self._sessions) as session:
                session.add(CampaignLease(campaign_id=campaign_id, owner=self.node, acquired_at=now,
                                          expires_at=expires))
        except IntegrityError:  # the primary key: another node was first
            return False
        return True

    def owner_of(self, campaign_id: int) -> str | None:
        with self._sessions() as session:
            return session.scalar(select(CampaignLease.owner).where(CampaignLease.campaign_id == campaign_id,
                                                                    CampaignLease.expires_at >= self._clock.now()))

    # ---- dial grants --------------------------------------------------------------------------

    def grant(self, campaign_id: int, wanted: int) -> dict[str, int]:
        """Owner only: write each live node's share of this tick's `wanted` calls."""
        now = self._clock.now()
        with transaction(self._sessions) as session:
            nodes = self.live_nodes(session)
            if not any(n.name == self.node for n in nodes):
                nodes.append(DialerNode(name=self.node, asterisk_server=self.asterisk_server,
                                        channel_limit=self.channel_limit))
            rooms = server_rooms(nodes, self._open_by_server(session))
            slots = split_slots(wanted, {r.node: r.free_channels for r in rooms})
            for node, n in slots.items():
                if self._postgres:
                    # An upsert: an owner that lost its lease mid-tick (paused past lease_seconds) may
                    # still be writing; two first grants to one node must not fail the tick.
                    session.execute(pg_insert(DialGrant).values(campaign_id=campaign_id, node=node, slots=n,
                                                                granted_at=now)
                                    .on_conflict_do_update(index_elements=["campaign_id", "node"],
                                                           set_={"slots": n, "granted_at": now}))
                    continue
                updated = session.execute(update(DialGrant).where(DialGrant.campaign_id == campaign_id,
                                                                  DialGrant.node == node)
                                          .values(slots=n, granted_at=now)).rowcount  # type: ignore[attr-defined]
                if not updated:
                    session.add(DialGrant(campaign_id=campaign_id, node=node, slots=n, granted_at=now))
        return slots

    def claim(self, campaign_id: int) -> int:
        """Take this node's grant for the campaign (then zero: a slot is dialled once)."""
        now = self._clock.now()
        with transaction(self._sessions) as session:
            grant = session.scalar(select(DialGrant).where(DialGrant.campaign_id == campaign_id,
                                                           DialGrant.node == self.node).with_for_update())
            if grant is None or grant.slots <= 0:
                return 0
            slots = grant.slots if now - grant.granted_at <= self._grant_ttl else 0
            grant.slots = 0
            return slots

    # ---- the channel limit of this node's Asterisk server -------------------------------------

    @asynccontextmanager
    async def server_room(self, *, wait_s: float) -> AsyncIterator[int]:
        """Free channels on this node's Asterisk server, held while the caller dials.

        Nodes sharing a server take a PostgreSQL advisory lock named after it, so one of them at a
        time counts the server's open attempts and dials into the room; the next one sees those
        attempts (the gate committed them). The lock is the transaction's: it goes with a crash.
        It is tried, not waited for, so the event loop never blocks on another node; after
        `wait_s` the room is 0 for this tick. On SQLite (one daemon) there is nobody to exclude,
        and a held transaction would lock the gate out, so the room is only counted.
        """
        if not self._postgres:
            with self._sessions() as session:
                in_use = self._open_by_server(session).get(self.asterisk_server, 0)
            yield max(0, self.channel_limit - in_use)
            return
        key = _lock_key(self.asterisk_server)
        deadline = time.monotonic() + wait_s
        with self._sessions() as session, session.begin():
            while not session.scalar(select(func.pg_try_advisory_xact_lock(key))):
                if time.monotonic() >= deadline:
                    yield 0
                    return
                await asyncio.sleep(0.02)
            in_use = self._open_by_server(session).get(self.asterisk_server, 0)
            yield max(0, self.channel_limit - in_use)

    def _open_by_server(self, session: Session) -> dict[str, int]:
        return {server: count for server, count in session.execute(  # type: ignore[misc]
            select(Attempt.asterisk_server, func.count(Attempt.id))
            .where(Attempt.state.in_(OPEN_STATES), Attempt.asterisk_server.is_not(None))
            .group_by(Attempt.asterisk_server))}

    def orphans_on_my_server(self) -> int:
        """Open attempts left on this node's server by nodes that stopped heartbeating."""
        with self._sessions() as session:
            dead = self.dead_nodes_on_my_server(session)
            if not dead:
                return 0
            return session.scalar(select(func.count(Attempt.id)).where(
                Attempt.state.in_(OPEN_STATES), Attempt.dialer_node.in_(dead),
                Attempt.asterisk_server == self.asterisk_server)) or 0

    def dead_nodes_on_my_server(self, session: Session) -> set[str]:
        """Nodes on this Asterisk server whose heartbeat stopped: their calls are ours to follow."""
        since = self._clock.now() - self._lease
        return set(session.scalars(select(DialerNode.name).where(
            DialerNode.asterisk_server == self.asterisk_server, DialerNode.name != self.node,
            DialerNode.heartbeat_at < since)))


def _lock_key(server: str) -> int:
    # A stable signed 64-bit key per server name (pg_advisory_xact_lock takes a bigint).
    return zlib.crc32(f"dialer-server:{server}".encode()) - 2**31

