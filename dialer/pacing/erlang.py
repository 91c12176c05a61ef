"""Queueing formulas used to sanity-check pacing decisions and to size small teams.

Conventions: `servers` agents, offered load `a = λ/μ` in erlangs, arrival rate `λ` per second and
service rate `μ` per second (1 / (talk + wrap)). All functions are pure and numerically stable for
thousands of servers (the Erlang B recursion never forms factorials).

Sources: Erlang B recursion and the Erlang C identity C = cB / (c − a(1 − B)) (Cooper, *Introduction
to Queueing Theory*, 1981, §3.4–3.5); Erlang A (M/M/c+M) as a birth–death chain (Garnett, Mandelbaum
& Reiman 2002; Mandelbaum & Zeltyn 2007); "answered call finds no agent within T" with a hard
(deterministic) patience T is Erlang C's waiting-time tail, P(W > T) = C · exp(−(cμ − λ)T).
"""

from __future__ import annotations

import math

import numpy as np


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of an M/M/c/c loss system (Erlang B)."""
    _check(servers, load)
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (Erlang C); 1.0 when load ≥ servers."""
    _check(servers, load)
    if servers == 0 or load >= servers:
        return 1.0
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1.0 - b))


def erlang_c_mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean wait in queue (seconds) of an M/M/c queue; infinite when unstable."""
    load = arrival_rate / service_rate
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) / (servers * service_rate - arrival_rate)


def service_level(servers: int, arrival_rate: float, service_rate: float, within: float) -> float:
    """Fraction of arrivals answered within `within` seconds (M/M/c, no abandonment)."""
    return 1.0 - prob_wait_longer_than(servers, arrival_rate, service_rate, within)


def prob_wait_longer_than(servers: int, arrival_rate: float, service_rate: float,
                          limit: float) -> float:
    """P(W > limit) in M/M/c: C · exp(−(cμ − λ)·limit)."""
    load = arrival_rate / service_rate
    if load >= servers:
        return 1.0
    return erlang_c(servers, load) * math.exp(-(servers * service_rate - arrival_rate) * limit)


def prob_no_agent_within(servers: int, arrival_rate: float, service_rate: float,
                         limit: float = 2.0) -> float:
    """Share of live answers that find no agent within `limit` seconds and are abandoned.

    The 2-second rule (47 CFR 64.1200(a)(7)(i); Ofcom) is a deterministic patience: a person who is
    not connected within 2 s of the greeting counts as abandoned. With deterministic patience the
    abandoned share is the waiting-time tail of the queue in which waiting callers leave at T, which
    for the short T of a dialer is closely approximated by the M/M/c tail (waiting callers are few,
    so their leaving hardly changes the busy-agent process).
    """
    return prob_wait_longer_than(servers, arrival_rate, service_rate, limit)


def erlang_a(servers: int, arrival_rate: float, service_rate: float,
             abandon_rate: float, *, tail: float = 1e-12) -> tuple[float, float]:
    """M/M/c+M (Erlang A): returns (P(wait), P(abandon)) for exponential patience 1/θ.

    Solved as a birth–death chain truncated where the stationary mass falls below `tail`. By PASTA
    P(wait) is the stationary mass at n ≥ c; the abandonment share is θ·E[queue] / λ.
    """
    if abandon_rate <= 0:
        raise ValueError("Erlang A needs a positive abandonment rate; use erlang_c for θ = 0")
    if servers < 0 or arrival_rate < 0 or service_rate <= 0:
        raise ValueError("servers ≥ 0, arrival rate ≥ 0 and service rate > 0 required")
    # log-weights of the unnormalised stationary distribution, built until they become negligible
    log_weights = [0.0]
    n = 0
    peak = 0.0
    while True:
        n += 1
        death = min(n, servers) * service_rate + max(n - servers, 0) * abandon_rate
        if arrival_rate == 0:
            break
        log_weights.append(log_weights[-1] + math.log(arrival_rate) - math.log(death))
        peak = max(peak, log_weights[-1])
        if n > servers and log_weights[-1] < peak + math.log(tail):
            break
    weights = np.exp(np.array(log_weights) - peak)
    probs = weights / weights.sum()
    states = np.arange(len(probs))
    p_wait = float(probs[servers:].sum())
    if arrival_rate == 0:
        return p_wait, 0.0
    queue = np.maximum(states - servers, 0)
    p_abandon = float(abandon_rate * (queue * probs).sum() / arrival_rate)
    return p_wait, p_abandon


def agents_for_abandon_target(arrival_rate: float, service_rate: float, target: float,
                              limit: float = 2.0) -> int:
    """Smallest team for which the 2-second abandonment share stays at or under `target`."""
    servers = max(1, math.ceil(arrival_rate / service_rate))
    while prob_no_agent_within(servers, arrival_rate, service_rate, limit) > target:
        servers += 1
    return servers


def _check(servers: int, load: float) -> None:
    if servers < 0 or load < 0:
        raise ValueError(f"servers ({servers}) and load ({load}) must be non-negative")
