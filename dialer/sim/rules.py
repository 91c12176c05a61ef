"""The compliance figures the simulator and its checker use, read from the gate's own policy profiles.

`dialer simulate --profile cn|us|uk` must judge a shift by the numbers the gate enforces in
production, so every figure here comes from `dialer.compliance.profiles` (profiles/*.yaml), never from
a second copy. Only the numbers cross over: the checker (`dialer.sim.checker`) recomputes abandonment
from the call log with its own code, so a bug in the pacer or the gate cannot hide itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialer.compliance.profiles import BUILTIN_PROFILES, PolicyProfile, ProfileError, builtin_profile

# 47 CFR 64.1200(a)(7)(i) and Ofcom: a live answer must reach a live person within 2 s of the greeting.
# No profile varies it (all three regimes use 2 s), so PolicyProfile has no field for it; it is a
# field here so a what-if run can change it.
TWO_SECOND_RULE_S = 2.0

# How long the regulator's abandonment window is, in simulated seconds. A calendar day is a rolling
# day inside a simulated shift (a shift never spans local midnight in the scenarios).
WINDOW_SECONDS = {"rolling_30d": 30 * 86400.0, "rolling_24h": 86400.0, "calendar_day": 86400.0}

PROFILES: tuple[str, ...] = BUILTIN_PROFILES


@dataclass(frozen=True, slots=True)
class SimRules:
    profile: str = "us"
    grace_s: float = TWO_SECOND_RULE_S
    abandon_limit: float = 0.03          # profile.abandonment.ceiling
    budget_window_s: float = 30 * 86400.0
    window: str = "rolling_30d"          # profile.abandonment.window, for reports
    ring_floor_s: float = 15.0           # profile.ring.floor_s
    bot_counts_as_live: bool = False     # profile.abandonment.bot_counts_as_live

    @classmethod
    def from_profile(cls, profile: PolicyProfile) -> SimRules:
        ab = profile.abandonment
        return cls(profile=profile.name, abandon_limit=ab.ceiling,
                   budget_window_s=WINDOW_SECONDS[ab.window], window=ab.window,
                   ring_floor_s=float(profile.ring.floor_s), bot_counts_as_live=ab.bot_counts_as_live)


def rules_for(profile: str | PolicyProfile) -> SimRules:
    """The simulator's rules for a built-in profile name (cn, us, uk) or a loaded profile object."""
    if isinstance(profile, PolicyProfile):
        return SimRules.from_profile(profile)
    try:
        return SimRules.from_profile(builtin_profile(profile))
    except ProfileError:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}") from None
