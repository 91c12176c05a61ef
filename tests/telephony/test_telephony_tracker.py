"""Following many calls and squaring them with Asterisk's channel list (dialer/telephony/tracker.py)."""

from datetime import datetime, timedelta, timezone

import pytest

from dialer.domain import AttemptState, Outcome, Route
from dialer.telephony.interface import CallEvent, CallEventKind, LiveCall
from dialer.telephony.lifecycle import InvalidTransition
from dialer.telephony.tracker import CallTracker

T0 = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def live(attempt_id: int, state: str = "Ringing") -> LiveCall:
    return LiveCall(attempt_id, f"dialer-{attempt_id}-ab", state, answered=state == "Up")


def test_given_events_of_followed_and_foreign_attempts_then_only_followed_ones_transition():
    tracker = CallTracker()
    tracker.originating(1, at=T0)
    assert tracker.on_event(CallEvent(1, CallEventKind.RINGING, at(1))) is not None
    assert tracker.on_event(CallEvent(99, CallEventKind.RINGING, at(1))) is None
    assert tracker.count(AttemptState.RINGING) == 1


def test_given_an_ended_call_then_it_is_forgotten_and_late_events_are_ignored():
    tracker = CallTracker()
    tracker.originating(1, at=T0)
    transition = tracker.on_event(CallEvent(1, CallEventKind.ENDED, at(2), cause=17))
    assert transition is not None and transition.outcome is Outcome.BUSY
    assert tracker.open_calls() == []
    assert tracker.on_event(CallEvent(1, CallEventKind.ENDED, at(3), cause=16)) is None


def test_given_an_out_of_order_event_then_it_raises():
    tracker = CallTracker()
    tracker.originating(1, at=T0)
    with pytest.raises(InvalidTransition):
        tracker.on_event(CallEvent(1, CallEventKind.CONNECTED, at(1)))


def test_given_an_attempt_followed_twice_then_refused():
    tracker = CallTracker()
    tracker.originating(1, at=T0)
    with pytest.raises(ValueError):
        tracker.originating(1, at=T0)


def test_given_a_reconnect_when_asterisk_lost_some_calls_then_they_end_and_the_rest_stay():
    tracker = CallTracker()
    for attempt_id in (1, 2, 3):
        tracker.originating(attempt_id, at=T0)
    tracker.on_event(CallEvent(2, CallEventKind.ANSWERED, at(3)))
    tracker.on_event(CallEvent(2, CallEventKind.ROUTED, at(4), route=Route.QUEUE))
    tracker.on_event(CallEvent(2, CallEventKind.CONNECTED, at(5), agent="agent1"))
    result = tracker.reconcile([live(3)], now=at(30))
    assert {t.attempt_id: t.outcome for t in result.lost} == {1: Outcome.FAILED, 2: Outcome.HUMAN}
    assert result.live == 1 and result.orphans == ()
    assert [c.attempt_id for c in tracker.open_calls()] == [3]


def test_given_a_call_originated_a_moment_ago_when_not_listed_yet_then_not_declared_lost():
    tracker = CallTracker()
    tracker.originating(1, at=at(28))
    assert tracker.reconcile([], now=at(30)).lost == ()
    assert tracker.reconcile([], now=at(40)).lost[0].attempt_id == 1


def test_given_a_restarted_daemon_when_asterisk_has_calls_it_does_not_follow_then_orphans():
    tracker = CallTracker()
    tracker.resume(5, AttemptState.ROUTED, at=T0, route=Route.BOT)
    result = tracker.reconcile([live(5, "Up"), live(6)], now=at(1))
    assert [c.attempt_id for c in result.orphans] == [6]
    assert result.live == 1 and result.lost == ()


def test_given_a_decided_attempt_never_sent_then_reconcile_leaves_it_to_the_daemon():
    tracker = CallTracker()
    tracker.resume(7, AttemptState.DECIDED, at=T0)
    assert tracker.reconcile([], now=at(60)).lost == ()
