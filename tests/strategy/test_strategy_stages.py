from datetime import date, datetime, timedelta, timezone

import pytest

from dialer.clock import FixedClock
from dialer.strategy.config import StrategyConfigError, load_strategy, load_strategy_yaml
from dialer.strategy.retry import Disposition, WhenExhausted
from dialer.strategy.stages import (
    AccountStanding,
    Handler,
    StageMove,
    advance_day,
    default_stage_plan,
    dpd_on,
    local_today,
    stage_for,
)

DUE = date(2026, 3, 1)


def test_given_a_due_date_when_counting_days_past_due_then_the_day_after_is_one():
    assert dpd_on(DUE, date(2026, 3, 1)) == 0
    assert dpd_on(DUE, date(2026, 2, 20)) == 0
    assert dpd_on(DUE, date(2026, 3, 2)) == 1
    assert dpd_on(DUE, date(2026, 3, 10)) == 9


@pytest.mark.parametrize(("dpd", "expected"), [
    (1, "reminder"), (3, "reminder"), (4, "willingness"), (5, "willingness"),
    (6, "escalation"), (8, "escalation"), (9, "final"), (120, "final")])
def test_given_the_default_ladder_when_staging_by_dpd_then_seed_001_bands_apply(dpd, expected):
    account = AccountStanding(1, DUE, outstanding_minor=50_000)
    stage = stage_for(account, DUE + timedelta(days=dpd), default_stage_plan())
    assert stage is not None and stage.name == expected


def test_given_the_default_ladder_then_final_goes_to_agents_and_early_stages_alternate_voices():
    plan = default_stage_plan()
    assert plan.named("final").handler is Handler.AGENT
    reminder = plan.named("reminder")
    assert reminder.handler is Handler.BOT
    voices = [reminder.voice.voice_for(n) for n in range(4)]
    assert voices == ["female", "male", "female", "male"]


def test_given_an_account_not_yet_due_when_staging_then_it_is_not_in_campaign():
    account = AccountStanding(1, DUE, outstanding_minor=50_000)
    assert stage_for(account, DUE, default_stage_plan()) is None


def test_given_a_paid_account_when_staging_then_it_leaves_the_campaign():
    account = AccountStanding(1, DUE, outstanding_minor=0)
    assert stage_for(account, DUE + timedelta(days=4), default_stage_plan()) is None


def test_given_an_account_pinned_ahead_when_dpd_is_still_low_then_the_pinned_stage_holds():
    account = AccountStanding(1, DUE, outstanding_minor=50_000, pinned_stage="escalation")
    plan = default_stage_plan()
    assert stage_for(account, DUE + timedelta(days=2), plan).name == "escalation"
    assert stage_for(account, DUE + timedelta(days=10), plan).name == "final"


def test_given_a_simulated_week_when_advancing_daily_then_stages_move_and_payment_leaves():
    clock = FixedClock(datetime(2026, 3, 1, 20, 0, tzinfo=timezone.utc))  # 04:00 next day Shanghai
    plan = default_stage_plan()
    account = AccountStanding(7, DUE, outstanding_minor=80_000)
    current: str | None = None
    moves: list[tuple[date, StageMove, str | None]] = []
    for day in range(10):
        if day == 9:
            account = AccountStanding(7, DUE, outstanding_minor=0)  # repayment import
        today = local_today(clock.now(), "Asia/Shanghai")
        for change in advance_day([(account, current)], today, plan):
            moves.append((today, change.move, change.current))
            current = change.current
        clock.advance(24 * 3600)
    assert moves == [
        (date(2026, 3, 2), StageMove.ENTERED, "reminder"),
        (date(2026, 3, 5), StageMove.MOVED, "willingness"),
        (date(2026, 3, 7), StageMove.MOVED, "escalation"),
        (date(2026, 3, 10), StageMove.MOVED, "final"),
        (date(2026, 3, 11), StageMove.LEFT_PAID, None),
    ]


def test_given_utc_evening_when_taking_the_debtors_date_then_dpd_follows_the_debtors_midnight():
    now = datetime(2026, 3, 1, 17, 0, tzinfo=timezone.utc)
    assert local_today(now, "Asia/Shanghai") == date(2026, 3, 2)
    assert local_today(now, "America/New_York") == date(2026, 3, 1)


def test_given_a_campaign_yaml_when_loading_then_stages_amount_bands_and_overrides_apply():
    plan = load_strategy_yaml("""
retry:
  no_answer: {retry_after_minutes: 90, max_attempts: 5}
stages:
  - name: small_early
    dpd: [1, 5]
    amount_minor: [0, 500000]
    script: reminder
    voice: {voices: [female, male], alternate_on_redial: true}
    sms: [first_call_unpaid]
  - name: large_early
    dpd: [1, 5]
    script: escalation
    handler: agent
    retry:
      max_attempts_in_stage: 3
      refused: {retry_after_minutes: 60, max_attempts: 1, when_exhausted: handoff}
  - name: late
    dpd: [6, null]
    script: final
""")
    today = DUE + timedelta(days=2)
    small = stage_for(AccountStanding(1, DUE, 20_000), today, plan)
    large = stage_for(AccountStanding(2, DUE, 900_000), today, plan)
    assert (small.name, small.script, small.sms_triggers) == ("small_early", "reminder",
                                                              ("first_call_unpaid",))
    assert (large.name, large.handler) == ("large_early", Handler.AGENT)
    assert large.retry.max_attempts_in_stage == 3
    assert large.retry.rule_for(Disposition.REFUSED).when_exhausted is WhenExhausted.HANDOFF
    # the campaign-wide override reaches every stage; untouched rules keep their defaults
    assert small.retry.rule_for(Disposition.NO_ANSWER).retry_after_minutes == 90
    assert large.retry.rule_for(Disposition.BUSY).retry_after_minutes == 15


@pytest.mark.parametrize(("config", "key"), [
    ({"stages": [{"name": "a", "dpd": [0, 3], "script": "s"}]}, "stages[0].dpd"),
    ({"stages": [{"name": "a", "dpd": [1, 3]}]}, "stages[0].script"),
    ({"stages": [{"name": "a", "dpd": [1, 3], "script": "s", "handler": "robot"}]},
     "stages[0].handler"),
    ({"stages": [{"name": "a", "dpd": [1, 3], "script": "s",
                  "retry": {"no_anwser": {"retry_after_minutes": 5}}}]},
     "stages[0].retry.no_anwser"),
    ({"retry": {"busy": {"retry_after_minutes": 5, "max_atempts": 2}}}, "retry.busy.max_atempts"),
    ({"retry": {"busy": {"retry_after_minutes": -1}}}, "retry.busy.retry_after_minutes"),
    ({"stages": [{"name": "a", "dpd": [1, 3], "script": "s",
                  "retry": {"refused": {"move_to_stage": "nowhere"}}}]},
     "stages[0].retry.refused.move_to_stage"),
    ({"stages": [{"name": "a", "dpd": [1, 3], "script": "s", "sms": ["nope"]}]}, "stages[0].sms"),
    ({"stages": [{"name": "a", "dpd": [1, 3], "script": "s",
                  "retry": {"machine": {"sms": "nope"}}}]}, "stages[0].retry.machine.sms"),
    ({"stages": "reminder"}, "stages"),
])
def test_given_a_bad_strategy_when_loading_then_the_error_names_the_key(config, key):
    with pytest.raises(StrategyConfigError) as caught:
        load_strategy(config, known_sms=frozenset({"first_call_unpaid"}))
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}: ")
