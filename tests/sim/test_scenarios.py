"""Scenario files: the shipped ones load, mistakes are named, drift interpolates."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialer.sim.scenario import ScenarioError, load_scenario, scenario_from_dict

SHIPPED = sorted((Path(__file__).parents[2] / "dialer" / "sim" / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_given_a_shipped_scenario_when_loaded_then_it_is_valid(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.duration_s > 0


def test_given_the_shipped_scenarios_then_there_are_several() -> None:
    assert len(SHIPPED) >= 5


def test_given_an_unknown_field_when_loading_then_the_error_names_it() -> None:
    with pytest.raises(ScenarioError, match="agnets"):
        scenario_from_dict({"agnets": {"count": 5}})


def test_given_shares_summing_over_one_when_loading_then_rejected() -> None:
    with pytest.raises(ScenarioError, match="mix"):
        scenario_from_dict({"population": {"p_live": 0.6, "p_machine": 0.5}})


def test_given_drift_points_when_asking_the_mix_between_them_then_it_is_interpolated() -> None:
    scenario = scenario_from_dict({"population": {"drift": [
        {"at_s": 0, "p_live": 0.4}, {"at_s": 1000, "p_live": 0.2}]}})
    assert scenario.mix_at(0).live == pytest.approx(0.4)
    assert scenario.mix_at(500).live == pytest.approx(0.3)
    assert scenario.mix_at(5000).live == pytest.approx(0.2)
