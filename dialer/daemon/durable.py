"""Attempt writes that outlive a database outage (PostgreSQL restarted, failover, network blip).

Asterisk keeps sending events while the database is away: a call that ends then must still end
in its own outcome (busy, no answer, ...) once the database is back, not be lost or closed as
"failed" by a later reconciliation. `DurableJournal` wraps the daemon's `CallJournal`: every write
is attempted at once; if the database is unreachable it waits, in order, with the writes that
follow it, and `flush()` (each tick) replays them when the database answers again. Each write is
one transaction, so a replayed write never applies twice.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from dialer.domain import AttemptState
from dialer.telephony.tracker import CallEnd, CallJournal

log = logging.getLogger(__name__)


def database_unreachable(exc: BaseException) -> bool:
    """True for errors that mean "try again later" (server gone, connection dropped), not bugs."""
    return isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


class DurableJournal:
    def __init__(self, inner: CallJournal) -> None:
        self._inner = inner
        self._waiting: deque[tuple[str, Callable[[], None]]] = deque()
        self.failures = 0          # writes that found the database away (status, metrics)

    # ---- CallJournal ----------------------------------------------------------------------------

    def originating(self, attempt_id: int, at: datetime, channel_id: str) -> None:
        self.write(f"attempt {attempt_id} originating",
                   lambda: self._inner.originating(attempt_id, at, channel_id))

    def advanced(self, attempt_id: int, state: AttemptState, at: datetime, fields: dict[str, object]) -> None:
        self.write(f"attempt {attempt_id} {state.value}", lambda: self._inner.advanced(attempt_id, state, at, fields))

    def closed(self, end: CallEnd) -> None:
        self.write(f"attempt {end.call.attempt_id} closed {end.outcome.value}", lambda: self._inner.closed(end))

    # ---- the queue ------------------------------------------------------------------------------

    def write(self, what: str, apply: Callable[[], None]) -> None:
        """Apply now, or after the writes still waiting for the database (order is kept: a call's
        close must not land before its answer)."""
        self._waiting.append((what, apply))
        self.flush()

    def flush(self) -> bool:
        """Replay waiting writes in order; False if the database is still unreachable."""
        while self._waiting:
            what, apply = self._waiting[0]
            try:
                apply()
            except Exception as exc:
                if not database_unreachable(exc):
                    self._waiting.popleft()   # a bug in one write must not block every later one
                    raise
                self.failures += 1
                if self.failures == 1 or self.failures % 50 == 0:
                    log.warning("database unreachable, %d attempt write(s) waiting (first: %s): %s",
                                len(self._waiting), what, exc.__class__.__name__)
                return False
            self._waiting.popleft()
        return True

    def waiting(self) -> int:
        return len(self._waiting)
