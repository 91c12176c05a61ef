"""Ring-time floor: an originate never gives up before the profile allows.

47 CFR 64.1200(a)(6) (15 s or four rings) and Ofcom's policy both forbid hanging up on a
ringing phone too early: a person reaching the phone finds nobody and calls it harassment.
"""

from __future__ import annotations

from dialer.compliance.profiles import PolicyProfile


def ring_timeout_for(profile: PolicyProfile, requested: int | None = None) -> int:
    """The ring timeout to put on the originate, in whole seconds, never under the floor."""
    wanted = profile.ring.default_s if requested is None else requested
    return max(int(wanted), profile.ring.floor_s)
