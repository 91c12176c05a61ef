"""One campaign's pacing tick: observe, ask the pacer how many, take them from the hopper through
the gate, originate. The only path from the hopper to an originate goes through the gate
(`CallGate.decide_many`), whose permit the telephony adapter demands."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import Clock
from dialer.compliance.gate import BudgetLookup, CallGate, DialTarget
from dialer.compliance.permit import DialPermit, PermitRejected
from dialer.daemon.calls_view import CallsSeen, ClusterCalls, seen_by_tracker
from dialer.daemon.hopper import Candidate, next_candidates, park, release
from dialer.db.models import Campaign
from dialer.db.session import transaction
from dialer.domain import CampaignMode, CampaignState
from dialer.pacing.pacers import Pacer, make_pacer
from dialer.pacing.snapshot import Counters, DialLimits, Observations, PacingSnapshot
from dialer.telephony.agents import AgentSnapshot, AgentState
from dialer.telephony.interface import AsteriskError, RingTimeoutTooShort, RoutePlan, SafeHarbour, Telephony
from dialer.telephony.tracker import CallTracker

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    campaign: str
    state: str
    wanted: int = 0
    placed: int = 0
    denied: int = 0
    in_flight: int = 0
    pacer_ms: float = 0.0
    owner: str | None = None     # scaled out: the node pacing the campaign now
    denials: dict[str, int] = field(default_factory=dict)


class CampaignRunner:
    def __init__(self, *, campaign_id: int, sessions: sessionmaker[Session], gate: CallGate,
                 telephony: Telephony, tracker: CallTracker, clock: Clock, dial_template: str,
                 tick_seconds: float, node: str = "dialer", agents: AgentSnapshot | None = None,
                 abandonment_budget: BudgetLookup | None = None) -> None:
        self.campaign_id = campaign_id
        self._sessions = sessions
        self._gate = gate
        self._telephony = telephony
        self._tracker = tracker
        self._clock = clock
        self._dial_template = dial_template
        self._tick_seconds = tick_seconds
        self._node = node
        self._queue: str | None = None
        self._plan = RoutePlan.to_bot()
        self._pacer: Pacer | None = None
        self._mode: CampaignMode | None = None
        self._counters = Counters()
        self._agents = agents
        self._budget = abandonment_budget or (lambda _campaign_id, _now: None)
        self._started = time.monotonic()
        self.needs_reconcile = False

    def set_agents(self, agents: AgentSnapshot | None) -> None:
        self._agents = agents

    async def tick(self, *, may_dial: bool = True) -> TickReport:
        """One pacing decision of a single daemon: pace, then dial what the pacer wants.

        `may_dial` is False while the telephony link is down: observing and pacing go on, but no
        attempt is decided, so nobody's caps are spent on calls that cannot be placed."""
        report, wanted = self.pace()
        if wanted > 0 and may_dial:
            await self.dial(wanted, report)
        self.count_dials(report.placed)
        return report

    def pace(self, cluster_view: ClusterCalls | None = None) -> tuple[TickReport, int]:
        """Ask the pacer how many calls the campaign should place now (0 unless it is running).

        A single daemon sees its own calls; the pacing owner of a scaled-out campaign passes
        `cluster_view` to see every node's (docs/scale-out.md)."""
        with self._sessions() as session:
            campaign = session.get(Campaign, self.campaign_id)
            assert campaign is not None
            name, state, mode = campaign.name, campaign.state, campaign.mode
            self._queue = campaign.queue.name if campaign.queue else None
            channel_limit, cps = campaign.channel_limit, campaign.calls_per_second
            now = self._clock.now()
            local = seen_by_tracker(self._tracker, self.campaign_id, mode, now)
            seen = local if cluster_view is None else cluster_view.look(session, mode, now)
        report = TickReport(campaign=name, state=state.value)
        if self._pacer is None or mode is not self._mode:
            self._pacer, self._mode = make_pacer(mode.value), mode
        snapshot = self._snapshot(mode, channel_limit, cps, seen)
        report.in_flight = len(local.ringing) + len(local.waiting) + local.bot_busy
        started = time.perf_counter()
        wanted = self._pacer.calls_to_place(snapshot)
        report.pacer_ms = (time.perf_counter() - started) * 1000
        if state is not CampaignState.RUNNING or wanted <= 0:
            return report, 0
        return report, wanted

    def count_dials(self, dials: int) -> None:
        """Tell the pacer's running counters how many dials its last decision led to."""
        self._counters = replace(self._counters, dials=self._counters.dials + dials)

    def observe_only(self) -> TickReport:
        """A node that does not pace the campaign: its report, with its own calls in flight."""
        with self._sessions() as session:
            campaign = session.get(Campaign, self.campaign_id)
            assert campaign is not None
            name, state, mode = campaign.name, campaign.state, campaign.mode
            self._queue = campaign.queue.name if campaign.queue else None
        local = seen_by_tracker(self._tracker, self.campaign_id, mode, self._clock.now())
        self._mode, self._pacer = None, None   # a node that becomes owner again starts afresh
        return TickReport(campaign=name, state=state.value,
                          in_flight=len(local.ringing) + len(local.waiting) + local.bot_busy)

    async def dial(self, slots: int, report: TickReport) -> None:
        """Place up to `slots` calls: hopper claim → gate → originate."""
        await self.place(self.decide(slots, report), report)

    def decide(self, slots: int, report: TickReport) -> list[DialPermit]:
        """Up to `slots` gate permits (attempts written, calls followed), best accounts first.

        Database work only, no await: a scaled-out node calls it while holding its Asterisk
        server's lock, and releases the lock before the originates (docs/scale-out.md)."""
        if self._mode is None:
            with self._sessions() as session:
                campaign = session.get(Campaign, self.campaign_id)
                assert campaign is not None
                self._mode = campaign.mode
        report.wanted += slots
        self._plan = _route_plan(self._mode, self._queue)
        busy_debtors = {c.debtor_id for c in self._tracker.calls_of(self.campaign_id) if c.debtor_id is not None}
        with transaction(self._sessions) as session:
            candidates = next_candidates(session, self.campaign_id, limit=slots * 2, now=self._clock.now(),
                                         exclude_debtors=busy_debtors, node=self._node)
        permits: list[DialPermit] = []
        # Each candidate's numbers in order until one is allowed, asked of the gate in batches (one
        # transaction each, `decide_many`) of at most the slots still free: never more permits than
        # slots. A candidate whose number was denied tries its next one in the next batch, first.
        pending = [_Pending(candidate, list(candidate.contact_ids)) for candidate in candidates]
        try:
            while pending and len(permits) < slots:
                asking, rest = pending[:slots - len(permits)], pending[slots - len(permits):]
                exhausted = [p for p in asking if not p.numbers]
                asking = [p for p in asking if p.numbers]
                results = self._gate.decide_many(
                    [DialTarget(self.campaign_id, p.candidate.account_id, p.numbers.pop(0)) for p in asking],
                    scripts=[p.candidate.script for p in asking])
                retry: list[_Pending] = []
                for p, result in zip(asking, results, strict=True):
                    if result.permit is not None:
                        # Followed from the decision on: Asterisk's first events can beat the originate reply.
                        self._tracker.track(result.permit.attempt_id, campaign_id=self.campaign_id,
                                            placed_at=result.permit.issued_at, route=self._plan.route,
                                            debtor_id=p.candidate.debtor_id)
                        permits.append(result.permit)
                        continue
                    report.denied += 1
                    reason = result.decision.reason.value if result.decision.reason else "not_running"
                    report.denials[reason] = report.denials.get(reason, 0) + 1
                    p.why = result.decision.detail
                    if result.decision.next_allowed_at is not None:
                        p.earliest = min(p.earliest, result.decision.next_allowed_at) if p.earliest else \
                            result.decision.next_allowed_at
                    (retry if p.numbers else exhausted).append(p)
                for p in exhausted:
                    with transaction(self._sessions) as session:
                        park(session, p.candidate.account_id, p.earliest, now=self._clock.now(),
                             why=p.why or "no dialable number")
                pending = retry + rest
        finally:
            with transaction(self._sessions) as session:
                release(session, [c.account_id for c in candidates], node=self._node)
        return permits

    async def place(self, permits: list[DialPermit], report: TickReport) -> None:
        """Originate the calls `decide` allowed."""
        for permit in permits:
            await self._originate(permit, self._plan)
            report.placed += 1

    async def _originate(self, permit, plan: RoutePlan) -> None:  # type: ignore[no-untyped-def]
        dial = self._dial_template.format(number=permit.e164) if self._dial_template else None
        try:
            handle = await self._telephony.originate(permit, route=plan, dial=dial)
        except (PermitRejected, RingTimeoutTooShort) as exc:
            # Refused before anything was sent to Asterisk: the attempt is closed as failed (it
            # still counts towards the caps, which errs on the side of the person called).
            log.error("originate for attempt %s refused: %s", permit.attempt_id, exc)
            self._tracker.originate_failed(permit.attempt_id, at=self._clock.now(), why=str(exc))
            return
        except (AsteriskError, OSError) as exc:
            # Ambiguous (e.g. a timeout): Asterisk may have created the channel anyway. Keep the
            # attempt open; its events or the next reconciliation with Asterisk's channels decide.
            log.warning("originate for attempt %s unconfirmed: %s", permit.attempt_id, exc)
            self.needs_reconcile = True
            if self._tracker.get(permit.attempt_id) is not None:
                self._tracker.originating(permit.attempt_id, at=self._clock.now())
            return
        # A short call (busy, rejected) can end before the originate's reply comes back: its ENDED
        # event already closed it, and the tracker would follow an unknown attempt anew.
        if self._tracker.get(permit.attempt_id) is not None:
            self._tracker.originating(permit.attempt_id, at=self._clock.now(), channel_id=handle.channel_id)

    def _snapshot(self, mode: CampaignMode, channel_limit: int, cps: float, seen: CallsSeen) -> PacingSnapshot:
        now = self._clock.now()
        self._counters = replace(self._counters, live_answers=self._counters.live_answers + seen.live_answers,
                                 abandons=self._counters.abandons + seen.abandons)
        agents = self._agents
        free = agents.free if agents else 0
        talking = tuple(a.elapsed_s for a in agents.agents if a.state is AgentState.IN_CALL) if agents else ()
        wrapping = tuple(a.elapsed_s for a in agents.agents if a.state is AgentState.WRAP_UP) if agents else ()
        bot_capacity = channel_limit if mode in (CampaignMode.BOT_ONLY, CampaignMode.BLENDED) else 0
        return PacingSnapshot(
            now=time.monotonic() - self._started, free_agents=free, talking=talking, wrapping=wrapping,
            ringing=seen.ringing, waiting=seen.waiting, bot_free=max(0, bot_capacity - seen.bot_busy),
            bot_busy=seen.bot_busy,
            # The gate denies over-dialling modes while the budget is spent; the pacer is told too,
            # so it paces like progressive instead of asking for calls the gate will refuse.
            guaranteed_agent_only=self._budget(self.campaign_id, now) is not None,
            counters=self._counters,
            recent=Observations(resolved=seen.resolved, talk_seconds=seen.talk_seconds),
            limits=DialLimits(channel_limit=channel_limit, lines_in_use=seen.lines_in_use, calls_per_second=cps,
                              tick_seconds=self._tick_seconds),
        )


@dataclass
class _Pending:
    """A hopper candidate during one tick's decisions: its numbers not yet asked, why it was denied."""

    candidate: Candidate
    numbers: list[int]
    earliest: datetime | None = None
    why: str = ""


def _route_plan(mode: CampaignMode, queue: str | None) -> RoutePlan:
    if mode is CampaignMode.BOT_ONLY or queue is None:
        return RoutePlan.to_bot()
    harbour = SafeHarbour.BOT if mode is CampaignMode.BLENDED else SafeHarbour.MESSAGE
    return RoutePlan.to_queue(queue, safe_harbour=harbour)

