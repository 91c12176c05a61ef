"""AMI and ARI events -> CallEvents, from transcripts recorded on the real Asterisk 22."""

import asyncio
from datetime import datetime, timezone

from dialer.domain import Route
from dialer.telephony.ami import translate as ami_translate
from dialer.telephony.ari import AriEvent, AriTelephony
from dialer.telephony.events import EventHub, dialplan_event
from dialer.telephony.interface import AmdResult, CallEvent, CallEventKind

AT = datetime(2026, 11, 22, 17, 46, tzinfo=timezone.utc)


def test_given_the_ami_userevent_of_an_answer_then_answered_with_recording():
    headers = {"Event": "UserEvent", "Privilege": "user,all", "Channel":
               "Local/+155500001@dialer-outbound-00000000;1", "Uniqueid": "dialer-1-9ddda350",
               "UserEvent": "DialerAnswered", "AttemptId": "1", "Recording": "dialer-7-1.wav",
               "Timestamp": "1795369564.250000"}
    event = ami_translate(headers, at=AT)
    assert event is not None
    assert (event.attempt_id, event.kind, event.recording) == (1, CallEventKind.ANSWERED,
                                                               "dialer-7-1.wav")
    assert event.asterisk_at == datetime.fromtimestamp(1795369564.25, tz=timezone.utc)


def test_given_the_ami_hangup_of_our_half_then_ended_with_cause_and_other_halves_ignored():
    ours = {"Event": "Hangup", "Uniqueid": "dialer-1-bb9fa800", "Cause": "17",
            "Cause-txt": "User busy"}
    other = {**ours, "Uniqueid": "dialer-1-bb9fa800-2"}
    callee = {**ours, "Uniqueid": "1795369546.3"}
    event = ami_translate(ours, at=AT)
    assert event is not None and event.kind is CallEventKind.ENDED and event.cause == 17
    assert ami_translate(other, at=AT) is None
    assert ami_translate(callee, at=AT) is None


def test_given_ami_dialstate_ringing_on_the_outbound_half_then_ringing():
    headers = {"Event": "DialState", "Uniqueid": "dialer-3-3c76b37a-2", "DialStatus": "RINGING",
               "DestUniqueid": "1795369564.4"}
    event = ami_translate(headers, at=AT)
    assert event is not None and event.kind is CallEventKind.RINGING and event.attempt_id == 3


def test_given_dialplan_events_then_each_milestone_is_typed():
    amd = dialplan_event("DialerAmd", {"AttemptId": "4", "Status": "MACHINE", "Cause": "LONGGREETING-2600-2500"}, at=AT)
    routed = dialplan_event("DialerRouted", {"AttemptId": "4", "Route": "safe_harbour"}, at=AT)
    dial_end = dialplan_event("DialerDialEnd", {"AttemptId": "4", "DialStatus": "BUSY", "Cause": "17"}, at=AT)
    connected = dialplan_event("DialerConnected", {"AttemptId": "4", "Agent": "agent1"}, at=AT)
    assert amd is not None and amd.amd is AmdResult.MACHINE and amd.amd_cause.startswith("LONG")
    assert routed is not None and routed.route is Route.SAFE_HARBOUR
    assert dial_end is not None and (dial_end.dial_status, dial_end.cause) == ("BUSY", 17)
    assert connected is not None and connected.agent == "agent1"
    assert dialplan_event("SomethingElse", {"AttemptId": "4"}, at=AT) is None
    assert dialplan_event("DialerAnswered", {"AttemptId": "x"}, at=AT) is None


def test_given_ari_events_then_userevents_ringing_and_destroy_of_our_half_are_translated():
    user = AriEvent.from_json({
        "type": "ChannelUserevent", "timestamp": "2026-11-22T17:46:09.798+0000",
        "eventname": "DialerRouted", "userevent": {"AttemptId": "1", "Route": "bot"},
        "channel": {"id": "dialer-1-9ddda350", "name": "Local/+155500001@dialer-outbound-00000000;1",
                    "state": "Up", "channelvars": {"DIALER_ATTEMPT_ID": "1"}}})
    dial = AriEvent.from_json({"type": "Dial", "dialstatus": "RINGING",
                               "caller": {"id": "dialer-1-9ddda350-2"},
                               "peer": {"id": "1795369564.4"}})
    destroyed = AriEvent.from_json({"type": "ChannelDestroyed", "cause": 16,
                                    "channel": {"id": "dialer-1-9ddda350", "state": "Up"}})
    destroyed_other = AriEvent.from_json({"type": "ChannelDestroyed", "cause": 16,
                                          "channel": {"id": "dialer-1-9ddda350-2"}})
    routed = AriTelephony.translate(user, at=AT)
    assert routed is not None and routed.route is Route.BOT and routed.source == "ari"
    assert routed.asterisk_at is not None and routed.asterisk_at.microsecond == 798000
    ringing = AriTelephony.translate(dial, at=AT)
    assert ringing is not None and ringing.kind is CallEventKind.RINGING
    ended = AriTelephony.translate(destroyed, at=AT)
    assert ended is not None and ended.kind is CallEventKind.ENDED and ended.cause == 16
    assert AriTelephony.translate(destroyed_other, at=AT) is None


async def test_given_several_subscribers_when_one_fails_then_the_others_still_receive(caplog):
    hub = EventHub()
    got_a: list[CallEvent] = []
    got_b: list[CallEvent] = []

    def broken(event):
        raise RuntimeError("boom")

    async def slow(event):
        await asyncio.sleep(0)
        got_b.append(event)

    hub.subscribe(got_a.append)
    hub.subscribe(broken)
    unsubscribe = hub.subscribe(slow)
    event = CallEvent(1, CallEventKind.RINGING, AT)
    await hub.publish(event)
    unsubscribe()
    await hub.publish(event)
    assert got_a == [event, event]
    assert got_b == [event]
    assert "boom" in caplog.text


def test_given_an_ami_originate_of_a_device_that_fails_then_failed_but_a_local_channel_waits_for_its_hangup():
    at = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)
    # Asterisk 22, an unregistered softphone: no Hangup follows, and Uniqueid names our channel id.
    never_created = {"Event": "OriginateResponse", "Response": "Failure", "ActionID": "dialer-42-ab12",
                     "Channel": "PJSIP/agent2", "Uniqueid": "dialer-42-ab12", "Reason": "0"}
    event = ami_translate(never_created, at=at)
    assert event is not None and (event.attempt_id, event.kind) == (42, CallEventKind.FAILED)
    # A Local channel's busy call also ends its originate in Failure, but its Hangup carries the cause.
    assert ami_translate({**never_created, "Channel": "Local/+8613800000005@dialer-outbound/n"}, at=at) is None
    assert ami_translate({**never_created, "ActionID": "action/uuid/1/7"}, at=at) is None
    assert ami_translate({**never_created, "Response": "Success"}, at=at) is None
