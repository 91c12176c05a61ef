"""`dialer run`: the pacing daemon's lifecycle.

Signal handlers only set a flag. On stop, no new dial is placed; calls in progress are followed to
their end (up to the grace period) and recorded. On start and after every reconnect the daemon
reconciles its open attempts with the calls Asterisk really has, so no attempt stays open forever
and none is dialled twice (an attempt lost while blind is closed as failed: it still counts
towards every cap, which errs on the side of the person called).

Database work runs on the event loop thread: at one tick per second and a few hundred calls it
costs milliseconds; the adapters queue events meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from dialer import attempts
from dialer.clock import Clock
from dialer.compliance.gate import BudgetLookup, CallGate
from dialer.daemon.aftercall import schedule_next
from dialer.daemon.calls_view import ClusterCalls
from dialer.daemon.cluster import Cluster
from dialer.daemon.runner import CampaignRunner, TickReport
from dialer.daemon.durable import DurableJournal, database_unreachable
from dialer.daemon.journal import AttemptJournal
from dialer.daemon.recordings import RecordingAudit
from dialer.db.models import Attempt, Campaign
from dialer.db.session import transaction
from dialer.domain import AttemptState, CampaignState, Outcome
from dialer.metrics import DialerMetrics, MetricsServer
from dialer.telephony.agents import AgentSnapshot
from dialer.telephony.interface import AsteriskError, CallEvent, CallEventKind, Telephony
from dialer.telephony.tracker import CallTracker

log = logging.getLogger(__name__)


class DaemonService(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...


@dataclass
class DaemonSummary:
    node: str
    ticks: int = 0
    placed: int = 0
    denied: int = 0
    ended: int = 0
    reconciled: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    max_pacer_ms: float = 0.0


class Daemon:
    def __init__(self, *, sessions: sessionmaker[Session], gate: CallGate, telephony: Telephony, clock: Clock,
                 node: str, dial_template: str, tick_seconds: float, grace_seconds: float, status_file: Path,
                 campaigns: tuple[str, ...] = (), exit_when_idle_s: float | None = None,
                 agents: Callable[[], AgentSnapshot | None] | None = None,
                 abandonment_budget: BudgetLookup | None = None, scheduler: AsyncIOScheduler | None = None,
                 metrics: DialerMetrics | None = None, metrics_address: tuple[str, int] | None = None,
                 cluster: Cluster | None = None, recordings_dir: Path | None = None) -> None:
        self._sessions = sessions
        self._gate = gate
        self._telephony = telephony
        self._clock = clock
        self._node = node
        self._dial_template = dial_template
        self._tick = tick_seconds
        self._grace = grace_seconds
        self._status_file = status_file
        self._only = campaigns
        self._exit_when_idle = exit_when_idle_s
        self._agents = agents or (lambda: None)
        self._budget = abandonment_budget
        self._scheduler = scheduler
        self._metrics = metrics or DialerMetrics(node=node)
        self._metrics_address = metrics_address
        self._campaign_names: dict[int, str] = {}
        self._stop = asyncio.Event()
        self._events: asyncio.Queue[CallEvent] = asyncio.Queue()
        self._runners: dict[int, CampaignRunner] = {}
        self._reconcile_needed = asyncio.Event()
        self.summary = DaemonSummary(node=node)
        # Attempt writes wait out a database outage and land in order when it is back (durable.py).
        self._journal = DurableJournal(AttemptJournal(sessions=sessions, node=node))
        self._tracker = CallTracker(journal=self._journal, on_ended=self._on_ended)
        # Recordings checked on disk after each call: MixMonitor fails silently on a full disk.
        self._recordings = RecordingAudit(sessions=sessions, directory=recordings_dir, node=node,
                                          registry=self._metrics.registry)
        self._last_activity = time.monotonic()
        self._reports: list[TickReport] = []
        self._services: list[DaemonService] = []
        # Several daemons on one PostgreSQL (docs/scale-out.md): pacing leases, dial grants and the
        # Asterisk server's channel limit are shared through the database.
        self._cluster = cluster
        self._scaled_out = cluster is not None and cluster.coordinated
        self._cluster_views: dict[int, ClusterCalls] = {}
        self._orphan_check_every = max(1, round(2.0 / tick_seconds))   # every ~2 s

    def request_stop(self) -> None:
        self._stop.set()

    @property
    def tracker(self) -> CallTracker:
        """The one call tracker of this daemon (services that place calls follow them here too)."""
        return self._tracker

    def add_service(self, service: DaemonService) -> None:
        """Run `service` while connected to Asterisk (e.g. the agents' API): started after the
        first connect, closed before the telephony adapter."""
        self._services.append(service)

    async def run(self) -> DaemonSummary:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        metrics_server: MetricsServer | None = None
        try:
            if self._metrics_address is not None:
                metrics_server = MetricsServer(self._metrics)
                await metrics_server.start(*self._metrics_address)
            if self._scheduler is not None:
                self._scheduler.start()   # strategy jobs: stage advance, promises, priorities, SMS
            if self._cluster is not None:
                self._cluster.refuse_second_sqlite_daemon()
                self._cluster.heartbeat(live_calls=0, free_agents=0)   # a second one now sees this one
            await self._connect()
            for service in self._services:
                await service.start()
            unsubscribe = self._telephony.subscribe(self._events.put_nowait)
            on_reconnect = getattr(self._telephony, "on_reconnect", None)
            if on_reconnect is not None:
                on_reconnect(self._reconcile_needed.set)
            async with asyncio.TaskGroup() as tasks:
                consumer = tasks.create_task(self._consume_events())
                await self._reconcile()
                await self._pace_until_stopped()
                await self._drain_calls()
                consumer.cancel()
            unsubscribe()
        finally:
            if metrics_server is not None:
                await metrics_server.close()
            if self._scheduler is not None and self._scheduler.running:
                self._scheduler.shutdown(wait=False)
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            for service in reversed(self._services):
                await service.close()
            await self._telephony.close()
            if self._cluster is not None:
                self._leave_cluster()
            self._write_status(final=True)
        return self.summary

    def _leave_cluster(self) -> None:
        assert self._cluster is not None
        try:
            self._cluster.leave()
        except Exception as exc:
            if not database_unreachable(exc):
                raise
            # Nothing lost: the leases expire by themselves after daemon.lease_seconds.
            log.warning("could not give back the pacing leases, database unreachable (%s)", exc.__class__.__name__)

    async def _connect(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                await self._telephony.start()
                return
            except (AsteriskError, OSError) as exc:
                log.warning("cannot reach Asterisk (%s); retrying in %.1f s", exc, delay)
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
                except TimeoutError:
                    delay = min(delay * 2, 30.0)
        raise AsteriskError("stopped before Asterisk could be reached")

    async def _pace_until_stopped(self) -> None:
        next_tick = time.monotonic()
        while not self._stop.is_set():
            try:
                if self._journal.flush() and self._reconcile_needed.is_set():
                    self._reconcile_needed.clear()
                    await self._reconcile()
                await self._tick_all()
                self._recordings.check_due()
            except Exception as exc:
                if not database_unreachable(exc):
                    raise
                # PostgreSQL restarting: skip this tick and square up with Asterisk once it is back
                # (a decision may have committed without our knowing; reconciliation closes it).
                log.warning("database unreachable during a tick (%s): retrying", exc.__class__.__name__)
                self._reconcile_needed.set()
            self._write_status()
            if self._idle_long_enough():
                log.info("nothing left to dial and no call in progress: stopping")
                return
            next_tick += self._tick
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=max(0.0, next_tick - time.monotonic()))
            except TimeoutError:
                pass

    async def _tick_all(self) -> None:
        self.summary.ticks += 1
        self._reports = []
        # While Asterisk is unreachable (or reconciliation is pending after it came back) no new
        # dial is decided: an originate that cannot reach Asterisk would still spend an attempt.
        may_dial = self._telephony.health().healthy and not self._reconcile_needed.is_set()
        if self._cluster is not None and may_dial:
            # A node that cannot dial stops its heartbeat: after `daemon.lease_seconds` the
            # pacing owner grants it nothing, and nodes on its server follow its calls.
            agents = self._agents()
            self._cluster.heartbeat(live_calls=self._tracker.in_flight(), free_agents=agents.free if agents else 0)
            if self._scaled_out and self.summary.ticks % self._orphan_check_every == 0 \
                    and self._cluster.orphans_on_my_server():
                self._reconcile_needed.set()
        for campaign_id in self._campaign_ids():
            runner = self._runners.get(campaign_id)
            if runner is None:
                runner = self._runners[campaign_id] = CampaignRunner(
                    campaign_id=campaign_id, sessions=self._sessions, gate=self._gate, telephony=self._telephony,
                    tracker=self._tracker, clock=self._clock, dial_template=self._dial_template,
                    tick_seconds=self._tick, node=self._node, abandonment_budget=self._budget)
            runner.set_agents(self._agents())
            if self._scaled_out:
                report = await self._tick_scaled_out(runner, may_dial=may_dial)
            else:
                report = await runner.tick(may_dial=may_dial)
            self._campaign_names[campaign_id] = report.campaign
            self._metrics.observe_tick_report(report)
            if runner.needs_reconcile:
                runner.needs_reconcile = False
                self._reconcile_needed.set()
            self._reports.append(report)
            self.summary.placed += report.placed
            self.summary.denied += report.denied
            self.summary.max_pacer_ms = max(self.summary.max_pacer_ms, report.pacer_ms)
            if report.placed:
                self._last_activity = time.monotonic()
        if self._tracker.in_flight():
            self._last_activity = time.monotonic()

    async def _tick_scaled_out(self, runner: CampaignRunner, *, may_dial: bool) -> TickReport:
        """One campaign's tick on one of several nodes: the lease owner paces and grants slots to
        every live node; each node dials its grant within its Asterisk server's free channels."""
        cluster, campaign_id = self._cluster, runner.campaign_id
        assert cluster is not None
        if cluster.owns(campaign_id):
            view = self._cluster_views.get(campaign_id)
            if view is None:
                log.info("node %s now paces campaign %s", self._node, campaign_id)
                view = self._cluster_views[campaign_id] = ClusterCalls(campaign_id, since=self._clock.now())
            report, wanted = runner.pace(view)
            report.owner = self._node
            runner.count_dials(sum(cluster.grant(campaign_id, wanted).values()))
        else:
            self._cluster_views.pop(campaign_id, None)
            report = runner.observe_only()
            report.owner = cluster.owner_of(campaign_id)
        slots = cluster.claim(campaign_id)
        if slots > 0 and may_dial:
            # Decisions under the server's lock (they are what the next node counts), originates
            # after it: the lock is held for milliseconds of database work, not for Asterisk's replies.
            async with cluster.server_room(wait_s=self._tick / 2) as room:
                permits = runner.decide(min(slots, room), report) if room > 0 else []
            await runner.place(permits, report)
        return report

    def _campaign_ids(self) -> list[int]:
        with self._sessions() as session:
            query = select(Campaign.id).where(Campaign.state.in_([CampaignState.RUNNING, CampaignState.PAUSED]))
            if self._only:
                query = query.where(Campaign.name.in_(self._only))
            return list(session.scalars(query.order_by(Campaign.id)))

    def _idle_long_enough(self) -> bool:
        if self._journal.waiting() or self._recordings.waiting():
            return False   # outcomes not yet written, or recordings not yet checked: not idle
        return self._exit_when_idle is not None and time.monotonic() - self._last_activity >= self._exit_when_idle

    async def _consume_events(self) -> None:
        while True:
            event = await self._events.get()
            try:
                self._recover_lost_answer(event)
                self._tracker.on_event(event)
            except Exception:  # one bad event must not stop call tracking for every other call
                log.exception("failed to record %s", event)

    def _recover_lost_answer(self, event: CallEvent, *, answered: bool = False) -> None:
        """AMD, routing and agent events come only from the answered side of the dialplan
        ([dialer-answered]); one arriving for a call still ringing (or a live call Asterisk lists as
        Up at reconciliation) means its ANSWERED event was lost while the ARI/AMI link was down.
        Replay the answer first: a person who picked up must not be recorded as "no answer", which
        would also hide an abandoned call from the abandonment rate. The answer time is when we
        learned of it (a little late: the abandonment clock errs long, not short)."""
        call = self._tracker.get(event.attempt_id)
        if call is None or call.lifecycle.state not in (AttemptState.DECIDED, AttemptState.ORIGINATING,
                                                         AttemptState.RINGING):
            return
        if answered or event.kind in (CallEventKind.AMD, CallEventKind.ROUTED, CallEventKind.CONNECTED):
            log.warning("attempt %s: answer event lost while the link was down; recovered from %s",
                        event.attempt_id, "Asterisk's channel state" if answered else event.kind.value)
            self._tracker.on_event(CallEvent(attempt_id=event.attempt_id, kind=CallEventKind.ANSWERED, at=event.at,
                                             channel_id=event.channel_id))

    def _on_ended(self, attempt_id: int, campaign_id: int, outcome: Outcome) -> None:
        self._metrics.observe_outcome(self._campaign_names.get(campaign_id, str(campaign_id)), outcome)
        self.summary.ended += 1
        self.summary.outcomes[outcome.value] = self.summary.outcomes.get(outcome.value, 0) + 1
        self._recordings.call_ended(attempt_id)
        now = self._clock.now()

        def reschedule() -> None:
            with transaction(self._sessions) as session:
                schedule_next(session, attempt_id, now=now)

        self._journal.write(f"attempt {attempt_id} next call", reschedule)   # after its close, in order

    async def _drain_calls(self) -> None:
        """Stop: no new dials; let calls in progress end and be recorded, up to the grace period."""
        deadline = time.monotonic() + self._grace
        while (self._tracker.in_flight() or not self._journal.flush()) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)  # events arrive on the consumer task; nothing to wait on here
        if self._journal.waiting():
            log.error("%d attempt write(s) lost: database unreachable for the whole grace period; the "
                      "next start reconciles those attempts", self._journal.waiting())
        if self._tracker.in_flight():
            log.warning("%d call(s) still in progress after the grace period; reconciled at next start",
                        self._tracker.in_flight())

    async def _reconcile(self) -> None:
        """Close attempts this node left open that Asterisk no longer has; adopt the ones it has."""
        try:
            live = {call.attempt_id: call for call in await self._telephony.live_calls()}
        except (AsteriskError, OSError) as exc:
            log.warning("reconciliation postponed, Asterisk unreachable: %s", exc)
            self._reconcile_needed.set()
            return
        tracked = self._tracker.tracked_ids()
        now = self._clock.now()
        with transaction(self._sessions) as session:
            mine = Attempt.dialer_node == self._node
            if self._scaled_out and self._cluster is not None:
                # A node that died leaves its calls open; a node on the same Asterisk server sees
                # their channels (and, with subscribeAll, their events), so it follows or closes them.
                dead = self._cluster.dead_nodes_on_my_server(session)
                if dead:
                    mine = mine | (Attempt.dialer_node.in_(dead)
                                   & (Attempt.asterisk_server == self._cluster.asterisk_server))
            open_attempts = session.execute(
                select(Attempt.id, Attempt.campaign_id, Attempt.placed_at, Attempt.state, Attempt.route)
                .where(Attempt.state != AttemptState.ENDED, mine)).all()
            if self._scaled_out:
                session.execute(update(Attempt).where(Attempt.id.in_([a.id for a in open_attempts]),
                                                      Attempt.dialer_node != self._node)
                                .values(dialer_node=self._node))
            for attempt_id, campaign_id, placed_at, state, route in open_attempts:
                if attempt_id in live:
                    self._tracker.adopt(attempt_id, campaign_id=campaign_id, placed_at=placed_at, state=state, route=route)
                    continue
                if attempt_id in tracked and state is AttemptState.DECIDED:
                    continue  # being originated right now
                self._tracker.forget(attempt_id)
                attempts.close(session, attempt_id, attempts.CallResult(
                    outcome=Outcome.FAILED, ended_at=now, hangup_cause_text="lost: not on Asterisk at reconcile"),
                    actor=f"reconcile@{self._node}")
                # A lost call is retried like a failed one, after the rule's delay, never at once.
                schedule_next(session, attempt_id, now=now)
                self.summary.reconciled += 1
        # After the transaction: the tracker writes through its own (SQLite allows one writer).
        for call in live.values():
            if call.answered:
                self._recover_lost_answer(CallEvent(attempt_id=call.attempt_id, kind=CallEventKind.ANSWERED,
                                                    at=now, channel_id=call.channel_id), answered=True)

    def _agent_rows(self) -> list[dict[str, object]]:
        snapshot = self._agents()
        return [{"name": a.name, "queue": a.queue, "state": a.state.value, "elapsed_s": a.elapsed_s}
                for a in (snapshot.agents if snapshot else ())]

    def _write_status(self, *, final: bool = False) -> None:
        health = self._telephony.health()
        self._metrics.observe_health(health)
        self._metrics.observe_agent_snapshot(self._agents())
        status = {
            "node": self._node, "pid": os.getpid(), "at": self._clock.now().isoformat(), "stopped": final,
            "telephony": {"component": health.component, "healthy": health.healthy, "detail": health.detail,
                          "reconnects": health.reconnects},
            # ARI: agent states come from a side AMI login (telephony/agent_feed.py), healthy or not.
            "agent_feed": health.extra.get("agent_feed"),
            "in_flight": self._tracker.in_flight(), "summary": asdict(self.summary),
            "database": {"unwritten": self._journal.waiting(), "write_failures": self._journal.failures},
            "recordings": {"failures": self._recordings.failures},
            "agents": self._agent_rows(),
            "campaigns": [asdict(r) for r in self._reports],
        }
        self._status_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._status_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(status, default=_json), encoding="utf-8")
        tmp.replace(self._status_file)


def _json(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)
