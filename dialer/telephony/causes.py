"""Why an unanswered call ended: Q.850 hangup causes and Dial() statuses mapped to attempt outcomes.

Asterisk reports a failed call two ways: the Q.850 cause on the channel (`Hangup` event `Cause`,
ARI `ChannelDestroyed.cause`) and, where our dialplan ran `Dial()`, the `DIALSTATUS`. The dial
status is the more reliable of the two for busy / no answer (a ring timeout ends with cause 16 or
0 on some trunks), the cause is the only source for everything else. PJSIP maps SIP responses to
causes (RFC 3398): 486 -> 17, 480 -> 18/19, 603 -> 21, 404 -> 1, 503 -> 34/38/41, 408 -> 102.
"""

from __future__ import annotations

from dialer.domain import Outcome

# Q.850 cause values (ITU-T Q.850 table 1) and the names Asterisk logs for them.
CAUSE_NAMES: dict[int, str] = {
    0: "NOT_DEFINED", 1: "UNALLOCATED", 3: "NO_ROUTE_DESTINATION", 16: "NORMAL_CLEARING",
    17: "USER_BUSY", 18: "NO_USER_RESPONSE", 19: "NO_ANSWER", 20: "SUBSCRIBER_ABSENT",
    21: "CALL_REJECTED", 22: "NUMBER_CHANGED", 27: "DESTINATION_OUT_OF_ORDER",
    28: "INVALID_NUMBER_FORMAT", 31: "NORMAL_UNSPECIFIED", 34: "NORMAL_CIRCUIT_CONGESTION",
    38: "NETWORK_OUT_OF_ORDER", 41: "NORMAL_TEMPORARY_FAILURE", 42: "SWITCH_CONGESTION",
    44: "REQUESTED_CHAN_UNAVAIL", 47: "RESOURCE_UNAVAIL", 58: "BEARERCAPABILITY_NOTAVAIL",
    102: "RECOVERY_ON_TIMER_EXPIRE", 127: "INTERWORKING",
}

_BY_CAUSE: dict[int, Outcome] = {
    17: Outcome.BUSY,
    18: Outcome.NO_ANSWER,
    19: Outcome.NO_ANSWER,
    # The handset is off or out of coverage: worth a retry later, like no answer.
    20: Outcome.NO_ANSWER,
    # A ring timeout on the far side (SIP 408).
    102: Outcome.NO_ANSWER,
    21: Outcome.REJECTED,
    # Network trouble: retry soon, and a pacer should back off when these pile up.
    34: Outcome.CONGESTION,
    38: Outcome.CONGESTION,
    41: Outcome.CONGESTION,
    42: Outcome.CONGESTION,
    44: Outcome.CONGESTION,
    47: Outcome.CONGESTION,
    # The number itself is bad: a data-quality problem, not a retry.
    1: Outcome.FAILED,
    3: Outcome.FAILED,
    22: Outcome.FAILED,
    27: Outcome.FAILED,
    28: Outcome.FAILED,
    58: Outcome.FAILED,
    127: Outcome.FAILED,
}

_BY_DIAL_STATUS: dict[str, Outcome] = {
    "BUSY": Outcome.BUSY,
    "NOANSWER": Outcome.NO_ANSWER,
    "CONGESTION": Outcome.CONGESTION,
}


def cause_name(cause: int | None) -> str:
    if cause is None:
        return "UNKNOWN"
    return CAUSE_NAMES.get(cause, f"CAUSE_{cause}")


def unanswered_outcome(cause: int | None, dial_status: str | None = None) -> Outcome:
    """The outcome of a call that ended before anyone answered.

    A specific cause wins over a generic dial status (CONGESTION and CHANUNAVAIL are what Dial()
    says for rejected and invalid numbers too); BUSY and NOANSWER win over a generic cause.
    Normal clearing before answer (16) is how many trunks end a call that rang out.
    """
    status = (dial_status or "").upper()
    if status in ("BUSY", "NOANSWER"):
        return _BY_DIAL_STATUS[status]
    if cause is not None and cause in _BY_CAUSE:
        return _BY_CAUSE[cause]
    if status in _BY_DIAL_STATUS:
        return _BY_DIAL_STATUS[status]
    if cause == 16:
        return Outcome.NO_ANSWER
    return Outcome.FAILED
