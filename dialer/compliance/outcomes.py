"""How an attempt's outcome is read by the rules: the shared vocabulary of the gate and the checker.

These are definitions, not counting: the gate (`rules.py`) and the independent re-check
(`checker.py`) both classify an attempt the same way but count in their own way.
"""

from __future__ import annotations

from dialer.domain import Outcome


def placed(outcome: Outcome | None) -> bool:
    """Counts as a dial attempt. In-flight calls (None) count; a call cancelled before it left the
    dialer never reached the network and does not."""
    return outcome is not Outcome.CANCELLED


def in_flight(outcome: Outcome | None) -> bool:
    return outcome is None


def no_contact(outcome: Outcome | None) -> bool:
    """Nobody was reached: busy, no answer, rejected, failed, congestion, or an answering machine.

    Used for "two unanswered calls within 5 minutes" (CFPB FAQ; a voicemail is not an answer by
    the person) and for the cn third-party unlock ("3 consecutive failed attempts").
    """
    return outcome is not None and (outcome.unanswered or outcome is Outcome.MACHINE)


def abandoned(outcome: Outcome | None, flagged: bool) -> bool:
    return flagged or outcome is Outcome.ABANDONED
