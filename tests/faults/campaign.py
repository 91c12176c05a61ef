"""What every fault test builds and checks: a daemon on the real Asterisk dialling the
`[demo-carrier]` far ends, and the invariants after the fault (issue 8): no lost attempt, no
double dial, no cap violation, and the campaign finished."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import SystemClock
from dialer.compliance.book import ProfileBook
from dialer.compliance.gate import CallGate
from dialer.compliance.permit import PermitAuthority
from dialer.compliance.profiles import load_profiles
from dialer.daemon.service import Daemon
from dialer.db.models import Attempt, Campaign
from dialer.domain import AttemptState
from dialer.reports.compliance import recheck
from dialer.telephony.ari import AriSettings, AriTelephony

DIAL = "Local/{number}@demo-carrier"


def build_daemon(sessions: sessionmaker[Session], ari: AriSettings, tmp_path: Path, *,
                 node: str = "faults", dial: str = DIAL, exit_when_idle_s: float = 3,
                 recordings_dir: Path | None = None) -> Daemon:
    clock, authority = SystemClock(), PermitAuthority()
    book = ProfileBook(load_profiles())
    gate = CallGate(sessions=sessions, profile_for=book.for_campaign, authority=authority, clock=clock, node=node)
    telephony = AriTelephony(settings=ari, authority=authority, clock=clock)
    return Daemon(sessions=sessions, gate=gate, telephony=telephony, clock=clock, node=node, dial_template=dial,
                  tick_seconds=0.25, grace_seconds=30, status_file=tmp_path / f"{node}-status.json",
                  exit_when_idle_s=exit_when_idle_s, recordings_dir=recordings_dir)


def assert_campaign_intact(sessions: sessionmaker[Session], campaign_id: int, numbers: dict[str, int]) -> list:
    """Every number dialled exactly once, every attempt closed with an outcome, no cap broken
    (checked by the compliance report's independent re-check). Returns the attempt rows."""
    with sessions() as session:
        rows = session.execute(select(Attempt.id, Attempt.e164, Attempt.state, Attempt.outcome,
                                      Attempt.hangup_cause_text, Attempt.recording_path)
                               .where(Attempt.campaign_id == campaign_id)).all()
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        violations = recheck(session, campaign, ProfileBook(load_profiles()).for_campaign(campaign))
    open_rows = [r for r in rows if r.state is not AttemptState.ENDED or r.outcome is None]
    assert open_rows == [], f"attempts left open: {open_rows}"
    assert sorted(r.e164 for r in rows) == sorted(numbers), "a number lost or dialled twice"
    assert violations == []
    return rows
