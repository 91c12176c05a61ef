"""Retention: recordings and personal data of closed accounts are deleted once the policy
profile's retention period has passed; the anonymised rows the compliance report needs stay.

Profiles say how long (`retention.recordings_days`, `retention.records_days`; cn: 1095 days, CBRC
2011 credit-card rules art. 68; us: Reg F 1006.100 three years; uk: FCA SYSC 9 / UK GDPR art. 5(1)(e)
storage limitation). The clock starts when the debtor's last account closed (paid or closed) or at
the last call, whichever is later, and a debtor whose accounts span campaigns under different
profiles is kept for the longest period.

What goes and what stays, for a debtor past the period:

- recordings (after `recordings_days`): the file is deleted from the recordings directory and
  `attempts.recording_path` cleared;
- personal data (after `records_days`): name, birth year and ID digits on the debtor; numbers and
  names on phone contacts (replaced by `erased-<id>`, unique per debtor as the schema requires);
  the number on each attempt and text; transcripts and call-back times of conversations; text bodies;
- kept: attempt rows (times, outcome, cause, route: the caps and abandonment history the compliance
  report re-checks), conversations' disposition and intents, promises and payments (amounts, dates),
  the audit log (append-only by trigger), and the DNC list: a person who asked not to be called is
  kept from being called again, which is its own legal basis (TCPA 47 CFR 64.1200(d); PECR reg 21).

Every run that changes something writes one `retention` audit entry with the counts and the debtor
ids (internal ids, not personal data). `dry_run` counts without changing anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Update, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from dialer.compliance.profiles import PolicyProfile
from dialer.db.models import Account, Attempt, AuditEntry, Campaign, Conversation, Debtor, PhoneContact, SmsMessage
from dialer.db.session import transaction

log = logging.getLogger(__name__)

ERASED = "[erased]"
ERASED_NUMBER = "erased"
CLOSED_STATUSES = ("paid", "closed")


@dataclass
class RetentionReport:
    dry_run: bool
    now: datetime
    debtors_due_recordings: int = 0
    debtors_due_records: int = 0
    recordings_deleted: int = 0
    recordings_missing: int = 0       # path recorded, file already gone (or never written)
    recordings_refused: list[str] = field(default_factory=list)   # paths outside the directory
    debtors_erased: int = 0
    contacts_erased: int = 0
    attempts_erased: int = 0
    conversations_erased: int = 0
    texts_erased: int = 0

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["now"] = self.now.isoformat()
        return data


@dataclass(frozen=True)
class _DebtorClock:
    debtor_id: int
    since: datetime          # retention runs from here (last closure or last call)
    recordings_days: int
    records_days: int


def run_retention(sessions: sessionmaker[Session], *, now: datetime,
                  profile_for: Callable[[Campaign], PolicyProfile], default_profile: PolicyProfile,
                  recordings_dir: Path, actor: str, dry_run: bool = False) -> RetentionReport:
    """Apply retention as of `now`: the database in one transaction (all or nothing), then the
    recording files, only once that transaction committed (a failed commit leaves every recording
    and the row that points to it in place)."""
    report = RetentionReport(dry_run=dry_run, now=now)
    with transaction(sessions) as session:
        files = _apply(session, report, now=now, profile_for=profile_for, default_profile=default_profile,
                       recordings_dir=recordings_dir, actor=actor)
    for path in files:
        try:
            path.unlink()
            report.recordings_deleted += 1
        except FileNotFoundError:
            report.recordings_missing += 1
    log.info("retention: %s", report.as_dict())
    return report


def _apply(session: Session, report: RetentionReport, *, now: datetime,
           profile_for: Callable[[Campaign], PolicyProfile], default_profile: PolicyProfile,
           recordings_dir: Path, actor: str) -> list[Path]:
    """The database part; returns the recording files to delete after the commit."""
    dry_run = report.dry_run
    recordings_ids: list[int] = []
    records_ids: list[int] = []
    for clock in _closed_debtors(session, profile_for, default_profile):
        if clock.since + timedelta(days=clock.recordings_days) <= now:
            recordings_ids.append(clock.debtor_id)
        if clock.since + timedelta(days=clock.records_days) <= now:
            records_ids.append(clock.debtor_id)
    report.debtors_due_recordings, report.debtors_due_records = len(recordings_ids), len(records_ids)
    files = _recordings(session, recordings_ids, recordings_dir, report)
    pending = list(session.scalars(select(Debtor.id).where(Debtor.id.in_(records_ids),
                                                           Debtor.full_name != ERASED))) if records_ids else []
    if dry_run:
        report.debtors_erased = len(pending)
        return []
    _erase_people(session, pending, report)
    if files or report.debtors_erased:
        session.add(AuditEntry(at=now, actor=actor, kind="retention", detail={
            **{k: v for k, v in report.as_dict().items()
               if k not in ("now", "dry_run", "recordings_deleted", "recordings_missing")},
            "recordings_cleared": len(files),
            "debtor_ids_recordings": recordings_ids[:1000], "debtor_ids_records": records_ids[:1000]}))
    return files


def _closed_debtors(session: Session, profile_for: Callable[[Campaign], PolicyProfile],
                    default_profile: PolicyProfile) -> list[_DebtorClock]:
    """Debtors whose every account is closed, with when their retention started and its lengths."""
    open_debtors = select(Account.debtor_id).where(Account.status.not_in(CLOSED_STATUSES))
    rows = session.execute(
        select(Account.debtor_id, Account.campaign_id, func.coalesce(Account.paid_at, Account.updated_at))
        .where(Account.status.in_(CLOSED_STATUSES), Account.debtor_id.not_in(open_debtors))).all()
    last_call = dict(session.execute(
        select(Attempt.debtor_id, func.max(func.coalesce(Attempt.ended_at, Attempt.placed_at)))
        .where(Attempt.debtor_id.in_({r[0] for r in rows})).group_by(Attempt.debtor_id)).all()) if rows else {}
    campaigns = {c.id: c for c in session.scalars(select(Campaign))}
    clocks: dict[int, _DebtorClock] = {}
    for debtor_id, campaign_id, closed_at in rows:
        campaign = campaigns.get(campaign_id) if campaign_id is not None else None
        profile = profile_for(campaign) if campaign is not None else default_profile
        since = max(closed_at, last_call.get(debtor_id) or closed_at)
        previous = clocks.get(debtor_id)
        if previous is not None:   # several closed accounts: the latest start and the longest period
            since = max(since, previous.since)
        clocks[debtor_id] = _DebtorClock(
            debtor_id, since,
            max(profile.retention.recordings_days, previous.recordings_days if previous else 0),
            max(profile.retention.records_days, previous.records_days if previous else 0))
    return sorted(clocks.values(), key=lambda c: c.debtor_id)


def _recordings(session: Session, debtor_ids: list[int], directory: Path, report: RetentionReport) -> list[Path]:
    """Clear the recording paths of these debtors' attempts; return the files to delete."""
    if not debtor_ids:
        return []
    root = directory.resolve()
    rows = session.execute(select(Attempt.id, Attempt.recording_path).where(
        Attempt.debtor_id.in_(debtor_ids), Attempt.recording_path.is_not(None))).all()
    files: list[Path] = []
    cleared: list[int] = []
    for attempt_id, name in rows:
        name = str(name)
        path = (root / name).resolve()
        # The path came from a channel variable: never follow it outside the recordings directory.
        if not path.is_relative_to(root):
            report.recordings_refused.append(name)
            continue
        files.append(path)
        cleared.append(attempt_id)
    if report.dry_run:
        report.recordings_deleted = sum(1 for f in files if f.exists())
        report.recordings_missing = len(files) - report.recordings_deleted
        return []
    _updated(session, update(Attempt).where(Attempt.id.in_(cleared)).values(recording_path=None))
    return files


def _updated(session: Session, statement: Update) -> int:
    """Rows an UPDATE changed (a DML statement's result is a CursorResult)."""
    result = cast(CursorResult[Any], session.execute(statement.execution_options(synchronize_session=False)))
    return int(result.rowcount)


def _erase_people(session: Session, pending: list[int], report: RetentionReport) -> None:
    if not pending:
        return
    report.debtors_erased = _updated(session, update(Debtor).where(Debtor.id.in_(pending))
                                     .values(full_name=ERASED, birth_year=None, id_last4=None))
    contacts = list(session.scalars(select(PhoneContact.id).where(PhoneContact.debtor_id.in_(pending))))
    for contact_id in contacts:
        # (debtor_id, e164) is unique: each erased number stays distinct.
        _updated(session, update(PhoneContact).where(PhoneContact.id == contact_id)
                 .values(e164=f"{ERASED_NUMBER}-{contact_id}", name=None, relation=None))
    report.contacts_erased = len(contacts)
    attempt_ids = select(Attempt.id).where(Attempt.debtor_id.in_(pending))
    report.conversations_erased = _updated(session, update(Conversation).where(
        Conversation.attempt_id.in_(attempt_ids)).values(transcript=[], callback_at=None))
    report.attempts_erased = _updated(session, update(Attempt).where(Attempt.debtor_id.in_(pending))
                                      .values(e164=ERASED_NUMBER))
    accounts = select(Account.id).where(Account.debtor_id.in_(pending))
    report.texts_erased = _updated(session, update(SmsMessage).where(
        SmsMessage.account_id.in_(accounts) | SmsMessage.contact_id.in_(contacts)).values(e164=ERASED_NUMBER, body=""))
