"""Far ends that misbehave (issue 8): one that never answers, one that never replies, and ones that
reply with garbage (junk bytes, an SDP that is not SDP, no common codec, a status code outside the
grammar). The real Asterisk dials them through the PJSIP trunk; a raw UDP carrier injects the
faults. Each attempt is closed with an unanswered outcome, the ring timeout is respected, and the
daemon finishes the campaign."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.db.models import Attempt
from dialer.domain import Outcome
from tests.daemon.campaign_setup import add_running_campaign, zone_at_local_hour
from tests.faults.bad_carrier import BEHAVIOURS, start_bad_carrier
from tests.faults.campaign import assert_campaign_intact, build_daemon
from tests.fixtures.asterisk import AsteriskInstance
from tests.gate.helpers import make_debtor

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]
RING_S = 15           # the campaign's ring timeout: the profile's floor
UNANSWERED = {Outcome.NO_ANSWER, Outcome.FAILED, Outcome.CONGESTION, Outcome.REJECTED}


def _campaign(sessions: sessionmaker[Session], zone: str) -> tuple[int, dict[str, str]]:
    campaign_id = add_running_campaign(sessions, name="bad-far-ends", ring_s=RING_S)
    numbers = {}
    for copy in range(2):
        for digit, behaviour in BEHAVIOURS.items():
            e164 = f"+861380000{copy}0{digit}"
            make_debtor(sessions, campaign_id, ref=f"bad-{copy}-{digit}", zones=[zone], numbers=[e164])
            numbers[e164] = behaviour
    return campaign_id, numbers


def _seconds(start: datetime, end: datetime | None) -> float:
    assert end is not None
    return (end - start).total_seconds()


async def test_given_far_ends_that_never_answer_or_answer_garbage_then_every_attempt_closes_unanswered_and_the_campaign_finishes(
        asterisk: AsteriskInstance, sqlite_sessions: sessionmaker[Session], tmp_path: Path) -> None:
    sessions = sqlite_sessions
    campaign_id, numbers = _campaign(sessions, zone_at_local_hour(range(9, 20)))
    port = asterisk.carrier_port + 5
    transport, carrier = await start_bad_carrier(port)
    try:
        daemon = build_daemon(sessions, asterisk.ari, tmp_path,
                              dial=f"PJSIP/carrier-trunk/sip:{{number}}@127.0.0.1:{port}")
        summary = await asyncio.wait_for(daemon.run(), timeout=180)
    finally:
        transport.close()
    assert summary.placed == len(numbers)
    assert_campaign_intact(sessions, campaign_id, numbers)
    with sessions() as session:
        rows = session.execute(select(Attempt.e164, Attempt.outcome, Attempt.placed_at, Attempt.ended_at,
                                      Attempt.hangup_cause, Attempt.ring_timeout_s)).all()
    by_behaviour: dict[str, list] = {}
    for row in rows:
        by_behaviour.setdefault(numbers[row.e164], []).append(row)
    assert set(carrier.invites) == set(BEHAVIOURS.values())     # every misbehaviour was really played
    report = {b: [(r.outcome.value, r.hangup_cause, round(_seconds(r.placed_at, r.ended_at), 1)) for r in rs]
              for b, rs in by_behaviour.items()}
    # A far end that rings forever, says nothing, or says nothing SIP can parse: to Asterisk it
    # is a phone that was not picked up. Dial() gives up at the ring timeout (cause 19), never
    # sooner (the floor lets a person reach the phone) and never much later.
    for behaviour in ("ring_forever", "silent", "garbage", "bogus_status"):
        for row in by_behaviour[behaviour]:
            assert (row.outcome, row.hangup_cause, row.ring_timeout_s) == (Outcome.NO_ANSWER, 19, RING_S), report
            assert RING_S - 0.5 <= _seconds(row.placed_at, row.ended_at) <= RING_S + 6, report
    # An answer Asterisk cannot use (unparseable SDP, no codec in common): refused at once with
    # cause 58 (bearer capability not available); never taken for a live answer, never abandoned.
    for behaviour in ("bad_sdp", "no_common_codec"):
        for row in by_behaviour[behaviour]:
            assert (row.outcome, row.hangup_cause) == (Outcome.FAILED, 58), report
            assert _seconds(row.placed_at, row.ended_at) < RING_S, report
    assert all(row.outcome in UNANSWERED for row in rows)
