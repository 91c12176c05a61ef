"""Who may hear about the debt: the guard used wherever a dialog script is chosen.

A third party (emergency contact, relative, employer) may only be asked for the debtor's contact
details or to pass on a message; never the amount, the overdue date or that a debt exists
(GB/T 45251, CBA 2026 for `cn`; FDCPA 1692b / Reg F 1006.10 for `us`; FCA CONC 7.9.7R for `uk`).
Even the debtor's own number may be answered by someone else, so the debt is disclosed only
after the identity check passed.
"""

from __future__ import annotations

import enum

from dialer.domain import ContactOwner, Party


class ScriptKind(str, enum.Enum):
    IDENTITY_CHECK = "identity_check"          # greet, identify the business, verify the person
    DEBT_DISCUSSION = "debt_discussion"        # amount, due date, promise to pay: verified debtor only
    THIRD_PARTY_MESSAGE = "third_party_message"  # ask for contact details / pass a message, no debt


DISCLOSING_SCRIPTS = frozenset({ScriptKind.DEBT_DISCUSSION})


class DisclosureForbidden(Exception):
    """A disclosing script was about to be played to someone who may not hear it."""

    def __init__(self, kind: ScriptKind, who: str) -> None:
        super().__init__(f"script {kind.value!r} discloses the debt and may not be played to {who}")
        self.kind = kind


def may_disclose_debt(party: Party, verified: bool) -> bool:
    """Only a verified debtor (right-party contact) may hear about the debt."""
    return party is Party.DEBTOR and verified


def choose_script_kind(owner: ContactOwner | Party, verified: bool) -> ScriptKind:
    """The script family for who is on the line: third parties never get a disclosing script."""
    if owner in (ContactOwner.THIRD_PARTY, Party.THIRD_PARTY, Party.WRONG_NUMBER):
        return ScriptKind.THIRD_PARTY_MESSAGE
    if owner in (ContactOwner.DEBTOR, Party.DEBTOR) and verified:
        return ScriptKind.DEBT_DISCUSSION
    return ScriptKind.IDENTITY_CHECK


def guard_script(kind: ScriptKind, party: Party, verified: bool) -> ScriptKind:
    """Raise before a disclosing script reaches anyone but a verified debtor."""
    if kind in DISCLOSING_SCRIPTS and not may_disclose_debt(party, verified):
        who = "an unverified debtor" if party is Party.DEBTOR else f"a {party.value.replace('_', ' ')}"
        raise DisclosureForbidden(kind, who)
    return kind


def suppress_after_refusal(owner: ContactOwner, refused: bool, *, refusal_suppresses: bool) -> bool:
    """A third party who refuses or asks not to be called is suppressed for good (GB/T 45251)."""
    return refused and refusal_suppresses and owner is ContactOwner.THIRD_PARTY
