"""Which policy profile governs a campaign: its named profile with the campaign's overrides."""

from __future__ import annotations

import json

from dialer.compliance.profiles import PolicyProfile, ProfileError
from dialer.db.models import Campaign


class ProfileBook:
    """Resolves and caches each campaign's effective profile (built-in or custom + overrides)."""

    def __init__(self, profiles: dict[str, PolicyProfile]) -> None:
        self._profiles = profiles
        self._cache: dict[tuple[str, str], PolicyProfile] = {}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._profiles)

    def for_campaign(self, campaign: Campaign) -> PolicyProfile:
        overrides = campaign.profile_overrides or {}
        key = (campaign.profile, json.dumps(overrides, sort_keys=True))
        if key not in self._cache:
            if campaign.profile not in self._profiles:
                raise ProfileError(f"campaign {campaign.name}: profile {campaign.profile!r} is not configured")
            base = self._profiles[campaign.profile]
            self._cache[key] = base.with_overrides(overrides, label=campaign.name) if overrides else base
        return self._cache[key]
