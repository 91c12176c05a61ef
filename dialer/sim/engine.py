"""The discrete-event simulator: simulated telephony, agents and call population driving a pacer.

Time is seconds from the start of the shift on a simulated clock. Every `tick_s` the simulator shows
the pacer a `PacingSnapshot` (nothing but what a real dialer sees), asks the compliance gate about
each contact before dialling it, and plays out what the pre-drawn population does with the call.

Seams for the rest of the dialer (DESIGN.md, "simulator is one more adapter"):
- `gate(contact, now) -> bool`: the compliance gate, consulted before every dial;
- `contacts`: the hopper/strategy, any `ContactSource` (default: the seeded population in list order);
- `budget_spent(stats, now) -> bool`: sets `guaranteed_agent_only` in the snapshot.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from scipy.special import ndtri

from dialer.domain import CampaignMode
from dialer.pacing.pacers.base import Pacer
from dialer.pacing.snapshot import (
    Counters,
    DialLimits,
    DialResult,
    Observations,
    PacingSnapshot,
    ResolvedDial,
)
from dialer.sim.population import Contact, ContactSource, PopulationStream, fate_of
from dialer.sim.rules import SimRules
from dialer.sim.scenario import Scenario

DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)

# event kinds, in the order they are handled when simultaneous
_TEAM, _RESOLVE, _TALK_END, _WRAP_END, _PAUSE_END, _BOT_END, _ABANDON, _PAUSE_REQ, _REQUEST = range(9)


@dataclass(slots=True)
class CallRecord:
    """One dial as the call log (CDR) would show it; the checker reads only these."""

    call_id: int
    contact_id: int
    dialled_at: float
    result: DialResult
    resolved_at: float
    talk_s: float = 0.0
    wrap_s: float = 0.0
    connected_at: float | None = None   # to a live agent
    bot_at: float | None = None         # taken by the bot
    ended_at: float | None = None
    agent: int | None = None


@dataclass(slots=True)
class Agent:
    agent_id: int
    state: str = "out"                  # out | idle | talk | wrap | paused
    since: float = 0.0
    free_at: float = 0.0                # when the current talk + wrap ends (the oracle reads it)
    pending: str | None = None          # pause | logout, applied when the current call is done
    pause_s: float = 0.0                # length of the pending pause
    call: CallRecord | None = None


@dataclass(frozen=True, slots=True)
class AbandonStats:
    lives: int
    abandons: int


@dataclass
class SimOutput:
    scenario: Scenario
    rules: SimRules
    log: list[CallRecord]
    agent_seconds: float
    talk_seconds: float
    wrap_seconds: float
    line_seconds: float
    max_lines: int
    limit_refusals: int
    gate_denials: int
    pacer_ticks: int
    guaranteed_ticks: int
    extras: dict[str, Any] = field(default_factory=dict)


Gate = Callable[[Contact, datetime], bool]
BudgetRule = Callable[[AbandonStats, float], bool]


def window_budget(rules: SimRules) -> BudgetRule:
    """Default budget rule: spent once the profile's window reaches its abandonment limit."""

    def spent(stats: AbandonStats, now: float) -> bool:
        return stats.lives >= 100 and stats.abandons >= rules.abandon_limit * stats.lives

    return spent


class Simulator:
    def __init__(self, scenario: Scenario, pacer: Pacer, *, seed: int, rules: SimRules,
                 mode: CampaignMode = CampaignMode.PREDICTIVE, gate: Gate | None = None,
                 contacts: ContactSource | None = None, budget_spent: BudgetRule | None = None,
                 start: datetime = DEFAULT_START) -> None:
        self.scenario, self.pacer, self.rules, self.mode = scenario, pacer, rules, mode
        self.seed = seed
        self.gate = gate
        self.source: ContactSource = contacts or PopulationStream(seed, scenario.contacts)
        self.budget_spent = budget_spent or window_budget(rules)
        self.start = start
        self.now = 0.0
        self._events: list[tuple[float, int, int, Any]] = []
        self._seq = itertools.count()
        self._ids = itertools.count()
        self.agents: list[Agent] = []
        self.idle: deque[Agent] = deque()
        self.talking: dict[int, Agent] = {}
        self.wrapping: dict[int, Agent] = {}
        self.ringing: dict[int, CallRecord] = {}
        self.waiting: deque[CallRecord] = deque()
        self.log: list[CallRecord] = []
        self.bot_busy = 0
        self.requests = 0
        self.lines = 0
        self.counters = Counters()
        self._recent_resolved: list[ResolvedDial] = []
        self._recent_talk: list[float] = []
        self._recent_wrap: list[float] = []
        self._window: deque[tuple[float, int, int]] = deque()
        self._window_totals = [0, 0]
        self._logged_in = 0
        self._last_change = 0.0
        self._agent_seconds = 0.0
        self._line_seconds = 0.0
        self._talk_seconds = 0.0
        self._wrap_seconds = 0.0
        self._max_lines = 0
        self._refusals = self._denials = self._ticks = self._guaranteed_ticks = 0
        attach = getattr(pacer, "attach", None)
        if callable(attach):
            attach(self)   # the clairvoyant oracle only; production pacers have no such method

    # -- plumbing -------------------------------------------------------------------------------
    def _push(self, at: float, kind: int, item: Any) -> None:
        heapq.heappush(self._events, (at, kind, next(self._seq), item))

    def _account(self) -> None:
        dt = self.now - self._last_change
        if dt > 0:
            self._agent_seconds += dt * self._logged_in
            self._line_seconds += dt * self.lines
            self._last_change = self.now

    def _lines(self, delta: int) -> None:
        self._account()
        self.lines += delta
        self._max_lines = max(self._max_lines, self.lines)

    def _set_logged_in(self, delta: int) -> None:
        self._account()
        self._logged_in += delta

    # -- set-up ---------------------------------------------------------------------------------
    def _schedule_team(self) -> None:
        s = self.scenario
        self._push(0.0, _TEAM, s.agents)
        for change in s.team_changes:
            self._push(change.at_s, _TEAM, change.count)
        slots = max([s.agents, *(c.count for c in s.team_changes)])
        if s.pauses_per_agent_hour > 0:
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0xA6E7]))
            rate = s.pauses_per_agent_hour / 3600.0
            for slot in range(slots):
                t = rng.exponential(1 / rate)
                while t < s.duration_s:
                    length = s.pause.quantile_from_normal(float(rng.standard_normal()))
                    self._push(t, _PAUSE_REQ, (slot, length))
                    t += rng.exponential(1 / rate)

    # -- the run --------------------------------------------------------------------------------
    def run(self) -> SimOutput:
        s = self.scenario
        self._schedule_team()
        tick = 0.0
        while tick < s.duration_s:
            while self._events and self._events[0][0] <= tick:
                at, kind, _, item = heapq.heappop(self._events)
                self.now = at
                self._handle(kind, item)
            self.now = tick
            self._tick()
            tick += s.tick_s
        self.now = s.duration_s
        while self._events and self._events[0][0] <= s.duration_s:
            at, kind, _, item = heapq.heappop(self._events)
            self.now = at
            self._handle(kind, item)
        self.now = s.duration_s
        self._account()
        return SimOutput(s, self.rules, self.log, self._agent_seconds, self._talk_seconds,
                         self._wrap_seconds, self._line_seconds, self._max_lines, self._refusals,
                         self._denials, self._ticks, self._guaranteed_ticks)

    def snapshot(self) -> PacingSnapshot:
        now = self.now
        s = self.scenario
        c = self.counters
        stats = self._budget_stats()
        guaranteed = self.budget_spent(stats, now)
        return PacingSnapshot(
            now=now,
            free_agents=len(self.idle),
            talking=tuple(now - a.since for a in self.talking.values()),
            wrapping=tuple(now - a.since for a in self.wrapping.values()),
            ringing=tuple(now - r.dialled_at for r in self.ringing.values()),
            waiting=tuple(now - r.resolved_at for r in self.waiting),
            agent_requests=self.requests,
            bot_free=max(0, s.bot_channels - self.bot_busy),
            bot_busy=self.bot_busy,
            guaranteed_agent_only=guaranteed,
            counters=c,
            recent=Observations(tuple(self._recent_resolved), tuple(self._recent_talk),
                                tuple(self._recent_wrap)),
            limits=DialLimits(channel_limit=s.channel_limit, lines_in_use=self.lines,
                              max_lines_per_agent=s.max_lines_per_agent,
                              calls_per_second=s.calls_per_second, tick_seconds=s.tick_s),
        )

    def _tick(self) -> None:
        snap = self.snapshot()
        self._recent_resolved, self._recent_talk, self._recent_wrap = [], [], []
        self._ticks += 1
        self._guaranteed_ticks += snap.guaranteed_agent_only
        wanted = self.pacer.calls_to_place(snap)
        if self.mode in (CampaignMode.PREVIEW, CampaignMode.MANUAL):
            wanted = min(wanted, self.requests)
            self.requests -= wanted
        placed = 0
        budget = wanted * 10 + 10        # how many gate denials we tolerate in one tick
        while placed < wanted and budget > 0:
            budget -= 1
            if self.lines >= self.scenario.channel_limit:
                self._refusals += wanted - placed   # the trunk refuses: pacer exceeded the limit
                break
            contact = self.source.next_contact(self.now)
            if contact is None:
                break
            if self.gate is not None and not self.gate(contact, self.start + timedelta(seconds=self.now)):
                self._denials += 1
                continue
            self._dial(contact)
            placed += 1

    def _dial(self, contact: Contact) -> None:
        fate = fate_of(contact, self.scenario, self.now)
        record = CallRecord(next(self._ids), contact.contact_id, self.now, fate.result,
                            self.now + fate.ring_s, fate.talk_s, fate.wrap_s)
        self.log.append(record)
        self.ringing[record.call_id] = record
        self.counters = _bump(self.counters, dials=1)
        self._lines(+1)
        self._push(record.resolved_at, _RESOLVE, record)

    def _budget_stats(self) -> AbandonStats:
        horizon = self.now - self.rules.budget_window_s
        while self._window and self._window[0][0] <= horizon:
            _, lv, ab = self._window.popleft()
            self._window_totals[0] -= lv
            self._window_totals[1] -= ab
        return AbandonStats(*self._window_totals)

    def _note_live(self, abandoned: bool) -> None:
        lv, ab = (0, 1) if abandoned else (1, 0)
        self._window.append((self.now, lv, ab))
        self._window_totals[0] += lv
        self._window_totals[1] += ab

    # -- events ---------------------------------------------------------------------------------
    def _handle(self, kind: int, item: Any) -> None:
        if kind == _RESOLVE:
            self._resolve(item)
        elif kind == _TALK_END:
            self._talk_end(item)
        elif kind == _WRAP_END:
            agent: Agent = item
            self._recent_wrap.append(self.now - agent.since)
            agent.call = None
            self._agent_free(agent)
        elif kind == _ABANDON:
            self._abandon_if_waiting(item)
        elif kind == _BOT_END:
            self.bot_busy -= 1
            item.ended_at = self.now
            self._lines(-1)
        elif kind == _PAUSE_END:
            agent = item
            if agent.state == "paused":
                agent.pending = None
                self._agent_free(agent)
        elif kind == _PAUSE_REQ:
            self._pause_request(*item)
        elif kind == _TEAM:
            self._team(item)
        elif kind == _REQUEST:
            self._agent_request()

    def _resolve(self, call: CallRecord) -> None:
        self.ringing.pop(call.call_id, None)
        self._recent_resolved.append(ResolvedDial(call.result, call.resolved_at - call.dialled_at))
        if call.result is not DialResult.LIVE:
            call.ended_at = self.now
            self._lines(-1)
            if self.mode in (CampaignMode.PREVIEW, CampaignMode.MANUAL):
                self._push(self.now + self._request_delay(), _REQUEST, None)
            return
        self.counters = _bump(self.counters, live_answers=1)
        if self.mode is CampaignMode.BOT_ONLY:
            if self.bot_busy < self.scenario.bot_channels:
                self._to_bot(call)
                self._note_live(False)
            else:
                self._abandon(call)
            return
        if self.idle:
            self._connect(call, self.idle.popleft())
        else:
            self.waiting.append(call)
            self._push(self.now + self.rules.grace_s, _ABANDON, call)

    def _connect(self, call: CallRecord, agent: Agent) -> None:
        call.connected_at = self.now
        call.agent = agent.agent_id
        agent.state, agent.since, agent.call = "talk", self.now, call
        agent.free_at = self.now + call.talk_s + call.wrap_s
        self.talking[agent.agent_id] = agent
        end = self.scenario.duration_s
        self._talk_seconds += max(0.0, min(call.talk_s, end - self.now))
        self._wrap_seconds += max(0.0, min(call.wrap_s, end - self.now - call.talk_s))
        self._note_live(False)
        self._push(self.now + call.talk_s, _TALK_END, agent)

    def _talk_end(self, agent: Agent) -> None:
        call = agent.call
        assert call is not None
        self._recent_talk.append(self.now - agent.since)
        call.ended_at = self.now
        self._lines(-1)
        del self.talking[agent.agent_id]
        agent.state, agent.since = "wrap", self.now
        self.wrapping[agent.agent_id] = agent
        self._push(self.now + call.wrap_s, _WRAP_END, agent)

    def _agent_free(self, agent: Agent) -> None:
        self.wrapping.pop(agent.agent_id, None)
        if agent.pending == "logout":
            agent.state, agent.pending = "out", None
            self._set_logged_in(-1)
            return
        if agent.pending == "pause":
            agent.state = "paused"
            self._push(self.now + agent.pause_s, _PAUSE_END, agent)
            return
        agent.state, agent.since, agent.free_at = "idle", self.now, self.now
        if self.waiting:
            self._connect(self.waiting.popleft(), agent)
            return
        self.idle.append(agent)
        if self.mode in (CampaignMode.PREVIEW, CampaignMode.MANUAL):
            self._push(self.now + self._request_delay(), _REQUEST, None)

    def _request_delay(self) -> float:
        return self.scenario.preview_s if self.mode is CampaignMode.PREVIEW else self.scenario.manual_dial_s

    def _agent_request(self) -> None:
        # An agent finished previewing (or keying) a contact; only agents without a call count.
        if len(self.idle) > self.requests + len(self.ringing) + len(self.waiting):
            self.requests += 1

    def _abandon_if_waiting(self, call: CallRecord) -> None:
        if call.connected_at is None and call.bot_at is None and call in self.waiting:
            self.waiting.remove(call)
            self._abandon(call)

    def _abandon(self, call: CallRecord) -> None:
        self.counters = _bump(self.counters, abandons=1)
        if self.mode is CampaignMode.BLENDED and self.bot_busy < self.scenario.bot_channels:
            self.counters = _bump(self.counters, bot_rescues=1)
            self._note_live(not self.rules.bot_counts_as_live)
            self._to_bot(call)
            return
        self._note_live(True)
        call.ended_at = self.now
        self._lines(-1)

    def _to_bot(self, call: CallRecord) -> None:
        call.bot_at = self.now
        self.bot_busy += 1
        length = self.scenario.bot_talk.quantile_from_normal(_normal_of(call.contact_id))
        self._push(self.now + length, _BOT_END, call)

    def _pause_request(self, slot: int, length: float) -> None:
        if slot >= len(self.agents):
            return
        agent = self.agents[slot]
        if agent.state in ("out", "paused") or agent.pending:
            return
        agent.pending = "pause"
        agent.pause_s = length
        if agent.state == "idle" and len(self.idle) > len(self.ringing) + len(self.waiting):
            self.idle.remove(agent)
            self._agent_free(agent)

    def _team(self, count: int) -> None:
        logged = [a for a in self.agents if a.state != "out" and a.pending != "logout"]
        if count > len(logged):
            for _ in range(count - len(logged)):
                agent = next((a for a in self.agents if a.state == "out"), None)
                if agent is None:
                    agent = Agent(len(self.agents))
                    self.agents.append(agent)
                agent.pending = None
                self._set_logged_in(+1)
                self._agent_free(agent)
        else:
            for agent in sorted(logged, key=lambda a: -a.agent_id)[: len(logged) - count]:
                agent.pending = "logout"
                if agent.state in ("idle", "paused"):
                    if agent in self.idle:
                        self.idle.remove(agent)
                    agent.state, agent.pending = "out", None
                    self._set_logged_in(-1)


def _bump(c: Counters, *, dials: int = 0, live_answers: int = 0, abandons: int = 0,
          bot_rescues: int = 0) -> Counters:
    return Counters(c.dials + dials, c.live_answers + live_answers, c.abandons + abandons,
                    c.bot_rescues + bot_rescues)


def _normal_of(contact_id: int) -> float:
    """A deterministic standard-normal draw per contact for the bot conversation length."""
    u = ((contact_id * 2654435761) % 2**32 + 0.5) / 2**32
    return float(ndtri(u))
