"""amd.conf on real audio: people's greetings, even talkative ones, are not taken for machines;
voicemail greetings are. (A person taken for a machine is hung up on: an abandoned call under
Ofcom, a lost right-party contact everywhere.) Greetings are espeak-ng recordings played by
[callee-sim] greet-* callees; see scripts/asterisk-harness install_sounds."""

import pytest

from dialer.telephony.interface import AmdResult, CallEventKind, RoutePlan
from tests.fixtures.asterisk import issue_permit, wait_until_ended

pytestmark = pytest.mark.asterisk

# promise-1: an eager person who answers with a whole sentence (NOTSURE is fine: routed as a person).
HUMAN = [f"greet-human-{i}" for i in range(1, 6)] + ["promise-1"]
MACHINE = [f"greet-machine-{i}" for i in range(1, 4)]


async def test_given_recorded_greetings_when_amd_listens_then_people_pass_and_machines_are_caught(
        ami_telephony, permit_authority):
    callee_of = {}
    async with ami_telephony.events() as events:
        for callee in HUMAN + MACHINE:
            permit = issue_permit(permit_authority)
            callee_of[permit.attempt_id] = callee
            await ami_telephony.originate(permit, route=RoutePlan.to_bot(),
                                          dial=f"Local/{callee}@callee-sim")
        seen = await wait_until_ended(events, set(callee_of), timeout_s=40)
    verdicts = {}
    for attempt_id, attempt_events in seen.items():
        amd = [e for e in attempt_events if e.kind is CallEventKind.AMD]
        assert len(amd) == 1, (callee_of[attempt_id], attempt_events)
        verdicts[callee_of[attempt_id]] = (amd[0].amd, amd[0].amd_cause)
    people_as_machines = {c: v for c, v in verdicts.items() if c in HUMAN and v[0] is AmdResult.MACHINE}
    machines_missed = {c: v for c, v in verdicts.items() if c in MACHINE and v[0] is not AmdResult.MACHINE}
    assert people_as_machines == {}, verdicts
    assert machines_missed == {}, verdicts
