"""Disk full while recording (issue 8): the recordings directory of the test Asterisk is a tiny
tmpfs, filled up before the campaign. Calls still complete with their real outcomes, the daemon
keeps dialling to the end, and every lost recording is visible: an audit entry per attempt, the
`dialer_recording_failures_total` metric, the daemon's status file."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.db.models import Attempt, AuditEntry
from dialer.domain import Outcome
from tests.daemon.campaign_setup import make_far_end_campaign, zone_at_local_hour
from tests.faults.campaign import assert_campaign_intact, build_daemon
from tests.fixtures.asterisk import AsteriskInstance

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]


@pytest.fixture
def full_recordings_dir(asterisk: AsteriskInstance) -> Iterator[Path]:
    """A 256 KiB tmpfs over the instance's recordings directory, with not a byte left."""
    directory = asterisk.recording_dir
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0777", "dialer-faults-full", str(directory)],
                   check=True, capture_output=True)
    try:
        subprocess.run(["dd", "if=/dev/zero", f"of={directory / 'filler'}", "bs=4k"], capture_output=True)
        assert subprocess.run(["df", "--output=avail", str(directory)], capture_output=True, text=True,
                              check=True).stdout.split()[-1] == "0"
        yield directory
    finally:
        subprocess.run(["umount", str(directory)], check=False, capture_output=True)
        subprocess.run(["umount", "-l", str(directory)], check=False, capture_output=True)


async def test_given_a_full_recordings_disk_then_calls_complete_the_campaign_goes_on_and_every_lost_recording_is_reported(
        asterisk: AsteriskInstance, full_recordings_dir: Path, sqlite_sessions: sessionmaker[Session],
        tmp_path: Path) -> None:
    sessions = sqlite_sessions
    campaign_id, numbers = make_far_end_campaign(sessions, accounts=20, zone=zone_at_local_hour(range(9, 20)),
                                                 name="disk-full")
    daemon = build_daemon(sessions, asterisk.ari, tmp_path, recordings_dir=full_recordings_dir)
    summary = await daemon.run()
    assert summary.placed == len(numbers)
    assert_campaign_intact(sessions, campaign_id, numbers)
    with sessions() as session:
        attempts = {a.id: a for a in session.scalars(select(Attempt))}
        failed = {e.attempt_id: e for e in session.scalars(select(AuditEntry).where(
            AuditEntry.kind == "recording_failed"))}
    answered = {i for i, a in attempts.items() if a.answered_at is not None}
    # Answered calls went on as usual (no bot here: the safe-harbour message, or a machine).
    assert answered and all(attempts[i].outcome in (Outcome.ABANDONED, Outcome.MACHINE) for i in answered)
    # ... and not one of their recordings made it to the disk: each one is reported, with its path.
    assert set(failed) == answered
    assert all(e.reason in ("missing", "truncated") and e.detail["expected_bytes"] > e.detail["bytes"]
               for e in failed.values())
    registry = daemon._metrics.registry
    reported = sum(registry.get_sample_value("dialer_recording_failures_total", {"reason": r}) or 0
                   for r in ("missing", "truncated"))
    assert reported == len(answered)
    status = json.loads((tmp_path / "faults-status.json").read_text())
    assert status["recordings"]["failures"] == len(answered)
