"""Exports of personal data or figures derived from it: owner-only files and an audit of who
exported what (UK GDPR art. 5(2) accountability; Reg F 1006.100 records; PIPL art. 51 access
control). Every path that hands data out of the dialer goes through here: `dialer report` /
`dialer compliance report` (stdout or a file), import rejects files, the nightly report files.

Who is the OS user running the command (`cli:<user>`), or `--actor NAME` when a wrapper runs the
CLI on someone's behalf; what is the kind of export; rows is how many records it covers (attempts
for reports, rejected rows for a rejects file); where is the file path or "stdout".
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from dialer.db.models import AuditEntry
from dialer.reports.files import write_private

KIND = "export"


def export_actor(actor: str | None = None) -> str:
    """`cli:<OS user>` unless an explicit actor is given (an operator's name from a wrapper)."""
    if actor:
        return actor if ":" in actor else f"cli:{actor}"
    try:
        user = getpass.getuser()
    except (KeyError, OSError):   # no passwd entry (containers run with a bare uid)
        user = f"uid{os.getuid()}"
    return f"cli:{user}"


def audit_export(session: Session, *, actor: str, what: str, rows: int, where: str | Path,
                 campaign_id: int | None = None, at: datetime | None = None,
                 extra: dict[str, object] | None = None) -> AuditEntry:
    entry = AuditEntry(actor=actor[:80], kind=KIND, campaign_id=campaign_id, reason=what[:60],
                       detail={"what": what, "rows": rows, "where": str(where), **(extra or {})})
    if at is not None:
        entry.at = at
    session.add(entry)
    return entry


def write_export(path: Path, text: str) -> Path:
    """The file, mode 0600 from its creation (see dialer.reports.files)."""
    return write_private(path, text)


def open_private(path: Path, *, newline: str | None = None):  # type: ignore[no-untyped-def]
    """A text file opened for writing, created 0600 (for writers that stream, e.g. csv.writer)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)   # an existing file keeps its old mode through O_CREAT
    return os.fdopen(descriptor, "w", encoding="utf-8", newline=newline)
