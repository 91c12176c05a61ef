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
    debtor_unreachable_since: datetime | None = None         # for third-party unlock
    debtor_numbers_all_invalid: bool = False
    history: tuple[PastAttempt, ...] = field(default=())     # the debtor's attempts, all campaigns
