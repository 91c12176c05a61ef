"""`dialer campaign hours` and starting a campaign outside its hours, through click."""

from __future__ import annotations

import json
from datetime import datetime, timezone


def _zone_where_it_is(hours: range) -> str:
    """An Etc/GMT±N zone whose local hour now is in `hours` (the CLI reads the real clock)."""
    hour = datetime.now(timezone.utc).hour
    for offset in range(-12, 15):
        if (hour + offset) % 24 in hours:
            return "Etc/GMT" + (f"{-offset:+d}" if offset else "")
    raise AssertionError("unreachable")


def test_given_hours_set_outside_them_when_started_then_the_campaign_waits_for_the_opening(dialer) -> None:  # type: ignore[no-untyped-def]
    dialer("db", "upgrade")
    dialer("campaign", "create", "m1", "--mode", "bot_only")
    assert "no hours" in dialer("campaign", "hours", "m1").output
    night = _zone_where_it_is(range(0, 6))
    shown = json.loads(dialer("campaign", "hours", "m1", "09:00-20:00", "--zone", night, "--json").output)
    assert shown["hours"] == {"start": "09:00", "end": "20:00", "zone": night, "open_now": False}
    started = dialer("campaign", "start", "m1").output
    assert "waiting for its hours (09:00-20:00" in started and "starts it at 09:00" in started
    assert json.loads(dialer("campaign", "show", "m1", "--json").output)["state"] == "paused"
    # hours that are open now: the next check (here the command itself) resumes it
    day = _zone_where_it_is(range(10, 19))
    assert "open now; campaign running" in dialer("campaign", "hours", "m1", "09:00-20:00", "--zone", day).output
    dialer("campaign", "hours", "m1", "--clear")
    assert json.loads(dialer("campaign", "hours", "m1", "--json").output)["hours"] is None


def test_given_bad_hours_then_the_command_says_what_to_write(dialer) -> None:  # type: ignore[no-untyped-def]
    dialer("db", "upgrade")
    dialer("campaign", "create", "m1", "--mode", "bot_only")
    assert "use HH:MM-HH:MM, e.g. 09:00-20:00" in dialer("campaign", "hours", "m1", "9h-20h", ok=False).output
    assert "no overnight" in dialer("campaign", "hours", "m1", "20:00-09:00", ok=False).output
    assert "not an IANA zone" in dialer("campaign", "hours", "m1", "09:00-20:00", "--zone", "Beijing", ok=False).output
    assert "not both" in dialer("campaign", "hours", "m1", "09:00-20:00", "--clear", ok=False).output
    assert "not found" in dialer("campaign", "hours", "nope", ok=False).output


def test_given_hours_on_create_then_they_are_in_the_profiles_day_zone(dialer) -> None:  # type: ignore[no-untyped-def]
    dialer("db", "upgrade")
    dialer("campaign", "create", "m1", "--mode", "bot_only", "--hours", "09:00-20:00")
    assert json.loads(dialer("campaign", "hours", "m1", "--json").output)["hours"]["zone"] == "Asia/Shanghai"


def test_given_hours_reaching_past_the_profile_window_then_a_note_says_the_gate_still_refuses(dialer) -> None:  # type: ignore[no-untyped-def]
    dialer("db", "upgrade")
    dialer("campaign", "create", "m1", "--mode", "bot_only")
    output = dialer("campaign", "hours", "m1", "07:00-23:00").output
    assert "note: profile cn allows calls 08:00-22:00 in each debtor's own zone" in output
    assert "note:" not in dialer("campaign", "hours", "m1", "09:00-20:00").output
