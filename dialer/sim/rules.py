"""The compliance numbers the simulator and its checker need, per policy profile.

A stand-in until `dialer/compliance` publishes its `PolicyProfile`: the figures come from
COMPLIANCE.md and are fields, not constants, so the lead can swap in the real profile objects.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SimRules:
    profile: str = "us"
    grace_s: float = 2.0                 # 47 CFR 64.1200(a)(7)(i); Ofcom: live person within 2 s
    abandon_limit: float = 0.03          # us: 30-day campaign rate; uk: per calendar day
    budget_window_s: float = 30 * 86400.0
    ring_floor_s: float = 15.0           # 64.1200(a)(6); Ofcom: ring at least 15 s
    bot_counts_as_live: bool = False     # open legal question; default: bot answer = abandoned


PROFILES: dict[str, SimRules] = {
    "us": SimRules(),
    "uk": SimRules(profile="uk", budget_window_s=86400.0),
    # cn: no statutory abandonment figure in the seeds; hold the same 3 % per day as good practice.
    "cn": SimRules(profile="cn", budget_window_s=86400.0),
}


def rules_for(profile: str) -> SimRules:
    try:
        return PROFILES[profile]
    except KeyError:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}") from None
