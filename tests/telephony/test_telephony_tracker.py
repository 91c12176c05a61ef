"""The one call tracker (dialer/telephony/tracker.py): many calls followed, each transition handed to
the journal, what the pacer observes, and squaring with Asterisk's channel list after a reconnect."""

from datetime import datetime, timedelta, timezone

import pytest

from dialer.domain import AttemptState, Outcome, Route
from dialer.pacing.snapshot import DialResult
from dialer.telephony.interface import AmdResult, CallEvent, CallEventKind, LiveCall
from dialer.telephony.tracker import CallTracker, MemoryJournal

T0 = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def originated(tracker: CallTracker, attempt_id: int, *, when: datetime = T0, campaign_id: int = 1) -> None:
    tracker.track(attempt_id, campaign_id=campaign_id, placed_at=when)
    tracker.originating(attempt_id, at=when)


def live(attempt_id: int, state: str = "Ringing") -> LiveCall:
    return LiveCall(attempt_id, f"dialer-{attempt_id}-ab", state, answered=state == "Up")


def test_given_events_of_followed_and_foreign_attempts_then_only_followed_ones_transition():
    tracker = CallTracker()
    originated(tracker, 1)
    assert tracker.on_event(CallEvent(1, CallEventKind.RINGING, at(1))) is not None
    assert tracker.on_event(CallEvent(99, CallEventKind.RINGING, at(1))) is None
    assert tracker.count(AttemptState.RINGING) == 1


def test_given_an_ended_call_then_it_is_journaled_forgotten_and_late_events_are_ignored():
    journal = MemoryJournal()
    ended = []
    tracker = CallTracker(journal=journal, on_ended=lambda a, c, o: ended.append((a, c, o)))
    originated(tracker, 1, campaign_id=7)
    transition = tracker.on_event(CallEvent(1, CallEventKind.ENDED, at(2), cause=17))
    assert transition is not None and transition.outcome is Outcome.BUSY
    assert tracker.open_calls() == []
    assert tracker.on_event(CallEvent(1, CallEventKind.ENDED, at(3), cause=16)) is None
    assert [(e.call.attempt_id, e.outcome) for e in journal.ends] == [(1, Outcome.BUSY)]
    assert ended == [(1, 7, Outcome.BUSY)]


def test_given_an_out_of_order_event_then_it_is_ignored_and_the_call_keeps_its_state():
    tracker = CallTracker()
    originated(tracker, 1)
    assert tracker.on_event(CallEvent(1, CallEventKind.CONNECTED, at(1))) is None
    assert tracker.count(AttemptState.ORIGINATING) == 1


def test_given_a_call_already_ended_when_the_originate_reply_comes_late_then_it_is_not_followed_anew():
    tracker = CallTracker()
    originated(tracker, 1)
    tracker.on_event(CallEvent(1, CallEventKind.ENDED, at(1), cause=17))
    assert tracker.originating(1, at=at(1.2)) is None and tracker.in_flight() == 0


def test_given_an_attempt_followed_twice_then_refused():
    tracker = CallTracker()
    tracker.track(1, campaign_id=1, placed_at=T0)
    with pytest.raises(ValueError):
        tracker.track(1, campaign_id=1, placed_at=T0)


def test_given_events_overtaking_the_originate_reply_then_the_call_is_originating_first():
    tracker = CallTracker()
    tracker.track(1, campaign_id=1, placed_at=T0)
    tracker.on_event(CallEvent(1, CallEventKind.RINGING, at(1)))
    assert tracker.originating(1, at=at(1.1), channel_id="dialer-1-ab") is None   # the late reply
    assert tracker.count(AttemptState.RINGING) == 1


def test_given_answered_routed_and_machine_calls_then_the_pacer_observes_each_resolution_once():
    tracker = CallTracker()
    for attempt_id in (1, 2, 3):
        originated(tracker, attempt_id, campaign_id=5)
    for attempt_id in (1, 2):
        tracker.on_event(CallEvent(attempt_id, CallEventKind.ANSWERED, at(4)))
    tracker.on_event(CallEvent(1, CallEventKind.ROUTED, at(5), route=Route.QUEUE, queue="collections"))
    tracker.on_event(CallEvent(1, CallEventKind.CONNECTED, at(6), agent="agent1"))
    tracker.on_event(CallEvent(2, CallEventKind.AMD, at(6), amd=AmdResult.MACHINE))
    tracker.on_event(CallEvent(3, CallEventKind.UNANSWERED, at(15), dial_status="NOANSWER", cause=19))
    for attempt_id in (1, 2, 3):
        tracker.on_event(CallEvent(attempt_id, CallEventKind.ENDED, at(36), cause=16))
    observed = tracker.drain(5)
    assert sorted(r.result for r in observed.resolved) == sorted(
        [DialResult.LIVE, DialResult.MACHINE, DialResult.NO_ANSWER])
    assert observed.dials == 3 and observed.live_answers == 1 and observed.talk_seconds == [30.0]
    assert tracker.drain(5).resolved == []


def test_given_a_queue_call_nobody_took_then_abandoned_and_counted_for_the_pacer():
    tracker = CallTracker()
    originated(tracker, 1, campaign_id=5)
    tracker.on_event(CallEvent(1, CallEventKind.ANSWERED, at(3)))
    tracker.on_event(CallEvent(1, CallEventKind.ROUTED, at(4), route=Route.QUEUE))
    tracker.on_event(CallEvent(1, CallEventKind.ROUTED, at(6), route=Route.SAFE_HARBOUR))
    assert tracker.on_event(CallEvent(1, CallEventKind.ENDED, at(12))).outcome is Outcome.ABANDONED
    assert tracker.drain(5).abandons == 1


def test_given_a_bot_call_whose_hand_off_found_nobody_then_human_and_not_counted_as_abandoned():
    tracker = CallTracker()
    originated(tracker, 1, campaign_id=5)
    tracker.on_event(CallEvent(1, CallEventKind.ANSWERED, at(3)))
    tracker.on_event(CallEvent(1, CallEventKind.ROUTED, at(4), route=Route.BOT))
    tracker.on_event(CallEvent(1, CallEventKind.ROUTED, at(49), route=Route.QUEUE))
    tracker.on_event(CallEvent(1, CallEventKind.ROUTED, at(50), route=Route.SAFE_HARBOUR))
    assert tracker.on_event(CallEvent(1, CallEventKind.ENDED, at(60))).outcome is Outcome.HUMAN
    assert tracker.drain(5).abandons == 0


def test_given_a_bot_that_never_took_the_call_then_the_identification_message_makes_it_abandoned():
    tracker = CallTracker()
    originated(tracker, 1, campaign_id=5)
    tracker.on_event(CallEvent(1, CallEventKind.ANSWERED, at(3)))
    tracker.on_event(CallEvent(1, CallEventKind.ROUTED, at(4), route=Route.BOT))
    tracker.on_event(CallEvent(1, CallEventKind.ROUTED, at(5), route=Route.SAFE_HARBOUR))
    tracker.on_event(CallEvent(1, CallEventKind.ENDED, at(12)))
    assert tracker.drain(5).abandons == 1


def test_given_a_refused_originate_then_failed_and_journaled_with_the_reason():
    journal = MemoryJournal()
    tracker = CallTracker(journal=journal)
    tracker.track(1, campaign_id=5, placed_at=T0)
    tracker.originate_failed(1, at=at(0.1), why="permit already used")
    assert [(e.outcome, e.why) for e in journal.ends] == [(Outcome.FAILED, "permit already used")]
    assert tracker.in_flight() == 0


def test_given_a_reconnect_when_asterisk_lost_some_calls_then_they_end_and_the_rest_stay():
    journal = MemoryJournal()
    tracker = CallTracker(journal=journal)
    for attempt_id in (1, 2, 3):
        originated(tracker, attempt_id)
    tracker.on_event(CallEvent(2, CallEventKind.ANSWERED, at(3)))
    tracker.on_event(CallEvent(2, CallEventKind.ROUTED, at(4), route=Route.QUEUE))
    tracker.on_event(CallEvent(2, CallEventKind.CONNECTED, at(5), agent="agent1"))
    result = tracker.reconcile([live(3)], now=at(30))
    assert {t.attempt_id: t.outcome for t in result.lost} == {1: Outcome.FAILED, 2: Outcome.HUMAN}
    assert result.live == 1 and result.orphans == ()
    assert [c.attempt_id for c in tracker.open_calls()] == [3]
    assert {e.call.attempt_id for e in journal.ends} == {1, 2}


def test_given_a_call_originated_a_moment_ago_when_not_listed_yet_then_not_declared_lost():
    tracker = CallTracker()
    originated(tracker, 1, when=at(28))
    assert tracker.reconcile([], now=at(30)).lost == ()
    assert tracker.reconcile([], now=at(40)).lost[0].attempt_id == 1


def test_given_a_restarted_daemon_when_asterisk_has_calls_it_does_not_follow_then_orphans():
    tracker = CallTracker()
    tracker.adopt(5, campaign_id=1, placed_at=T0, state=AttemptState.ROUTED, route=Route.BOT)
    result = tracker.reconcile([live(5, "Up"), live(6)], now=at(1))
    assert [c.attempt_id for c in result.orphans] == [6]
    assert result.live == 1 and result.lost == ()


def test_given_a_decided_attempt_never_sent_then_reconcile_leaves_it_to_the_daemon():
    tracker = CallTracker()
    tracker.adopt(7, campaign_id=1, placed_at=T0, state=AttemptState.DECIDED)
    assert tracker.reconcile([], now=at(60)).lost == ()
