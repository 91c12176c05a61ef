"""What the pacer sees of a campaign's calls: from this daemon's tracker, or from the whole cluster.

A single daemon paces from its own `CallTracker` (every call of the campaign is its own). With
several daemons (docs/scale-out.md) the campaign's pacing owner must see every node's calls: it
reads them from the attempt rows, which the gate writes before any originate and each node's
tracker updates as its calls ring, are answered and end.

What the database view gives up (documented in docs/scale-out.md): a live answer is learnt when the
call ends rather than when it is routed, and a node's writes are seen one commit later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.daemon.cluster import OPEN_STATES
from dialer.db.models import Attempt
from dialer.domain import AttemptState, CampaignMode, Outcome
from dialer.pacing.snapshot import DialResult, ResolvedDial
from dialer.telephony.tracker import CallTracker

# A call that ends this long after it was placed is not seen by the owner's pacer (it is still
# closed, counted and capped like any other; the pacer only misses one observation).
LONGEST_CALL = timedelta(hours=2)
_RESULT = {Outcome.HUMAN: DialResult.LIVE, Outcome.ABANDONED: DialResult.LIVE, Outcome.MACHINE: DialResult.MACHINE,
           Outcome.BUSY: DialResult.BUSY, Outcome.NO_ANSWER: DialResult.NO_ANSWER}


@dataclass(frozen=True)
class CallsSeen:
    """A campaign's calls in progress now, and what resolved since the previous look."""

    ringing: tuple[float, ...] = ()       # seconds each unanswered call has rung
    waiting: tuple[float, ...] = ()       # seconds each answered call has waited for an agent
    bot_busy: int = 0
    lines_in_use: int = 0
    resolved: tuple[ResolvedDial, ...] = ()
    talk_seconds: tuple[float, ...] = ()
    live_answers: int = 0
    abandons: int = 0


def seen_by_tracker(tracker: CallTracker, campaign_id: int, mode: CampaignMode, now: datetime) -> CallsSeen:
    calls = tracker.calls_of(campaign_id)
    observed = tracker.drain(campaign_id)
    ringing = tuple((now - c.placed_at).total_seconds() for c in calls if c.answered_at is None)
    answered = [c for c in calls if c.answered_at is not None]
    waiting: tuple[float, ...] = ()
    bot_busy = 0
    if mode is CampaignMode.BOT_ONLY:
        bot_busy = len(answered)
    else:
        waiting = tuple((now - c.answered_at).total_seconds() for c in answered
                        if c.lifecycle.connected_at is None and c.answered_at is not None)
    return CallsSeen(ringing=ringing, waiting=waiting, bot_busy=bot_busy, lines_in_use=len(calls),
                     resolved=tuple(observed.resolved), talk_seconds=tuple(observed.talk_seconds),
                     live_answers=observed.live_answers, abandons=observed.abandons)


@dataclass
class ClusterCalls:
    """The owner's view of one campaign across every node, read from the attempt rows.

    It starts from "now" when a node becomes the owner (no replay of history); each look returns
    the attempts that ended since the previous one.
    """

    campaign_id: int
    since: datetime
    _seen_at_mark: set[int] = field(default_factory=set)

    def look(self, session: Session, mode: CampaignMode, now: datetime) -> CallsSeen:
        open_rows = session.execute(
            select(Attempt.placed_at, Attempt.answered_at, Attempt.connected_at)
            .where(Attempt.campaign_id == self.campaign_id, Attempt.state.in_(OPEN_STATES))).all()
        ringing = tuple((now - r.placed_at).total_seconds() for r in open_rows if r.answered_at is None)
        answered = [r for r in open_rows if r.answered_at is not None]
        bot_busy = len(answered) if mode is CampaignMode.BOT_ONLY else 0
        waiting = () if mode is CampaignMode.BOT_ONLY else tuple(
            (now - r.answered_at).total_seconds() for r in answered if r.connected_at is None)
        ended = session.execute(
            select(Attempt.id, Attempt.outcome, Attempt.ring_seconds, Attempt.talk_seconds, Attempt.connected_at,
                   Attempt.ended_at)
            .where(Attempt.campaign_id == self.campaign_id, Attempt.state == AttemptState.ENDED,
                   # placed_at bounds the scan to recent calls (the campaign/placed_at index)
                   Attempt.placed_at >= self.since - LONGEST_CALL, Attempt.ended_at >= self.since)
            .order_by(Attempt.ended_at)).all()
        fresh = [r for r in ended if r.id not in self._seen_at_mark]
        if ended:
            # Rows ending exactly at the mark would be seen twice otherwise (>= keeps ties).
            self.since = ended[-1].ended_at
            self._seen_at_mark = {r.id for r in ended if r.ended_at == self.since}
        resolved = tuple(ResolvedDial(_RESULT.get(r.outcome, DialResult.FAILED), r.ring_seconds or 0.0)
                         for r in fresh if r.outcome is not None)
        return CallsSeen(
            ringing=ringing, waiting=waiting, bot_busy=bot_busy, lines_in_use=len(open_rows), resolved=resolved,
            talk_seconds=tuple(r.talk_seconds for r in fresh if r.connected_at is not None and r.talk_seconds),
            live_answers=sum(1 for r in resolved if r.result is DialResult.LIVE),
            abandons=sum(1 for r in fresh if r.outcome is Outcome.ABANDONED))
