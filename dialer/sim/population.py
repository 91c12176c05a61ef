"""The simulated call population, drawn once per seed: common random numbers for every pacer.

Each contact carries its own uniforms, drawn in list order from the seed. Its fate is mapped from
them at the moment it is dialled (the result mix may drift during the day), so two pacers that dial
the same contact at nearly the same time see the same person, the same answer delay and the same
conversation. Differences between pacers are then differences of pacing, not of luck.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.special import ndtri

from dialer.pacing.snapshot import DialResult
from dialer.sim.scenario import Scenario

_BLOCK = 4096


@dataclass(frozen=True, slots=True)
class Contact:
    """One contact of the list, with the random draws that decide its fate."""

    contact_id: int
    u_result: float
    z_delay: float   # standard normal draws, mapped through each lognormal's quantile
    z_talk: float
    z_wrap: float


@dataclass(frozen=True, slots=True)
class Fate:
    result: DialResult
    ring_s: float        # seconds from originate to resolution
    talk_s: float        # conversation length if live
    wrap_s: float


class ContactSource(Protocol):
    """The hopper seam: hands out the next contact to dial, best first (strategy decides order)."""

    def next_contact(self, now: float) -> Contact | None: ...

    def peek(self, k: int) -> Contact | None:
        """The k-th contact after the next one, without taking it (only the oracle peeks)."""
        ...


class PopulationStream:
    """An endless (or `size`-long) list of contacts drawn from a seed, in a fixed order."""

    def __init__(self, seed: int, size: int | None = None) -> None:
        self._rng = np.random.default_rng(np.random.SeedSequence([seed, 0xD1A1]))
        self.size = size
        self._u = np.zeros(0)
        self._z = np.zeros((0, 3))
        self._next = 0

    def _ensure(self, index: int) -> None:
        while index >= len(self._u):
            self._u = np.concatenate((self._u, self._rng.random(_BLOCK)))
            self._z = np.concatenate((self._z, ndtri(self._rng.random((_BLOCK, 3)))))

    def _contact(self, index: int) -> Contact | None:
        if self.size is not None and index >= self.size:
            return None
        self._ensure(index)
        z = self._z[index]
        return Contact(index, float(self._u[index]), float(z[0]), float(z[1]), float(z[2]))

    def next_contact(self, now: float) -> Contact | None:
        contact = self._contact(self._next)
        if contact is not None:
            self._next += 1
        return contact

    def peek(self, k: int) -> Contact | None:
        return self._contact(self._next + k)

    @property
    def taken(self) -> int:
        return self._next

    def __iter__(self) -> Iterator[Contact]:  # pragma: no cover - convenience for notebooks
        while (c := self.next_contact(0.0)) is not None:
            yield c


def fate_of(contact: Contact, scenario: Scenario, dialled_at: float) -> Fate:
    """Map a contact's draws to what happens when it is dialled at `dialled_at`."""
    mix = scenario.mix_at(dialled_at)
    u = contact.u_result
    timeout = scenario.ring_timeout_s
    talk = scenario.talk.quantile_from_normal(contact.z_talk)
    wrap = scenario.wrap.quantile_from_normal(contact.z_wrap)
    if u < mix.live:
        result, delay = DialResult.LIVE, scenario.live_delay
    elif u < mix.live + mix.machine:
        result, delay = DialResult.MACHINE, scenario.machine_delay
    elif u < mix.live + mix.machine + mix.busy:
        result, delay = DialResult.BUSY, scenario.busy_delay
    elif u < mix.live + mix.machine + mix.busy + mix.failed:
        result, delay = DialResult.FAILED, scenario.failed_delay
    else:
        return Fate(DialResult.NO_ANSWER, timeout, talk, wrap)
    # People pick up before the dialler gives up; the tail is folded just under the timeout.
    ring = min(delay.quantile_from_normal(contact.z_delay), timeout - 0.5)
    return Fate(result, max(0.5, ring), talk, wrap)
