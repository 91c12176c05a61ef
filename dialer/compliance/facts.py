"""What the gate knows about one dial request: plain data loaded by the repository layer.

The pure rules in this package read only these dataclasses and a clock instant, so they can be
property-tested without a database and driven by the simulator. The database adapter
(`dialer/compliance/gate.py`) loads them inside the transaction that will write the attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from dialer.domain import CampaignMode, ContactOwner, Outcome


@dataclass(frozen=True)
class PastAttempt:
    """One earlier dial of any number of the same debtor (all campaigns), newest first or any order."""

    attempt_id: int
    contact_id: int
    e164: str
    account_id: int                # the debt the call was about
    campaign_id: int
    placed_at: datetime            # UTC, when the gate allowed it
    outcome: Outcome | None        # None while the call is still in flight
    conversation: bool = False     # an effective conversation with the debtor (RPC)
    abandoned: bool = False
    live_agent_guaranteed: bool = False
    consented: bool = False        # placed with the person's direct prior consent
    # Added for the rules (defaults keep older loaders valid):
    owner: ContactOwner = ContactOwner.DEBTOR   # whose number was dialled (7-in-7 is per person)
    ended_at: datetime | None = None            # UTC; lockouts run from the result, not the dial
    time_zones: tuple[str, ...] = ()            # zones the gate used for that dial (checker only)

    @property
    def result_at(self) -> datetime:
        """When the outcome became known; the dial time if the loader did not record the end."""
        return self.ended_at if self.ended_at is not None else self.placed_at


@dataclass(frozen=True)
class WindowAgreement:
    """A recorded debtor agreement widening the calling window, for that debtor only."""

    start: time
    end: time
    valid_from: datetime
    valid_until: datetime | None = None


@dataclass(frozen=True)
class DialRequest:
    campaign_id: int
    campaign_mode: CampaignMode
    account_id: int
    debtor_id: int
    contact_id: int
    e164: str
    owner: ContactOwner
    time_zones: tuple[str, ...]            # every candidate zone of the number
    valid_number: bool = True
    suppressed: bool = False               # e.g. a third party who refused
    on_dnc: bool = False                   # global or this campaign's list
    campaign_attempts_on_account: int = 0
    lifetime_attempts_on_contact: int = 0
    inconvenient_times: tuple[tuple[time, time], ...] = ()   # consumer-named (Reg F 1006.6(b))
    window_agreements: tuple[WindowAgreement, ...] = ()
    direct_consent_until: datetime | None = None             # us: consent exclusion
    direct_consent_given_at: datetime | None = None          # us: exclusion lasts <= 7 days from here
    debtor_unreachable_since: datetime | None = None         # for third-party unlock
    debtor_numbers_all_invalid: bool = False
    history: tuple[PastAttempt, ...] = field(default=())     # the debtor's attempts, all campaigns
    # The campaign's abandonment budget: `abandonment.budget_restored_at(...)` over the campaign's
    # answered calls; while set and in the future, only guaranteed-agent modes may dial.
    abandonment_budget_restored_at: datetime | None = None
