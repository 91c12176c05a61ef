"""Third parties never hear about the debt; ring time never goes under the floor."""

from __future__ import annotations

import pytest

from dialer.compliance.disclosure import (
    DisclosureForbidden,
    ScriptKind,
    choose_script_kind,
    guard_script,
    may_disclose_debt,
    suppress_after_refusal,
)
from dialer.compliance.profiles import builtin_profile
from dialer.compliance.ring import ring_timeout_for
from dialer.domain import ContactOwner, Party


@pytest.mark.parametrize("party", list(Party))
@pytest.mark.parametrize("verified", [True, False])
def test_given_any_party_then_only_a_verified_debtor_may_hear_about_the_debt(party: Party, verified: bool) -> None:
    assert may_disclose_debt(party, verified) is (party is Party.DEBTOR and verified)


@pytest.mark.parametrize("verified", [True, False])
def test_given_a_third_party_contact_even_if_verified_then_the_script_never_discloses(verified: bool) -> None:
    assert choose_script_kind(ContactOwner.THIRD_PARTY, verified) is ScriptKind.THIRD_PARTY_MESSAGE
    assert choose_script_kind(Party.THIRD_PARTY, verified) is ScriptKind.THIRD_PARTY_MESSAGE
    assert choose_script_kind(Party.WRONG_NUMBER, verified) is ScriptKind.THIRD_PARTY_MESSAGE


def test_given_the_debtors_number_then_identity_is_checked_before_the_debt_is_discussed() -> None:
    assert choose_script_kind(ContactOwner.DEBTOR, False) is ScriptKind.IDENTITY_CHECK
    assert choose_script_kind(Party.UNKNOWN, True) is ScriptKind.IDENTITY_CHECK
    assert choose_script_kind(ContactOwner.DEBTOR, True) is ScriptKind.DEBT_DISCUSSION


def test_given_a_disclosing_script_for_a_third_party_then_the_guard_raises() -> None:
    with pytest.raises(DisclosureForbidden, match="third party"):
        guard_script(ScriptKind.DEBT_DISCUSSION, Party.THIRD_PARTY, verified=True)
    with pytest.raises(DisclosureForbidden, match="unverified debtor"):
        guard_script(ScriptKind.DEBT_DISCUSSION, Party.DEBTOR, verified=False)
    assert guard_script(ScriptKind.THIRD_PARTY_MESSAGE, Party.THIRD_PARTY, verified=False) is ScriptKind.THIRD_PARTY_MESSAGE
    assert guard_script(ScriptKind.DEBT_DISCUSSION, Party.DEBTOR, verified=True) is ScriptKind.DEBT_DISCUSSION


def test_given_a_third_party_refusal_then_the_contact_is_suppressed_but_a_debtor_refusal_is_an_opt_out_elsewhere() -> None:
    assert suppress_after_refusal(ContactOwner.THIRD_PARTY, True, refusal_suppresses=True)
    assert not suppress_after_refusal(ContactOwner.THIRD_PARTY, False, refusal_suppresses=True)
    assert not suppress_after_refusal(ContactOwner.DEBTOR, True, refusal_suppresses=True)


@pytest.mark.parametrize(("requested", "expected"), [(None, 30), (5, 15), (15, 15), (45, 45)])
def test_given_a_requested_ring_time_then_it_never_goes_under_the_15_second_floor(requested: int | None, expected: int) -> None:
    assert ring_timeout_for(builtin_profile("us"), requested) == expected
