from datetime import datetime, time, timedelta, timezone

import pytest

from dialer.clock import FixedClock
from dialer.compliance.profiles import builtin_profile
from dialer.compliance.windows import ContactHours
from dialer.sms.triggers import SmsAccountState, plan_sms, still_sendable
from dialer.sms.window import ProfileSendingWindow, SendingWindow, SmsCaps, earliest_send
from dialer.strategy.stages import default_stage_plan

SHANGHAI = SendingWindow(time(8), time(21), ("Asia/Shanghai",))
NO_CAPS = SmsCaps(per_day=None, per_week=None)


def utc(day, hour, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)


def test_given_10_pm_in_shanghai_when_asking_the_window_then_it_opens_at_8_am_next_day():
    assert not SHANGHAI.is_open(utc(2, 14))                      # 22:00 local
    assert SHANGHAI.next_open(utc(2, 14)) == utc(3, 0)           # 08:00 local
    assert SHANGHAI.next_open(utc(3, 1)) == utc(3, 1)            # already open: now


def test_given_a_number_with_two_candidate_zones_then_only_the_overlap_is_open():
    window = SendingWindow(time(8), time(21), ("America/New_York", "America/Los_Angeles"))
    # 08:00 New York is 05:00 Los Angeles: closed until 08:00 Los Angeles = 11:00 New York
    assert window.next_open(datetime(2026, 3, 2, 13, 0, tzinfo=timezone.utc)) == \
        datetime(2026, 3, 2, 16, 0, tzinfo=timezone.utc)


def test_given_a_window_that_wraps_midnight_then_late_evening_is_open():
    window = SendingWindow(time(20), time(2), ("UTC",))
    assert window.is_open(utc(2, 23)) and window.is_open(utc(2, 1))
    assert window.next_open(utc(2, 3)) == utc(2, 20)


def test_given_a_window_across_the_us_spring_forward_then_8_am_edt_is_the_opening():
    window = SendingWindow(time(8), time(21), ("America/New_York",))
    # Sunday 2026-03-08, 02:00 EST → 03:00 EDT; 08:00 EDT is 12:00 UTC
    assert window.next_open(datetime(2026, 3, 8, 3, 0, tzinfo=timezone.utc)) == \
        datetime(2026, 3, 8, 12, 0, tzinfo=timezone.utc)


def test_given_a_zone_typo_when_building_the_window_then_refused():
    with pytest.raises(Exception, match="Asia/Shangai"):
        SendingWindow(time(8), time(21), ("Asia/Shangai",))


def test_given_a_text_sent_today_when_the_daily_cap_is_one_then_the_next_waits_a_rolling_day():
    sent = [utc(2, 2)]                                            # 10:00 local
    assert earliest_send(utc(2, 5), SHANGHAI, SmsCaps(per_day=1, per_week=None), sent) == utc(3, 2)


def test_given_a_text_already_queued_for_tomorrow_then_a_new_one_goes_after_it_not_before():
    queued = [utc(3, 0)]                                           # tomorrow 08:00 local
    at = earliest_send(utc(2, 7), SHANGHAI, SmsCaps(per_day=1, per_week=None), queued)
    assert at == utc(4, 0)     # 15:00 today would put two texts within 24 hours


def test_given_the_weekly_cap_used_then_the_next_text_waits_for_the_oldest_to_age_out():
    sent = [utc(1, 2), utc(2, 2), utc(3, 2)]
    at = earliest_send(utc(4, 3), SHANGHAI, SmsCaps(per_day=1, per_week=3), sent)
    assert at == utc(8, 2)


def test_given_a_cap_that_ends_at_night_then_the_send_also_waits_for_the_window():
    sent = [utc(2, 12, 30)]                                       # 20:30 local
    assert earliest_send(utc(2, 13), SHANGHAI, SmsCaps(per_day=1, per_week=None), sent) == \
        utc(3, 12, 30)
    sent = [utc(2, 12, 59)]
    # 20:59 + 24 h = 20:59 next day, still open; the window check happens after the cap
    assert earliest_send(utc(2, 13), SHANGHAI, SmsCaps(per_day=1), sent) == utc(3, 12, 59)


def _state(**changes):
    base = dict(account_id=1, dpd=1, paid=False, completed_calls=0, may_text=True)
    return SmsAccountState(**{**base, **changes})


def test_given_a_simulated_campaign_week_then_each_seed_trigger_fires_once_in_daytime():
    """Calls at 21:30 local each day; texts may go 08:00–21:00; every trigger exactly once."""
    plan = default_stage_plan()
    clock = FixedClock(utc(2, 13, 30))            # 21:30 Shanghai, day 1 past due
    fired: set[str] = set()
    sent: list[tuple[str, datetime, int]] = []
    sent_times: list[datetime] = []
    for dpd in range(1, 11):
        stage = plan.by_dpd(dpd, 50_000)
        state = _state(dpd=dpd, completed_calls=dpd, fired=frozenset(fired))
        result = plan_sms(state, stage.sms_triggers, now=clock.now(), window=SHANGHAI,
                          caps=SmsCaps(), sent_to_debtor=sent_times)
        if result.send is not None:
            assert result.send.send_at > clock.now()      # 21:30 is closed: deferred
            assert SHANGHAI.is_open(result.send.send_at)
            fired.add(result.send.trigger)
            fired.update(result.superseded)
            sent.append((result.send.trigger, result.send.send_at, dpd))
            sent_times.append(result.send.send_at)
        clock.advance(24 * 3600)
    assert [(trigger, dpd) for trigger, _, dpd in sent] == [
        ("first_call_unpaid", 1), ("suspension_notice", 5), ("legal_reminder", 8)]
    assert sent[0][1] == utc(3, 0)                # 08:00 the next morning


def test_given_an_account_imported_at_9_dpd_then_only_the_most_severe_text_goes():
    state = _state(dpd=9, completed_calls=1)
    result = plan_sms(state, ["first_call_unpaid", "suspension_notice", "legal_reminder"],
                      now=utc(2, 3), window=SHANGHAI, caps=NO_CAPS)
    assert result.send.trigger == "legal_reminder" and result.send.send_at == utc(2, 3)
    assert result.superseded == ("first_call_unpaid", "suspension_notice")


def test_given_no_completed_call_yet_then_the_first_call_text_waits():
    result = plan_sms(_state(dpd=2), ["first_call_unpaid"], now=utc(2, 3), window=SHANGHAI,
                      caps=NO_CAPS)
    assert result.send is None


@pytest.mark.parametrize("changes", [{"paid": True}, {"may_text": False},
                                     {"fired": frozenset({"first_call_unpaid"})}])
def test_given_paid_opted_out_or_already_fired_then_nothing_is_sent(changes):
    result = plan_sms(_state(completed_calls=1, **changes), ["first_call_unpaid"],
                      now=utc(2, 3), window=SHANGHAI, caps=NO_CAPS)
    assert result.send is None


def test_given_a_planned_text_when_the_account_pays_before_send_time_then_it_is_not_sent():
    result = plan_sms(_state(completed_calls=1), ["first_call_unpaid"], now=utc(2, 14),
                      window=SHANGHAI, caps=NO_CAPS)
    planned = result.send
    assert not still_sendable(planned, now=planned.send_at - timedelta(minutes=1),
                              window=SHANGHAI, paid=False)
    assert still_sendable(planned, now=planned.send_at, window=SHANGHAI, paid=False)
    assert not still_sendable(planned, now=planned.send_at, window=SHANGHAI, paid=True)
    # a queue that stalled until 22:30 must not send at night
    assert not still_sendable(planned, now=utc(3, 14, 30), window=SHANGHAI, paid=False)


def test_given_the_cn_profile_with_a_closed_holiday_then_texts_wait_for_the_next_open_day():
    profile = builtin_profile("cn").with_overrides({"window": {"holidays": {"2026-03-03": None}}})
    window = ProfileSendingWindow(profile.windows, ContactHours(zones=("Asia/Shanghai",)),
                                  campaign=SendingWindow(time(9), time(20), ("Asia/Shanghai",)))
    assert window.is_open(utc(2, 3))                          # Monday 11:00
    assert not window.is_open(utc(2, 12, 30))                 # 20:30: profile open, campaign not
    # Monday 20:30 → Tuesday is a closed holiday → Wednesday 09:00 (campaign hours)
    assert window.next_open(utc(2, 12, 30)) == utc(4, 1)
    result = plan_sms(_state(completed_calls=1), ["first_call_unpaid"], now=utc(2, 12, 30),
                      window=window, caps=NO_CAPS)
    assert result.send.send_at == utc(4, 1)


def test_given_a_debtor_named_inconvenient_time_then_no_text_goes_in_it():
    hours = ContactHours(zones=("America/New_York",), inconvenient=((time(8), time(12)),))
    window = ProfileSendingWindow(builtin_profile("us").windows, hours)
    nine_am_edt = datetime(2026, 6, 1, 13, 0, tzinfo=timezone.utc)
    assert not window.is_open(nine_am_edt)
    assert window.next_open(nine_am_edt) == datetime(2026, 6, 1, 16, 0, tzinfo=timezone.utc)
