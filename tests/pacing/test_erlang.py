"""Queueing formulas against published tables and closed forms."""

from __future__ import annotations

import math

import pytest
from scipy.stats import poisson

from dialer.pacing.erlang import (
    agents_for_abandon_target,
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_mean_wait,
    prob_no_agent_within,
    service_level,
)


@pytest.mark.parametrize(
    ("servers", "load", "blocking"),
    # Erlang B table (e.g. Cooper 1981, Table; any traffic-engineering handbook): load at 1 % and 2 % GoS
    [(10, 4.46, 0.01), (100, 84.06, 0.01), (10, 5.08, 0.02), (100, 87.97, 0.02)],
)
def test_given_published_erlang_b_table_entry_when_computing_blocking_then_matches(
        servers: int, load: float, blocking: float) -> None:
    assert erlang_b(servers, load) == pytest.approx(blocking, rel=0.01)


def test_given_ten_erlangs_and_fourteen_agents_when_computing_erlang_c_then_matches_worked_example() -> None:
    # The classic call-centre worked example: 100 calls / 30 min, 180 s AHT, 20 s target:
    # 14 agents give P(wait) 17.41 % and a service level of 88.8 %.
    assert erlang_c(14, 10.0) == pytest.approx(0.1741, abs=1e-4)
    assert service_level(14, 10 / 180, 1 / 180, 20) == pytest.approx(0.888, abs=1e-3)


@pytest.mark.parametrize("rho", [0.2, 0.5, 0.9])
def test_given_one_or_two_servers_when_computing_erlang_c_then_closed_forms_hold(rho: float) -> None:
    assert erlang_c(1, rho) == pytest.approx(rho)                      # M/M/1
    assert erlang_c(2, 2 * rho) == pytest.approx(2 * rho**2 / (1 + rho))  # M/M/2
    mu = 1 / 60
    assert erlang_c_mean_wait(1, rho * mu, mu) == pytest.approx(rho / (mu - rho * mu))


def test_given_overload_when_computing_erlang_c_then_everyone_waits() -> None:
    assert erlang_c(5, 5.0) == 1.0
    assert erlang_c_mean_wait(5, 1.0, 0.1) == math.inf
    assert prob_no_agent_within(5, 1.0, 0.1) == 1.0


def test_given_patience_as_long_as_service_when_solving_erlang_a_then_queue_is_poisson() -> None:
    # With θ = μ the M/M/c+M chain is M/M/∞: P(wait) = P(Poisson(a) ≥ c).
    p_wait, p_abandon = erlang_a(10, 0.8, 0.1, 0.1)
    assert p_wait == pytest.approx(poisson.sf(9, 8.0), rel=1e-9)
    assert 0 < p_abandon < p_wait


def test_given_vanishing_abandonment_when_solving_erlang_a_then_it_tends_to_erlang_c() -> None:
    p_wait, p_abandon = erlang_a(10, 0.9, 0.1, 1e-9)
    assert p_wait == pytest.approx(erlang_c(10, 9.0), rel=1e-6)
    assert p_abandon < 1e-7


def test_given_more_agents_when_computing_two_second_abandonment_then_it_falls() -> None:
    lam, mu = 0.5, 1 / 130
    shares = [prob_no_agent_within(c, lam, mu, 2.0) for c in (66, 70, 75, 80)]
    assert shares == sorted(shares, reverse=True)
    team = agents_for_abandon_target(lam, mu, 0.03)
    assert prob_no_agent_within(team, lam, mu) <= 0.03 < prob_no_agent_within(team - 1, lam, mu)


def test_given_negative_inputs_when_computing_then_rejected() -> None:
    with pytest.raises(ValueError):
        erlang_b(-1, 1.0)
    with pytest.raises(ValueError):
        erlang_a(3, 1.0, 0.1, 0.0)
