"""The route an attempt row keeps decides how the abandonment measure classifies the call
(dialer/compliance/abandonment.py classify): a call the bot took at answer must not read as dropped
because its hand-off to agents found nobody and the identification message closed it."""

from datetime import datetime, timedelta, timezone

from dialer.compliance.abandonment import AnswerKind, classify
from dialer.daemon.journal import _recorded_route
from dialer.domain import Outcome, Route
from dialer.telephony.interface import CallEvent, CallEventKind
from dialer.telephony.lifecycle import CallLifecycle

T0 = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)


def _call(*routes: Route) -> CallLifecycle:
    call = CallLifecycle(attempt_id=7)
    call.originating(T0)
    call.apply(CallEvent(attempt_id=7, kind=CallEventKind.ANSWERED, at=T0 + timedelta(seconds=3)))
    for i, route in enumerate(routes):
        call.apply(CallEvent(attempt_id=7, kind=CallEventKind.ROUTED, at=T0 + timedelta(seconds=4 + 30 * i),
                             route=route))
    call.apply(CallEvent(attempt_id=7, kind=CallEventKind.ENDED, at=T0 + timedelta(seconds=200)))
    return call


def test_given_a_bot_call_whose_hand_off_found_nobody_then_recorded_as_a_bot_call_not_dropped():
    call = _call(Route.BOT, Route.QUEUE, Route.SAFE_HARBOUR)
    assert call.outcome is Outcome.HUMAN
    assert _recorded_route(call) is Route.BOT
    assert classify(call.outcome, _recorded_route(call)) is AnswerKind.BOT


def test_given_a_bot_that_failed_at_answer_then_recorded_as_safe_harbour_and_dropped():
    call = _call(Route.BOT, Route.SAFE_HARBOUR)
    assert not call.taken_by_bot()
    assert _recorded_route(call) is Route.SAFE_HARBOUR
    assert classify(call.outcome, _recorded_route(call)) is AnswerKind.DROPPED


def test_given_a_queue_call_nobody_took_then_still_recorded_as_safe_harbour_and_dropped():
    call = _call(Route.QUEUE, Route.SAFE_HARBOUR)
    assert call.outcome is Outcome.ABANDONED
    assert _recorded_route(call) is Route.SAFE_HARBOUR
    assert classify(call.outcome, _recorded_route(call)) is AnswerKind.DROPPED
