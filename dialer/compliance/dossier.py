"""What the gate reads from the database for a batch of dial targets, as plain rows and facts.

Two steps, in the gate's transaction:

1. `lock_subjects`: one statement loads each target's contact, account and campaign and locks the
   targets' debtors (`FOR UPDATE OF debtors`, in debtor-id order so two batches with overlapping
   debtors cannot deadlock: both wait in the same order). This is the serialisation point of the
   cross-process contract (see gate.py).
2. `load_dossiers`: the facts of the locked debtors, four statements for the whole batch (id
   lists): history, counts with DNC entries, own numbers, consents. They must be separate
   statements *after* the lock: PostgreSQL runs a statement on the snapshot taken when it started,
   so facts read in the locking statement itself could predate the commit of the transaction we
   waited for (the attempt it just wrote would be missing).

Everything is SQLAlchemy Core with statements built once (bind parameters only) and plain rows,
not ORM entities: composing expressions and building entities cost more CPU than the queries
(benchmarks/results/gate.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, Row, any_, bindparam, func, literal, null, or_, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from dialer.compliance.facts import PastAttempt, WindowAgreement
from dialer.db.models import Account, Attempt, Campaign, ConsentRecord, Debtor, DncEntry, PhoneContact
from dialer.domain import CampaignMode, CampaignState, ConsentKind, ContactOwner


@dataclass(frozen=True)
class CampaignRow:
    """The campaign columns the gate needs (the profile lookup reads name, profile and overrides)."""

    id: int
    name: str
    state: CampaignState
    mode: CampaignMode
    profile: str
    profile_overrides: dict[str, Any]


@dataclass(frozen=True)
class Subject:
    """One target as found under the debtor's lock: the number, its debtor and the campaign."""

    contact_id: int
    account_id: int
    debtor_id: int
    e164: str
    owner: ContactOwner
    time_zones: tuple[str, ...]
    valid: bool
    suppressed: bool
    campaign: CampaignRow


@dataclass
class Dossier:
    """Everything known about the locked debtors of a batch, keyed for per-target lookups."""

    history: dict[int, list[PastAttempt]]                 # debtor -> attempts (look-back or in flight)
    lifetime_on_contact: dict[int, int]                   # contact -> attempts ever
    in_campaign_on_account: dict[tuple[int, int], int]    # (account, campaign) -> attempts
    dnc: dict[int, list[int | None]]                      # contact -> campaigns listing its number (None: all)
    own_numbers: dict[int, list[tuple[bool, datetime | None]]]   # debtor -> (valid, unreachable_since)
    consents: dict[int, list[Row[Any]]]                   # debtor -> records, oldest first


def _in_list(column: Any, name: str) -> Any:
    return column.in_(bindparam(name, expanding=True))


def _in_array(column: Any, name: str) -> Any:
    return column == any_(bindparam(name, type_=ARRAY(Integer)))


@dataclass(frozen=True)
class _Statements:
    lock: Any
    history: Any
    counts: Any
    own_numbers: Any
    consents: Any


_LIFETIME, _IN_CAMPAIGN, _DNC = 1, 2, 3


def _statements(member: Callable[[Any, str], Any]) -> _Statements:
    """The gate's reads, with `member(column, name)` for "column is one of the ids bound as name"."""
    # Contacts, accounts and campaigns by id lists; rows whose account is not the contact's
    # debtor's are not joined. The caller keeps the (contact, account, campaign) triples it asked for.
    lock = (
        select(PhoneContact.id, Account.id, PhoneContact.debtor_id, PhoneContact.e164, PhoneContact.owner,
               PhoneContact.time_zones, PhoneContact.valid, PhoneContact.suppressed, Campaign.id, Campaign.name,
               Campaign.state, Campaign.mode, Campaign.profile, Campaign.profile_overrides)
        .join(Debtor, Debtor.id == PhoneContact.debtor_id)
        .join(Account, member(Account.id, "account_ids") & (Account.debtor_id == PhoneContact.debtor_id))
        .join(Campaign, member(Campaign.id, "campaign_ids"))
        .where(member(PhoneContact.id, "contact_ids"))
        .order_by(Debtor.id)
        .with_for_update(of=Debtor))
    # Plain columns, not Attempt entities: the rules need a dozen fields of each row.
    history = (
        select(Attempt.debtor_id, Attempt.id, Attempt.contact_id, Attempt.e164, Attempt.account_id,
               Attempt.campaign_id, Attempt.placed_at, Attempt.outcome, Attempt.conversation, Attempt.abandoned,
               Attempt.live_agent_guaranteed, Attempt.consented, Attempt.ended_at,
               PhoneContact.owner, PhoneContact.time_zones)
        .join(PhoneContact, PhoneContact.id == Attempt.contact_id)
        .where(member(Attempt.debtor_id, "debtor_ids"),
               or_(Attempt.placed_at >= bindparam("since"), Attempt.outcome.is_(None))))
    # The counts the caps need and the DNC entries in one round trip: rows of (kind, id, campaign, n).
    counts: Any = union_all(
        select(literal(_LIFETIME), Attempt.contact_id, null(), func.count(Attempt.id))
        .where(member(Attempt.contact_id, "contact_ids")).group_by(Attempt.contact_id),
        select(literal(_IN_CAMPAIGN), Attempt.account_id, Attempt.campaign_id, func.count(Attempt.id))
        .where(member(Attempt.account_id, "account_ids")).group_by(Attempt.account_id, Attempt.campaign_id),
        # By the dialled contact's number: an entry may name this campaign or none (global list).
        select(literal(_DNC), PhoneContact.id, DncEntry.campaign_id, literal(1))
        .join(PhoneContact, PhoneContact.e164 == DncEntry.e164)
        .where(member(PhoneContact.id, "contact_ids"),
               or_(DncEntry.expires_at.is_(None), DncEntry.expires_at > bindparam("now"))))
    own_numbers = (select(PhoneContact.debtor_id, PhoneContact.valid, PhoneContact.unreachable_since)
                   .where(member(PhoneContact.debtor_id, "debtor_ids"), PhoneContact.owner == ContactOwner.DEBTOR))
    consents = (select(ConsentRecord.debtor_id, ConsentRecord.contact_id, ConsentRecord.kind,
                       ConsentRecord.window_start, ConsentRecord.window_end, ConsentRecord.valid_from,
                       ConsentRecord.valid_until)
                .where(member(ConsentRecord.debtor_id, "debtor_ids"))
                .order_by(ConsentRecord.valid_from, ConsentRecord.id))
    return _Statements(lock, history, counts, own_numbers, consents)


# Built once per kind of id list. PostgreSQL gets one array parameter per list (`= ANY(:ids)`):
# the SQL text is then the same for every batch size, so psycopg caches its parsing and prepares
# it on the server; an expanded `IN (...)` of 50 ids has a new text per size, and psycopg re-parses
# any query with over 50 parameters on every execution (a third of the client CPU of a batch, profiled).
_IN_LISTS, _ARRAYS = _statements(_in_list), _statements(_in_array)


def _for(conn: Connection) -> _Statements:
    return _ARRAYS if conn.dialect.name == "postgresql" else _IN_LISTS


def lock_subjects(conn: Connection, targets: Sequence[tuple[int, int, int]]) -> dict[tuple[int, int, int], Subject]:
    """Lock the debtors of `targets` ((campaign, account, contact) triples) and load their rows.

    A target missing from the result is unknown, or names an account of another debtor."""
    rows = conn.execute(_for(conn).lock, {"contact_ids": sorted({t[2] for t in targets}),
                                "account_ids": sorted({t[1] for t in targets}),
                                "campaign_ids": sorted({t[0] for t in targets})}).all()
    found: dict[tuple[int, int, int], Subject] = {}
    for (contact_id, account_id, debtor_id, e164, owner, zones, valid, suppressed,
         campaign_id, name, state, mode, profile, overrides) in rows:
        key = (campaign_id, account_id, contact_id)
        if key not in found:
            found[key] = Subject(contact_id, account_id, debtor_id, e164, owner, tuple(zones or ()), valid,
                                 suppressed, CampaignRow(campaign_id, name, state, mode, profile, overrides or {}))
    return found


def load_dossiers(conn: Connection, subjects: Sequence[Subject], now: datetime, lookback: timedelta) -> Dossier:
    """The facts of the subjects' debtors at `now` (history as far back as `lookback`)."""
    if not subjects:
        return Dossier({}, {}, {}, {}, {}, {})
    debtors = sorted({s.debtor_id for s in subjects})
    history: dict[int, list[PastAttempt]] = defaultdict(list)
    for r in conn.execute(_for(conn).history, {"debtor_ids": debtors, "since": now - lookback}):
        history[r[0]].append(PastAttempt(
            attempt_id=r.id, contact_id=r.contact_id, e164=r.e164, account_id=r.account_id,
            campaign_id=r.campaign_id, placed_at=r.placed_at, outcome=r.outcome, conversation=r.conversation,
            abandoned=r.abandoned, live_agent_guaranteed=r.live_agent_guaranteed, consented=r.consented,
            owner=r.owner, ended_at=r.ended_at, time_zones=tuple(r.time_zones or ())))
    lifetime: dict[int, int] = {}
    in_campaign: dict[tuple[int, int], int] = {}
    dnc: dict[int, list[int | None]] = defaultdict(list)
    for kind, key, campaign_id, n in conn.execute(_for(conn).counts, {
            "contact_ids": sorted({s.contact_id for s in subjects}),
            "account_ids": sorted({s.account_id for s in subjects}), "now": now}):
        if kind == _LIFETIME:
            lifetime[key] = n
        elif kind == _IN_CAMPAIGN:
            in_campaign[(key, campaign_id)] = n
        else:
            dnc[key].append(campaign_id)
    own: dict[int, list[tuple[bool, datetime | None]]] = defaultdict(list)
    for debtor_id, valid, since in conn.execute(_for(conn).own_numbers, {"debtor_ids": debtors}):
        own[debtor_id].append((valid, since))
    consents: dict[int, list[Row[Any]]] = defaultdict(list)
    for record in conn.execute(_for(conn).consents, {"debtor_ids": debtors}):
        consents[record.debtor_id].append(record)
    return Dossier(history, lifetime, in_campaign, dnc, own, consents)


def history_for(dossier: Dossier, debtor_id: int, since: datetime) -> tuple[PastAttempt, ...]:
    """The debtor's attempts placed since `since` or still in flight (the per-profile look-back)."""
    return tuple(a for a in dossier.history.get(debtor_id, ()) if a.placed_at >= since or a.outcome is None)


def on_dnc(dossier: Dossier, contact_id: int, campaign_id: int) -> bool:
    """The contact's number is listed globally or by this campaign (expired entries were not loaded)."""
    return any(c is None or c == campaign_id for c in dossier.dnc.get(contact_id, ()))


ConsentFacts = tuple[tuple[WindowAgreement, ...], tuple[tuple[time, time], ...], datetime | None, datetime | None]


def consents_for(dossier: Dossier, debtor_id: int, contact_id: int, now: datetime) -> ConsentFacts:
    """Consent records in force now for this number; a revocation cancels every consent before it.

    Records about the debtor in general (no contact) and about this number count."""
    records = [r for r in dossier.consents.get(debtor_id, ()) if r.contact_id is None or r.contact_id == contact_id]
    revoked_at = max((r.valid_from for r in records if r.kind is ConsentKind.REVOKED), default=None)
    live = [r for r in records if r.kind is not ConsentKind.REVOKED
            and (revoked_at is None or r.valid_from > revoked_at)]
    agreements = tuple(
        WindowAgreement(_clock_time(r.window_start), _clock_time(r.window_end), r.valid_from, r.valid_until)
        for r in live if r.kind is ConsentKind.WIDEN_WINDOW and r.window_start and r.window_end)
    # Consumer-named inconvenient times are hard blocks even after a revocation of consents.
    inconvenient = tuple(
        (_clock_time(r.window_start), _clock_time(r.window_end)) for r in records
        if r.kind is ConsentKind.INCONVENIENT_TIME and r.window_start and r.window_end
        and (r.valid_until is None or r.valid_until > now))
    direct = [r for r in live if r.kind is ConsentKind.DIRECT_CALL and r.valid_from <= now]
    latest = max(direct, key=lambda r: r.valid_from, default=None)
    return agreements, inconvenient, latest.valid_from if latest else None, latest.valid_until if latest else None


def _clock_time(text: str) -> time:
    return time.fromisoformat(text)


def record_attempt(dossier: Dossier, subject: Subject, attempt: PastAttempt) -> None:
    """Make an attempt allowed earlier in the same batch visible to the batch's later decisions,
    exactly as a re-read inside the transaction would show it."""
    dossier.history.setdefault(subject.debtor_id, []).append(attempt)
    dossier.lifetime_on_contact[subject.contact_id] = dossier.lifetime_on_contact.get(subject.contact_id, 0) + 1
    key = (subject.account_id, subject.campaign.id)
    dossier.in_campaign_on_account[key] = dossier.in_campaign_on_account.get(key, 0) + 1

