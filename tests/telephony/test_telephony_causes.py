"""Q.850 causes and Dial() statuses -> attempt outcomes (dialer/telephony/causes.py)."""

import pytest

from dialer.domain import Outcome
from dialer.telephony.causes import cause_name, unanswered_outcome


@pytest.mark.parametrize(("cause", "outcome"), [
    (17, Outcome.BUSY), (18, Outcome.NO_ANSWER), (19, Outcome.NO_ANSWER), (21, Outcome.REJECTED),
    (34, Outcome.CONGESTION), (42, Outcome.CONGESTION), (1, Outcome.FAILED), (28, Outcome.FAILED),
    (102, Outcome.NO_ANSWER), (16, Outcome.NO_ANSWER), (0, Outcome.FAILED), (None, Outcome.FAILED),
])
def test_given_only_a_hangup_cause_when_mapping_then_the_q850_meaning_decides(cause, outcome):
    assert unanswered_outcome(cause) is outcome


def test_given_dial_status_busy_when_the_trunk_sent_normal_clearing_then_busy():
    assert unanswered_outcome(16, "BUSY") is Outcome.BUSY


def test_given_a_ring_timeout_when_the_cause_is_generic_then_no_answer():
    assert unanswered_outcome(0, "NOANSWER") is Outcome.NO_ANSWER


def test_given_chanunavail_with_cause_21_when_mapping_then_rejected_not_failed():
    # What Dial() reports for a callee that rejects (SIP 603): the cause is the specific part.
    assert unanswered_outcome(21, "CHANUNAVAIL") is Outcome.REJECTED


def test_given_congestion_status_without_a_known_cause_then_congestion():
    assert unanswered_outcome(None, "CONGESTION") is Outcome.CONGESTION


def test_cause_names_are_asterisks_names():
    assert cause_name(17) == "USER_BUSY"
    assert cause_name(999) == "CAUSE_999"
    assert cause_name(None) == "UNKNOWN"
