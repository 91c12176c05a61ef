"""SMS triggers of seed 001: each fires at most once per account, and only in the sending window.

* `first_call_unpaid`: after the first completed call, still unpaid → bill, minimum payment, how
  to pay;
* `suspension_notice`: 5 days past due, unpaid → suspension notice and credit-record reminder;
* `legal_reminder`: 8 days past due, unpaid → contract and liability reminder.

"N days unpaid" is read as N days past due, which lines the texts up with the default stages
(4–5 and 6–8 dpd). The stage decides which triggers are active. When several are due at once (an
account imported at 9 dpd), only the most severe is sent and the others are marked superseded:
three texts in one evening would be exactly the density seed 004 warns against.

Firing once is enforced twice: here (`fired` holds triggers already sent or superseded) and in the
database (`sms_outbox` is unique on account and trigger), so two processes cannot both send.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from dialer.clock import ensure_utc
from dialer.sms.window import SmsCaps, TextWindow, earliest_send


@dataclass(frozen=True)
class SmsTrigger:
    name: str
    template: str
    severity: int                 # higher supersedes lower when several are due together
    min_dpd: int = 1
    min_completed_calls: int = 0


DEFAULT_TRIGGERS: tuple[SmsTrigger, ...] = (
    SmsTrigger("first_call_unpaid", "first_call_unpaid", severity=1, min_completed_calls=1),
    SmsTrigger("suspension_notice", "suspension_notice", severity=2, min_dpd=5),
    SmsTrigger("legal_reminder", "legal_reminder", severity=3, min_dpd=8),
)


@dataclass(frozen=True)
class SmsAccountState:
    account_id: int
    dpd: int
    paid: bool
    completed_calls: int          # calls that ended (any outcome) in this campaign
    may_text: bool                # consent on file, not opted out, a mobile number
    fired: frozenset[str] = frozenset()   # triggers already sent or superseded


@dataclass(frozen=True)
class PlannedSms:
    account_id: int
    trigger: str
    template: str
    send_at: datetime             # UTC; deferred to the window's next opening if closed now


@dataclass(frozen=True)
class TriggerPlan:
    send: PlannedSms | None
    superseded: tuple[str, ...] = ()


def plan_sms(state: SmsAccountState, active: Iterable[str], *, now: datetime,
             window: TextWindow, caps: SmsCaps, sent_to_debtor: Iterable[datetime] = (),
             triggers: Sequence[SmsTrigger] = DEFAULT_TRIGGERS) -> TriggerPlan:
    """The text (if any) this account's stage calls for now, and when it may go out."""
    if state.paid or not state.may_text:
        return TriggerPlan(send=None)
    active_names = set(active)
    due = sorted((t for t in triggers
                  if t.name in active_names and t.name not in state.fired
                  and state.dpd >= t.min_dpd and state.completed_calls >= t.min_completed_calls),
                 key=lambda t: t.severity)
    if not due:
        return TriggerPlan(send=None)
    chosen = due[-1]
    send_at = earliest_send(ensure_utc(now), window, caps, sent_to_debtor)
    return TriggerPlan(send=PlannedSms(state.account_id, chosen.name, chosen.template, send_at),
                       superseded=tuple(t.name for t in due[:-1]))


def still_sendable(planned: PlannedSms, *, now: datetime, window: TextWindow,
                   paid: bool) -> bool:
    """Check again at send time: the account may have paid, or the send may have been delayed."""
    return not paid and ensure_utc(now) >= planned.send_at and window.is_open(now)
