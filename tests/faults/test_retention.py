"""Retention (issue 8, security): recordings and personal data of closed accounts go once the
profile's period has passed; the anonymised rows the compliance report re-checks stay; every run
that changes something is audited. On SQLite and on the real PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from dialer.compliance.book import ProfileBook
from dialer.compliance.profiles import load_profiles
from dialer.db.models import (Account, Attempt, AuditEntry, Campaign, Conversation, Debtor, DncEntry, PhoneContact,
                              SmsMessage)
from dialer.db.session import transaction
from dialer.domain import AttemptState, Outcome
from dialer.reports.compliance import compliance_report
from dialer.retention import ERASED, run_retention
from dialer.scheduling import jobs
from dialer.scheduling.options import SchedulingOptions
from dialer.scheduling.scheduler import job_specs
from tests.gate.helpers import make_campaign, make_debtor

PROFILES = load_profiles()
BOOK = ProfileBook(PROFILES)
CN_DAYS = PROFILES["cn"].retention.records_days          # 1095: cn keeps records three years
PAID = datetime(2026, 1, 15, 12, tzinfo=timezone.utc)
_numbers = itertools.count(100)


def _debtor(sessions: sessionmaker[Session], campaign_id: int, ref: str, *, status: str, paid_at: datetime | None,
            recording_dir: Path, call_at: datetime) -> int:
    """A debtor with one account, one answered call with a recording file, a transcript and a text."""
    account_id, (contact_id,), _ = make_debtor(sessions, campaign_id, ref=ref, zones=["Asia/Shanghai"],
                                               numbers=[f"+8613800{next(_numbers):06d}"])
    recording = f"dialer-{campaign_id}-{ref}.wav"
    (recording_dir / recording).write_bytes(b"RIFF....WAVE")
    with transaction(sessions) as session:
        account = session.get_one(Account, account_id)
        account.status, account.paid_at = status, paid_at
        contact = session.get_one(PhoneContact, contact_id)
        contact.name = "Wang Fang"
        attempt = Attempt(campaign_id=campaign_id, account_id=account_id, debtor_id=account.debtor_id,
                          contact_id=contact_id, e164=contact.e164, state=AttemptState.ENDED, outcome=Outcome.HUMAN,
                          placed_at=call_at, answered_at=call_at + timedelta(seconds=8),
                          ended_at=call_at + timedelta(seconds=70), ring_timeout_s=20, recording_path=recording,
                          conversation=True)
        session.add(attempt)
        session.flush()
        session.add(Conversation(attempt_id=attempt.id, disposition="promise", intents=["promise_to_pay"],
                                 transcript=[{"who": "caller", "text": "I am Wang Fang, I will pay", "at": 3}]))
        session.add(SmsMessage(account_id=account_id, contact_id=contact_id, campaign_id=campaign_id,
                               e164=contact.e164, trigger="promise", template="promise", language="zh-CN",
                               body="Wang Fang: 200 CNY due 2026-01-20"))
        session.add(DncEntry(e164=contact.e164, reason="asked not to be called"))
        return account.debtor_id


def _world(sessions: sessionmaker[Session], recording_dir: Path) -> dict[str, int]:
    campaign_id = make_campaign(sessions)
    early = PAID - timedelta(days=5)
    return {
        "closed_long_ago": _debtor(sessions, campaign_id, "old", status="paid", paid_at=PAID,
                                   recording_dir=recording_dir, call_at=early),
        "closed_recently": _debtor(sessions, campaign_id, "new", status="paid", paid_at=PAID + timedelta(days=400),
                                   recording_dir=recording_dir, call_at=early),
        "still_open": _debtor(sessions, campaign_id, "open", status="open", paid_at=None,
                              recording_dir=recording_dir, call_at=early),
    }


def _run(sessions: sessionmaker[Session], recording_dir: Path, *, now: datetime, dry_run: bool = False):  # type: ignore[no-untyped-def]
    return run_retention(sessions, now=now, profile_for=BOOK.for_campaign, default_profile=PROFILES["cn"],
                         recordings_dir=recording_dir, actor="cli:tester", dry_run=dry_run)


def test_given_a_debtor_closed_longer_than_the_profile_keeps_records_when_retention_runs_then_their_personal_data_and_recordings_go_and_the_anonymised_history_stays(
        sessions: sessionmaker[Session], tmp_path: Path) -> None:
    ids = _world(sessions, tmp_path)
    now = PAID + timedelta(days=CN_DAYS + 1)

    preview = _run(sessions, tmp_path, now=now, dry_run=True)
    assert (preview.debtors_due_records, preview.debtors_erased, preview.recordings_deleted) == (1, 1, 1)
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == ["dialer-1-new.wav", "dialer-1-old.wav",
                                                              "dialer-1-open.wav"]   # a dry run deletes nothing
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.kind == "retention")) == 0

    report = _run(sessions, tmp_path, now=now)
    assert (report.debtors_erased, report.recordings_deleted, report.attempts_erased, report.texts_erased) == (1, 1, 1, 1)
    assert not (tmp_path / "dialer-1-old.wav").exists()
    assert (tmp_path / "dialer-1-new.wav").exists() and (tmp_path / "dialer-1-open.wav").exists()
    with sessions() as session:
        old = session.get_one(Debtor, ids["closed_long_ago"])
        assert (old.full_name, old.birth_year, old.id_last4) == (ERASED, None, None)
        assert all(c.e164.startswith("erased-") and c.name is None for c in old.contacts)
        attempt = session.scalars(select(Attempt).where(Attempt.debtor_id == old.id)).one()
        # The history the caps and abandonment re-check need is still there, without the person.
        assert (attempt.e164, attempt.recording_path, attempt.outcome) == ("erased", None, Outcome.HUMAN)
        conversation = session.scalars(select(Conversation).where(Conversation.attempt_id == attempt.id)).one()
        assert conversation.transcript == [] and conversation.disposition == "promise"
        text = session.scalars(select(SmsMessage).where(SmsMessage.account_id == attempt.account_id)).one()
        assert (text.e164, text.body) == ("erased", "")
        # A person who opted out stays out.
        assert session.scalar(select(func.count()).select_from(DncEntry)) == 3
        for key in ("closed_recently", "still_open"):
            kept = session.get_one(Debtor, ids[key])
            assert kept.full_name != ERASED and all(c.e164.startswith("+86") for c in kept.contacts)
        audit = session.scalars(select(AuditEntry).where(AuditEntry.kind == "retention")).one()
        assert audit.actor == "cli:tester" and audit.detail["debtor_ids_records"] == [ids["closed_long_ago"]]
        campaign = session.scalars(select(Campaign)).one()
        report_after = compliance_report(session, campaign, BOOK.for_campaign(campaign), now=now)
    assert report_after["attempts"] == 3 and report_after["violations"] == []

    again = _run(sessions, tmp_path, now=now)       # idempotent: nothing left to do, nothing audited
    assert (again.debtors_erased, again.recordings_deleted) == (0, 0)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.kind == "retention")) == 1


def test_given_a_recording_path_outside_the_recordings_directory_then_retention_refuses_to_delete_it(
        sessions: sessionmaker[Session], tmp_path: Path) -> None:
    recordings = tmp_path / "monitor"
    recordings.mkdir()
    ids = _world(sessions, recordings)
    outside = tmp_path / "precious.txt"
    outside.write_text("not a recording")
    with transaction(sessions) as session:
        attempt = session.scalars(select(Attempt).where(Attempt.debtor_id == ids["closed_long_ago"])).one()
        attempt.recording_path = "../precious.txt"
    report = _run(sessions, recordings, now=PAID + timedelta(days=CN_DAYS + 1))
    assert report.recordings_refused == ["../precious.txt"] and outside.exists()


def test_given_the_cli_then_retention_dry_run_and_run_report_their_counts(
        db_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    # Relative to today: the CLI reads the real clock.
    today = datetime.now(timezone.utc)
    campaign_id = make_campaign(sessions)
    _debtor(sessions, campaign_id, "cli", status="closed", paid_at=today - timedelta(days=CN_DAYS + 3),
            recording_dir=tmp_path, call_at=today - timedelta(days=CN_DAYS + 10))
    runner = CliRunner()
    base = ["--db-url", db_url, "retention", "run", "--recordings-dir", str(tmp_path), "--json"]
    dry = runner.invoke(main, [*base, "--dry-run"], catch_exceptions=False)
    assert dry.exit_code == 0, dry.output
    assert '"debtors_erased": 1' in dry.output and '"dry_run": true' in dry.output
    real = runner.invoke(main, [*base, "--actor", "dpo"], catch_exceptions=False)
    assert real.exit_code == 0, real.output
    assert '"recordings_deleted": 1' in real.output
    with sessions() as session:
        assert session.scalars(select(AuditEntry.actor).where(AuditEntry.kind == "retention")).one() == "cli:dpo"


def test_given_the_daemon_scheduler_then_retention_runs_daily_and_erases_what_is_due(
        db_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    options = SchedulingOptions(zone="Asia/Shanghai", data_dir=str(tmp_path), profile_file="", default_profile="cn",
                                sms_gateway="file", sms_webhook_url="", recordings_dir=str(tmp_path))
    spec = next(s for s in job_specs(db_url, options) if s.id == "retention.daily")
    assert spec.func is jobs.retention_daily and str(spec.trigger.fields[5]) == "2"   # 02:15 daily
    today = datetime.now(timezone.utc)
    campaign_id = make_campaign(sessions)
    debtor_id = _debtor(sessions, campaign_id, "job", status="paid", paid_at=today - timedelta(days=CN_DAYS + 1),
                        recording_dir=tmp_path, call_at=today - timedelta(days=CN_DAYS + 2))
    spec.func(**spec.kwargs)
    with sessions() as session:
        assert session.get_one(Debtor, debtor_id).full_name == ERASED
        assert session.scalars(select(AuditEntry.actor).where(AuditEntry.kind == "retention")).one() == "scheduler"
    assert list(tmp_path.glob("*.wav")) == []
