"""Pacers by name, as campaigns and `dialer simulate --pacer` select them.

Benchmark baselines (the VICIdial re-implementation) and the clairvoyant oracle are deliberately not
here: the oracle reads the future and must never be selectable for a real campaign.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dialer.pacing.pacers.base import LimitedPacer
from dialer.pacing.pacers.predictive import BlendedPacer, PredictivePacer
from dialer.pacing.pacers.simple import (
    AgentInitiatedPacer,
    BotOnlyPacer,
    PowerPacer,
    ProgressivePacer,
)

_FACTORIES: dict[str, Callable[..., LimitedPacer]] = {
    "predictive": PredictivePacer,
    "progressive": ProgressivePacer,
    "power": PowerPacer,
    "preview": AgentInitiatedPacer,
    "manual": AgentInitiatedPacer,
    "bot_only": BotOnlyPacer,
    "blended": BlendedPacer,
}


def pacer_names() -> tuple[str, ...]:
    return tuple(_FACTORIES)


def make_pacer(name: str, **params: Any) -> LimitedPacer:
    """A fresh pacer of the named mode (`CampaignMode` values) with its tuning parameters."""
    try:
        factory = _FACTORIES[name.replace("-", "_")]
    except KeyError:
        raise ValueError(f"unknown pacer {name!r}; choose one of {', '.join(_FACTORIES)}") from None
    return factory(**params)
