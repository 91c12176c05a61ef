"""The pieces behind the database-outage and disk-full behaviour, without Asterisk: attempt writes
that wait for the database in order, and the recording check's verdicts on real files."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dialer.daemon.durable import DurableJournal
from dialer.daemon.recordings import WAV_BYTES_PER_SECOND, RecordingAudit
from dialer.db.models import Attempt, AuditEntry
from dialer.db.session import transaction
from dialer.domain import AttemptState, Outcome
from tests.gate.helpers import make_campaign, make_debtor

T0 = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)


class FlakyDatabase:
    """A CallJournal whose writes fail while `down` (as psycopg does when PostgreSQL restarts)."""

    def __init__(self) -> None:
        self.down = False
        self.written: list[str] = []

    def _write(self, what: str) -> None:
        if self.down:
            raise OperationalError("INSERT ...", {}, Exception("server closed the connection unexpectedly"))
        self.written.append(what)

    def originating(self, attempt_id, at, channel_id):  # type: ignore[no-untyped-def]
        self._write(f"{attempt_id}:originating")

    def advanced(self, attempt_id, state, at, fields):  # type: ignore[no-untyped-def]
        self._write(f"{attempt_id}:{state.value}")

    def closed(self, end):  # type: ignore[no-untyped-def]
        self._write(f"{end.call.attempt_id}:closed")


def test_given_the_database_away_when_calls_advance_then_their_writes_wait_and_land_in_order_when_it_is_back() -> None:
    database = FlakyDatabase()
    journal = DurableJournal(database)
    journal.originating(1, T0, "ch1")
    database.down = True
    journal.advanced(1, AttemptState.RINGING, T0, {})
    journal.advanced(2, AttemptState.RINGING, T0, {})
    journal.write("1 next call", lambda: database._write("1:scheduled"))
    assert (journal.waiting(), journal.failures) == (3, 3)
    assert journal.flush() is False and journal.waiting() == 3
    database.down = False
    assert journal.flush() is True
    assert database.written == ["1:originating", "1:ringing", "2:ringing", "1:scheduled"]
    assert journal.waiting() == 0


def test_given_a_write_that_fails_for_another_reason_then_it_raises_and_does_not_block_the_others() -> None:
    database = FlakyDatabase()
    journal = DurableJournal(database)

    def broken() -> None:
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        journal.write("broken", broken)
    journal.originating(3, T0, "ch3")
    assert database.written == ["3:originating"] and journal.waiting() == 0


def _answered_attempt(sessions: sessionmaker[Session], recording: str, talk_s: float) -> int:
    campaign_id = make_campaign(sessions)
    account_id, (contact_id,), _ = make_debtor(sessions, campaign_id, ref=recording, zones=["Asia/Shanghai"],
                                               numbers=["+8613800138000"])
    with transaction(sessions) as session:
        attempt = Attempt(campaign_id=campaign_id, account_id=account_id, debtor_id=1, contact_id=contact_id,
                          e164="+8613800138000", state=AttemptState.ENDED, outcome=Outcome.HUMAN, placed_at=T0,
                          answered_at=T0 + timedelta(seconds=5), ended_at=T0 + timedelta(seconds=5 + talk_s),
                          ring_timeout_s=20, recording_path=recording)
        session.add(attempt)
        session.flush()
        return attempt.id


@pytest.mark.parametrize("written_s, verdict", [(30, None), (20, None), (10, "truncated"), (None, "missing")])
def test_given_a_recording_on_disk_then_the_check_reports_only_missing_or_truncated_ones(
        sessions: sessionmaker[Session], tmp_path: Path, written_s: float | None, verdict: str | None) -> None:
    attempt_id = _answered_attempt(sessions, "dialer-1-1.wav", talk_s=30)
    if written_s is not None:
        (tmp_path / "dialer-1-1.wav").write_bytes(b"\0" * (44 + int(written_s * WAV_BYTES_PER_SECOND)))
    audit = RecordingAudit(sessions=sessions, directory=tmp_path, node="t", settle_s=0)
    audit.call_ended(attempt_id)
    time.sleep(0.01)
    problems = audit.check_due()
    assert [p.reason for p in problems] == ([verdict] if verdict else [])
    with sessions() as session:
        reasons = list(session.scalars(select(AuditEntry.reason).where(AuditEntry.kind == "recording_failed")))
    assert reasons == ([verdict] if verdict else []) and audit.waiting() == 0
