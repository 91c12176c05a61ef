"""The simulator judges a shift by the gate's own policy profiles, not by a copy of their numbers."""

from __future__ import annotations

import pytest

from dialer.compliance.profiles import builtin_profile
from dialer.pacing.snapshot import DialResult
from dialer.sim.checker import check
from dialer.sim.engine import CallRecord
from dialer.sim.rules import PROFILES, rules_for


@pytest.mark.parametrize("name", ["cn", "us", "uk"])
def test_given_a_builtin_profile_when_simulating_then_the_rules_are_the_gates_figures(name: str) -> None:
    profile = builtin_profile(name)
    rules = rules_for(name)
    assert rules.profile == name
    assert rules.abandon_limit == profile.abandonment.ceiling
    assert rules.ring_floor_s == profile.ring.floor_s
    assert rules.bot_counts_as_live == profile.abandonment.bot_counts_as_live
    assert rules.window == profile.abandonment.window
    assert rules.grace_s == 2.0
    assert name in PROFILES


def test_given_the_us_profile_then_the_budget_window_is_thirty_days_and_uk_a_day() -> None:
    assert rules_for("us").budget_window_s == 30 * 86400.0
    assert rules_for("uk").budget_window_s == 86400.0


def test_given_the_cn_profile_then_the_bot_is_the_live_representative() -> None:
    assert rules_for("cn").bot_counts_as_live is True
    assert rules_for("us").bot_counts_as_live is False


def test_given_a_campaign_override_of_the_ceiling_when_checked_then_the_checker_uses_it() -> None:
    strict = rules_for(builtin_profile("us").with_overrides({"abandonment": {"ceiling": 0.01}}, label="strict"))
    calls = [CallRecord(i, i, 60.0 * i, DialResult.LIVE, 60.0 * i + 5, 60.0, 5.0,
                        connected_at=None if i in (10, 90) else 60.0 * i + 5.5, ended_at=60.0 * i + 70)
             for i in range(120)]
    # 2 abandons 80 minutes apart: any hour holds one of 60 answers (1.7 %), inside the us 3 %,
    # over the campaign's own 1 %.
    assert check(calls, rules_for("us"), duration_s=7200.0, channel_limit=10).hours_over_limit == 0
    assert check(calls, strict, duration_s=7200.0, channel_limit=10).hours_over_limit >= 1


def test_given_an_unknown_profile_then_the_error_names_the_choices() -> None:
    with pytest.raises(ValueError, match="cn, us, uk"):
        rules_for("fr")


def test_given_the_cn_profile_when_blended_then_bot_answers_are_not_abandons() -> None:
    from dialer.sim.runner import simulate
    from dialer.sim.scenario import Mix, MixPoint, Scenario

    tight = Scenario(name="tight", duration_s=1800.0, agents=3, bot_channels=5, calls_per_second=5.0,
                     mix=(MixPoint(0.0, Mix(0.5)),), channel_limit=40)
    us = simulate(tight, "power", seed=2, profile="us", pacer_params={"ratio": 3.0}).metrics()
    assert us["profile"] == "us" and us["abandons"] > 0
    cn = simulate(tight, "blended", seed=2, profile="cn").metrics()
    assert cn["profile"] == "cn"
    assert cn["abandons"] == cn["abandonment"]["silent_abandons"]   # only calls nobody took count
    assert set(cn["diagnostics"]) == {"pacer_modes", "budget_spent_share", "dial_level"}
