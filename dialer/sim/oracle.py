"""The clairvoyant oracle: an upper bound on occupancy, never a production pacer.

It reads what no dialer can know: every contact's pre-drawn fate, every conversation's length, and so
the exact second each agent will be free. It dials non-live contacts freely (they cost a line, not an
agent) and dials a live one only if, matching answers to agents in time order, every answer still
finds an agent within the grace period. Its occupancy is what pacing could achieve with perfect
knowledge on the same population (PACING.md, "Measuring"). Deliberately absent from `make_pacer`.
"""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING

from dialer.pacing.pacers.base import CallRateLimiter, line_room
from dialer.pacing.snapshot import DialResult, PacingSnapshot
from dialer.sim.population import fate_of

if TYPE_CHECKING:
    from dialer.sim.engine import Simulator


class ClairvoyantOracle:
    label = "oracle (upper bound, reads the future)"

    def __init__(self, *, lookahead: int = 2000) -> None:
        self._sim: Simulator | None = None
        self._rate = CallRateLimiter()
        self.lookahead = lookahead

    def attach(self, sim: Simulator) -> None:
        self._sim = sim

    def calls_to_place(self, snapshot: PacingSnapshot) -> int:
        sim = self._sim
        if sim is None:
            raise RuntimeError("the oracle only runs inside the simulator that it reads")
        room = min(self._rate.available(snapshot), line_room(snapshot))
        now = snapshot.now
        grace = sim.rules.grace_s
        free_at = [now if a.state == "idle" else a.free_at
                   for a in sim.agents
                   if a.state in ("idle", "talk", "wrap") and a.pending is None]
        demands = [r.resolved_at for r in sim.waiting]
        demands += [r.resolved_at for r in sim.ringing.values() if r.result is DialResult.LIVE]
        calls = 0
        while calls < room and calls < self.lookahead:
            contact = sim.source.peek(calls)
            if contact is None:
                break
            fate = fate_of(contact, sim.scenario, now)
            if fate.result is DialResult.LIVE:
                if not _feasible(free_at, [*demands, now + fate.ring_s], grace):
                    break
                demands.append(now + fate.ring_s)
            calls += 1
        self._rate.spend(calls)
        return calls


def _feasible(free_at: list[float], demands: list[float], grace: float) -> bool:
    """Can answers (in time order) each take the earliest-free agent within the grace period?"""
    if len(demands) > len(free_at):
        return False
    agents = list(free_at)
    heapq.heapify(agents)
    for answer in sorted(demands):
        ready = heapq.heappop(agents)
        if ready > answer + grace - 1e-9:
            return False
        heapq.heappush(agents, math.inf)   # that agent is taken for the rest of the horizon
    return True
