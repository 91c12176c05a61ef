"""Did the call's recording reach the disk? Checked a few seconds after each answered call ends.

MixMonitor fails quietly: on a full disk (or an unwritable directory) Asterisk logs a warning,
the call goes on unrecorded or cut short, and nothing in the call's events says so. A collector
must keep recordings (profiles' `retention.recordings_days`), so a missing or truncated one is a
compliance problem to see the same day: each is written to the audit log (`recording_failed`, with
the attempt), counted in the `dialer_recording_failures_total` metric, and logged as an error.
The call itself keeps its real outcome.

Asterisk writes 8 kHz 16-bit WAV (16,000 bytes a second after a 44-byte header); a file holding
less than half of what the call's answered time should have produced counts as truncated (the
tail is still buffered for a moment after hang-up, hence the margin and the settling delay).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.db.models import Attempt, AuditEntry
from dialer.db.session import transaction

log = logging.getLogger(__name__)

WAV_BYTES_PER_SECOND = 16_000
WAV_HEADER = 44


@dataclass(frozen=True)
class RecordingProblem:
    attempt_id: int
    path: Path
    reason: str            # missing | truncated
    size: int
    expected: int


class RecordingAudit:
    def __init__(self, *, sessions: sessionmaker[Session], directory: Path | None, node: str,
                 registry: CollectorRegistry | None = None, settle_s: float = 2.0, min_ratio: float = 0.5) -> None:
        self._sessions = sessions
        self._directory = directory if directory is not None and directory.is_dir() else None
        if directory is not None and self._directory is None:
            log.warning("recordings directory %s not found on this host: recordings are not checked", directory)
        self._node = node
        self._settle = settle_s
        self._min_ratio = min_ratio
        self._pending: deque[tuple[float, int]] = deque()
        self.failures = 0
        self._counter = Counter("dialer_recording_failures", "Answered calls whose recording is missing or "
                                "truncated on disk (disk full, unwritable directory).", ["reason"],
                                registry=registry) if registry is not None else None

    def call_ended(self, attempt_id: int) -> None:
        if self._directory is not None:
            self._pending.append((time.monotonic() + self._settle, attempt_id))

    def waiting(self) -> int:
        return len(self._pending)

    def check_due(self) -> list[RecordingProblem]:
        """Check the calls that ended at least `settle_s` ago (database errors propagate; the
        check is retried at the next tick)."""
        problems: list[RecordingProblem] = []
        now = time.monotonic()
        while self._pending and self._pending[0][0] <= now:
            attempt_id = self._pending[0][1]
            problem = self._check(attempt_id)
            self._pending.popleft()
            if problem is not None:
                problems.append(problem)
        return problems

    def _check(self, attempt_id: int) -> RecordingProblem | None:
        assert self._directory is not None
        with transaction(self._sessions) as session:
            row = session.execute(select(Attempt.campaign_id, Attempt.recording_path, Attempt.answered_at,
                                         Attempt.ended_at).where(Attempt.id == attempt_id)).one_or_none()
            if row is None or not row.recording_path or row.answered_at is None or row.ended_at is None:
                return None     # not answered: nothing was to be recorded
            path = self._directory / row.recording_path
            expected = WAV_HEADER + int((row.ended_at - row.answered_at).total_seconds() * WAV_BYTES_PER_SECOND)
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                size, reason = 0, "missing"
            else:
                if size >= WAV_HEADER + (expected - WAV_HEADER) * self._min_ratio:
                    return None
                reason = "truncated"
            problem = RecordingProblem(attempt_id, path, reason, size, expected)
            session.add(AuditEntry(actor=f"daemon@{self._node}", kind="recording_failed", campaign_id=row.campaign_id,
                                   attempt_id=attempt_id, reason=reason,
                                   detail={"path": str(path), "bytes": size, "expected_bytes": expected}))
        self.failures += 1
        if self._counter is not None:
            self._counter.labels(reason=reason).inc()
        log.error("recording of attempt %s %s: %s has %d of ~%d bytes (disk full or unwritable?)",
                  attempt_id, reason, path, size, expected)
        return problem
