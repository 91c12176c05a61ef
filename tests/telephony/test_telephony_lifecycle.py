"""The call lifecycle state machine (dialer/telephony/lifecycle.py)."""

from datetime import datetime, timedelta, timezone

import pytest

from dialer.domain import AttemptState, Outcome, Route
from dialer.telephony.interface import AmdResult, CallEvent, CallEventKind
from dialer.telephony.lifecycle import CallLifecycle, InvalidTransition

T0 = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)


def ev(kind, s=0.0, **kw):
    return CallEvent(attempt_id=7, kind=kind, at=T0 + timedelta(seconds=s), **kw)


def run(*events):
    call = CallLifecycle(attempt_id=7)
    call.originating(T0)
    for event in events:
        call.apply(event)
    return call


def test_given_a_busy_callee_when_dial_ends_then_the_attempt_ends_busy():
    call = run(ev(CallEventKind.RINGING, 1),
               ev(CallEventKind.UNANSWERED, 2, dial_status="BUSY", cause=17),
               ev(CallEventKind.ENDED, 2, cause=17))
    assert call.state is AttemptState.ENDED
    assert call.outcome is Outcome.BUSY
    assert [t.to_state for t in call.history] == [
        AttemptState.ORIGINATING, AttemptState.RINGING, AttemptState.ENDED]


def test_given_no_dialplan_detail_when_the_channel_ends_with_21_then_rejected():
    assert run(ev(CallEventKind.ENDED, 1, cause=21)).outcome is Outcome.REJECTED


def test_given_a_human_routed_to_the_bot_when_it_ends_then_human():
    call = run(ev(CallEventKind.RINGING, 1), ev(CallEventKind.ANSWERED, 5),
               ev(CallEventKind.AMD, 7, amd=AmdResult.HUMAN),
               ev(CallEventKind.ROUTED, 7, route=Route.BOT), ev(CallEventKind.ENDED, 60, cause=16))
    assert call.outcome is Outcome.HUMAN
    assert call.answered_at == T0 + timedelta(seconds=5)
    assert call.history[-1].outcome is Outcome.HUMAN


def test_given_amd_says_machine_when_it_ends_then_machine():
    call = run(ev(CallEventKind.ANSWERED, 5), ev(CallEventKind.AMD, 8, amd=AmdResult.MACHINE),
               ev(CallEventKind.ENDED, 8, cause=16))
    assert call.outcome is Outcome.MACHINE


def test_given_notsure_amd_when_routed_to_an_agent_then_human():
    call = run(ev(CallEventKind.ANSWERED, 5), ev(CallEventKind.AMD, 9, amd=AmdResult.NOTSURE),
               ev(CallEventKind.ROUTED, 9, route=Route.QUEUE),
               ev(CallEventKind.CONNECTED, 10, agent="agent1"), ev(CallEventKind.ENDED, 90))
    assert call.outcome is Outcome.HUMAN
    assert call.agent == "agent1"


def test_given_no_agent_within_2s_when_the_safe_harbour_message_plays_then_abandoned():
    call = run(ev(CallEventKind.ANSWERED, 5), ev(CallEventKind.ROUTED, 5, route=Route.QUEUE),
               ev(CallEventKind.ROUTED, 7, route=Route.SAFE_HARBOUR), ev(CallEventKind.ENDED, 15))
    assert call.outcome is Outcome.ABANDONED
    assert call.routes == [Route.QUEUE, Route.SAFE_HARBOUR]


def test_given_no_agent_within_2s_when_the_bot_takes_over_then_still_abandoned():
    call = run(ev(CallEventKind.ANSWERED, 5), ev(CallEventKind.ROUTED, 5, route=Route.QUEUE),
               ev(CallEventKind.ROUTED, 7, route=Route.BOT), ev(CallEventKind.ENDED, 30))
    assert call.outcome is Outcome.ABANDONED


def test_given_an_originate_failure_when_no_channel_existed_then_failed():
    assert run(ev(CallEventKind.FAILED, 0)).outcome is Outcome.FAILED


def test_given_a_decided_attempt_when_ended_before_originate_then_cancelled():
    call = CallLifecycle(attempt_id=7)
    call.ended(T0)
    assert call.outcome is Outcome.CANCELLED


def test_given_repeated_ringing_when_applied_then_no_new_transition():
    call = run(ev(CallEventKind.RINGING, 1))
    assert call.apply(ev(CallEventKind.RINGING, 2)) is None
    assert call.state is AttemptState.RINGING


@pytest.mark.parametrize("events, bad", [
    ((), ev(CallEventKind.CONNECTED, 1)),                                  # connected before answer
    ((ev(CallEventKind.ANSWERED, 1),), ev(CallEventKind.RINGING, 2)),       # ringing after answer
    ((ev(CallEventKind.ENDED, 1, cause=17),), ev(CallEventKind.ENDED, 2)),  # ended twice
    ((ev(CallEventKind.ENDED, 1, cause=17),), ev(CallEventKind.ANSWERED, 2)),
    ((ev(CallEventKind.ANSWERED, 1),), ev(CallEventKind.UNANSWERED, 2, dial_status="BUSY")),
    ((), ev(CallEventKind.AMD, 1, amd=AmdResult.HUMAN)),                     # AMD before answer
])
def test_given_an_out_of_order_event_when_applied_then_invalid_transition(events, bad):
    call = run(*events)
    with pytest.raises(InvalidTransition):
        call.apply(bad)


def test_given_a_persisted_routed_attempt_when_resumed_then_it_can_connect_and_end():
    call = CallLifecycle.resume(7, AttemptState.ROUTED, route=Route.QUEUE)
    call.connected(T0, agent="agent2")
    call.ended(T0 + timedelta(seconds=30))
    assert call.outcome is Outcome.HUMAN


def test_given_an_event_of_another_attempt_then_refused():
    call = CallLifecycle(attempt_id=8)
    with pytest.raises(ValueError):
        call.apply(ev(CallEventKind.RINGING))


def test_given_the_bot_took_the_call_when_its_hand_off_finds_no_agent_then_not_abandoned():
    # A bot-only campaign's escalation: the bot talked from the answer on, then transferred to a
    # queue nobody staffs, and the dialplan played the identification message.
    call = run(ev(CallEventKind.ANSWERED, 5), ev(CallEventKind.ROUTED, 6, route=Route.BOT),
               ev(CallEventKind.ROUTED, 60, route=Route.QUEUE),
               ev(CallEventKind.ROUTED, 61, route=Route.SAFE_HARBOUR), ev(CallEventKind.ENDED, 70))
    assert call.outcome is Outcome.HUMAN
