"""Pacers: one interface, `calls_to_place(snapshot) -> int`, for every dialing mode."""

from dialer.pacing.pacers.base import Pacer
from dialer.pacing.pacers.registry import make_pacer, pacer_names

__all__ = ["Pacer", "make_pacer", "pacer_names"]
