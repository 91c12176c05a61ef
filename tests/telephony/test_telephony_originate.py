"""No permit, no call; no ring time under the floor (dialer/telephony/originate.py)."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from dialer.compliance.permit import PermitAuthority, PermitRejected
from dialer.domain import Route
from dialer.telephony.interface import RingTimeoutTooShort, RoutePlan, SafeHarbour
from dialer.telephony.originate import attempt_of_channel, channel_ids, plan_originate

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)


def permit(authority, attempt_id=42, ring=15):
    return authority.issue(attempt_id=attempt_id, campaign_id=3, contact_id=9, e164="+447700900123",
                           ring_timeout_s=ring, live_agent_required=True, now=NOW)


def test_given_a_gate_permit_when_planning_then_the_contract_variables_are_set():
    authority = PermitAuthority()
    plan = plan_originate(authority, permit(authority), now=NOW,
                          route=RoutePlan.to_queue("collections", safe_harbour=SafeHarbour.BOT),
                          nonce="ab12")
    assert plan.channel == "Local/+447700900123@dialer-outbound/n"
    assert (plan.context, plan.extension, plan.priority) == ("dialer-answered", "s", 1)
    assert plan.channel_id == "dialer-42-ab12" and plan.other_channel_id == "dialer-42-ab12-2"
    assert plan.variables == {
        "DIALER_ATTEMPT_ID": "42", "DIALER_CAMPAIGN_ID": "3", "DIALER_ROUTE": "queue",
        "DIALER_QUEUE": "collections", "DIALER_SAFE_HARBOUR": "bot", "DIALER_RING_TIMEOUT": "15",
        "DIALER_AMD": "on"}
    assert plan.originate_timeout_s > plan.ring_timeout_s


def test_given_a_permit_when_used_twice_then_the_second_originate_is_refused():
    authority = PermitAuthority()
    p = permit(authority)
    plan_originate(authority, p, now=NOW, route=RoutePlan.to_bot())
    with pytest.raises(PermitRejected, match="already used"):
        plan_originate(authority, p, now=NOW, route=RoutePlan.to_bot())


def test_given_a_permit_from_another_gate_when_planning_then_refused():
    forged = permit(PermitAuthority())
    with pytest.raises(PermitRejected, match="signature"):
        plan_originate(PermitAuthority(), forged, now=NOW, route=RoutePlan.to_bot())


def test_given_a_tampered_permit_when_planning_then_refused():
    authority = PermitAuthority()
    tampered = replace(permit(authority), e164="+447700900999")
    with pytest.raises(PermitRejected):
        plan_originate(authority, tampered, now=NOW, route=RoutePlan.to_bot())


def test_given_an_expired_permit_when_planning_then_refused():
    authority = PermitAuthority()
    with pytest.raises(PermitRejected, match="expired"):
        plan_originate(authority, permit(authority), now=NOW + timedelta(minutes=5),
                       route=RoutePlan.to_bot())


def test_given_no_permit_at_all_when_planning_then_refused():
    with pytest.raises(PermitRejected):
        plan_originate(PermitAuthority(), object(), now=NOW, route=RoutePlan.to_bot())  # type: ignore[arg-type]


def test_given_a_ring_time_below_the_floor_when_planning_then_refused_and_permit_not_spent():
    authority = PermitAuthority()
    p = permit(authority, ring=15)
    with pytest.raises(RingTimeoutTooShort):
        plan_originate(authority, p, now=NOW, route=RoutePlan.to_bot(), ring_timeout_s=14)
    plan = plan_originate(authority, p, now=NOW, route=RoutePlan.to_bot(), ring_timeout_s=25)
    assert plan.variables["DIALER_RING_TIMEOUT"] == "25"


def test_given_extra_variables_that_shadow_the_contract_then_refused():
    authority = PermitAuthority()
    with pytest.raises(ValueError, match="reserved"):
        plan_originate(authority, permit(authority), now=NOW, route=RoutePlan.to_bot(),
                       variables={"DIALER_ATTEMPT_ID": "1"})


def test_given_a_queue_route_without_queue_then_invalid():
    with pytest.raises(ValueError):
        RoutePlan(Route.QUEUE)
    with pytest.raises(ValueError):
        RoutePlan(Route.SAFE_HARBOUR)


def test_channel_ids_map_back_to_attempts():
    ours, other = channel_ids(1234, "beef")
    assert attempt_of_channel(ours) == (1234, True)
    assert attempt_of_channel(other) == (1234, False)
    assert attempt_of_channel("1795369546.2") is None


def test_given_a_preview_call_when_planning_then_the_agent_softphone_is_rung_first_and_the_contact_after():
    authority = PermitAuthority()
    plan = plan_originate(authority, permit(authority), now=NOW,
                          route=RoutePlan.agent_first("PJSIP/agent3", queue="collections"), nonce="ab12",
                          dial="Local/+447700900123@demo-carrier")
    assert (plan.channel, plan.context, plan.extension) == ("PJSIP/agent3", "dialer-agent-first", "s")
    assert plan.channel_id == "dialer-42-ab12"     # the agent's leg is the tracked channel
    assert plan.variables["DIALER_AGENT"] == "PJSIP/agent3"
    assert plan.variables["DIALER_NUMBER"] == "+447700900123"
    assert plan.variables["DIALER_AMD"] == "off" and plan.variables["DIALER_RING_TIMEOUT"] == "15"
    assert plan.variables["DIALER_DIAL"] == "Local/+447700900123@demo-carrier"


def test_given_an_agent_endpoint_that_is_not_a_device_then_refused_before_the_permit_is_spent():
    authority = PermitAuthority()
    p = permit(authority)
    with pytest.raises(ValueError, match="not an agent endpoint"):
        plan_originate(authority, p, now=NOW, route=RoutePlan.agent_first("PJSIP/a,b", queue="q"))
    plan_originate(authority, p, now=NOW, route=RoutePlan.agent_first("PJSIP/agent3", queue="q"))
