"""What a real dialer can observe at one instant: the only input a pacer gets.

A `PacingSnapshot` is a plain, immutable value. The production daemon builds it from Asterisk events
and the agent desk; the simulator builds it from its own state; an external evaluator can build it
from anything. Nothing in it reveals the future: no call's outcome before it resolves, no talk time
before the call ends (DESIGN.md, "Interfaces others depend on").

Times are seconds on a monotonic clock (`now`); durations are seconds. Observations that happened
since the previous snapshot (`recent`) let a pacer learn without a second channel to the dialer;
whoever builds snapshots must include every event exactly once (accumulate them if a tick is skipped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class DialResult(str, Enum):
    """How a dial resolved, as the telephony layer reports it."""

    LIVE = "live"            # a person answered (AMD said human)
    MACHINE = "machine"      # answering machine / voicemail
    BUSY = "busy"
    NO_ANSWER = "no_answer"  # rang until the ring timeout
    FAILED = "failed"        # congestion, invalid number, originate error


@dataclass(frozen=True, slots=True)
class ResolvedDial:
    result: DialResult
    ring_seconds: float      # from originate to answer / busy / timeout


@dataclass(frozen=True, slots=True)
class Observations:
    """Events completed since the previous snapshot."""

    resolved: tuple[ResolvedDial, ...] = ()
    talk_seconds: tuple[float, ...] = ()   # durations of agent conversations that ended
    wrap_seconds: tuple[float, ...] = ()   # durations of wrap-ups that ended


@dataclass(frozen=True, slots=True)
class Counters:
    """Running totals since the campaign started (monotonic, never reset within a run)."""

    dials: int = 0
    live_answers: int = 0
    abandons: int = 0          # live answers not connected to a live agent within 2 s
    bot_rescues: int = 0       # of those abandons, how many the bot took (blended mode)


@dataclass(frozen=True, slots=True)
class DialLimits:
    """Capacity the pacer must never exceed (campaign and trunk settings)."""

    channel_limit: int = 10_000        # concurrent channels of the campaign (trunk share)
    lines_in_use: int = 0              # channels busy now: ringing + waiting + connected calls
    max_lines_per_agent: float = 3.0   # line cap: ringing + waiting calls per active agent
    calls_per_second: float = 10.0     # originate rate limit of the trunk / carrier
    tick_seconds: float = 1.0          # how often the pacer is asked


@dataclass(frozen=True, slots=True)
class PacingSnapshot:
    now: float
    free_agents: int                             # logged in, ready, not on a call
    talking: tuple[float, ...] = ()              # elapsed talk seconds, one per agent in a call
    wrapping: tuple[float, ...] = ()             # elapsed wrap-up seconds, one per agent
    ringing: tuple[float, ...] = ()              # elapsed ring seconds, one per unresolved dial
    waiting: tuple[float, ...] = ()              # seconds each answered live call has waited
    agent_requests: int = 0                      # preview/manual: agents who asked for a call
    bot_free: int = 0                            # bot channels free (bot-only and blended)
    bot_busy: int = 0
    guaranteed_agent_only: bool = False          # compliance: abandon budget spent → no overdial
    counters: Counters = field(default_factory=Counters)
    recent: Observations = field(default_factory=Observations)
    limits: DialLimits = field(default_factory=DialLimits)

    @property
    def active_agents(self) -> int:
        """Agents working the campaign (free, talking or wrapping; paused agents excluded)."""
        return self.free_agents + len(self.talking) + len(self.wrapping)

    @property
    def in_flight(self) -> int:
        """Calls that may still need an agent: ringing plus answered-and-waiting."""
        return len(self.ringing) + len(self.waiting)
