"""What the dialog engine asks a transport to do, and what the transport reports back.

Transports (FastAGI, classic AGI, the simulator, tests) perform actions and feed results; the
engine never touches a socket, a file or the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dialer.bot.intents import Intent, Recognition


# ---- actions -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Say:
    prompt_id: str
    text: str                                   # rendered, numbers already in words
    variables: dict[str, str] = field(default_factory=dict)
    discloses: bool = False                     # mentions the debt: only ever after verification
    # The question's answer may start while this plays (a listen follows and the script allows it):
    # a transport that hears the caller live stops the prompt and reports `SpokeOver`.
    barge_in: bool = False
    node: str = ""                              # the script state that says it (for the transcript)


@dataclass(frozen=True)
class Listen:
    grammar: str                                # ASR grammar for this question (JSGF name)
    timeout_s: float
    max_digits: int = 1                         # DTMF is accepted at every question
    keys: dict[str, Intent] = field(default_factory=dict)


@dataclass(frozen=True)
class CollectDigits:
    max_digits: int
    timeout_s: float
    terminator: str = "#"


@dataclass(frozen=True)
class Transfer:
    queue: str
    context: dict[str, Any]


@dataclass(frozen=True)
class SendSms:
    template: str
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hangup:
    reason: str


Action = Say | Listen | CollectDigits | Transfer | SendSms | Hangup


# ---- results -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Done:
    """The action was carried out (prompt played, SMS queued, transfer placed)."""


@dataclass(frozen=True)
class Heard:
    text: str
    confidence: float | None = None


@dataclass(frozen=True)
class Keyed:
    digits: str


@dataclass(frozen=True)
class Silence:
    pass


@dataclass(frozen=True)
class CallerHungUp:
    pass


@dataclass(frozen=True)
class SpokeOver:
    """The caller started answering while a prompt played, and the prompt was stopped there (for a
    `Say` with `barge_in`). What they say is the next `Listen`'s result."""


@dataclass(frozen=True)
class Understood:
    """A caller turn already interpreted (an external NLU, or tests walking the script graph)."""

    recognition: Recognition


Result = Done | Heard | Keyed | Silence | CallerHungUp | Understood | SpokeOver
