"""Modes without a model: progressive, power, preview, manual, bot-only."""

from __future__ import annotations

import math

from dialer.pacing.pacers.base import LimitedPacer, progressive_calls
from dialer.pacing.snapshot import DialResult, PacingSnapshot


class ProgressivePacer(LimitedPacer):
    """One call per free agent; no answered call can ever find no agent."""

    def wanted(self, snapshot: PacingSnapshot) -> int:
        return progressive_calls(snapshot)


class PowerPacer(LimitedPacer):
    """A fixed number of lines per free agent (Wombat's "boost factor", UCCX lines per agent)."""

    def __init__(self, *, ratio: float = 1.5) -> None:
        super().__init__()
        if ratio < 1.0:
            raise ValueError("a power ratio below 1 would leave free agents without calls")
        self.ratio = ratio

    def wanted(self, snapshot: PacingSnapshot) -> int:
        goal = math.floor(self.ratio * snapshot.free_agents + 1e-9)
        return max(0, goal - snapshot.in_flight)


class AgentInitiatedPacer(LimitedPacer):
    """Preview and manual: the agent chose the contact and pressed dial; place exactly those calls."""

    def wanted(self, snapshot: PacingSnapshot) -> int:
        return snapshot.agent_requests

    def guaranteed_calls(self, snapshot: PacingSnapshot) -> int:
        return snapshot.agent_requests   # the requesting agent is the guaranteed live person


class BotOnlyPacer(LimitedPacer):
    """No agents: keep the bot channels busy, paced by expected answers per dial.

    Every answered call goes to the bot, so the only question is whether a bot channel will be free
    when the person says hello; `headroom` keeps a few channels spare for answers already in flight.
    """

    per_agent_cap = False

    def __init__(self, *, headroom: float = 0.9, min_answer_rate: float = 0.05) -> None:
        super().__init__()
        self.headroom = headroom
        self.min_answer_rate = min_answer_rate
        self._live = 1.0
        self._dials = 2.0   # weak prior: half of dials answer until data says otherwise

    def observe(self, snapshot: PacingSnapshot) -> None:
        for dial in snapshot.recent.resolved:
            self._dials = self._dials * 0.999 + 1.0
            self._live = self._live * 0.999 + (dial.result is DialResult.LIVE)

    def wanted(self, snapshot: PacingSnapshot) -> int:
        p = max(self.min_answer_rate, self._live / self._dials)
        expected_answers = len(snapshot.ringing) * p + len(snapshot.waiting)
        spare = self.headroom * snapshot.bot_free - expected_answers
        return max(0, math.floor(spare / p))

    def guaranteed_calls(self, snapshot: PacingSnapshot) -> int:
        return max(0, snapshot.bot_free - snapshot.in_flight)
