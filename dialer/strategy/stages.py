"""Collection stages: which script, voice, retry rules and SMS triggers apply to an account today.

The default ladder follows seed 001 (鼎富 bank case): 1–3 dpd low risk (remind, state the minimum
payment), 4–5 dpd medium (ask willingness, branch on intent), 6–8 dpd high (escalate: credit
record, legal liability, hand over) and, beyond the seeds, 9+ dpd as a final stage taken by agents.
A campaign may replace the ladder (see `dialer.strategy.config`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dialer.clock import ensure_utc
from dialer.strategy.retry import RetryRules, default_retry_rules


class Handler(str, enum.Enum):
    """Who takes an answered call in this stage."""

    BOT = "bot"
    AGENT = "agent"


@dataclass(frozen=True)
class VoicePolicy:
    """The TTS voice for the next call.

    Seed 001: for debtors who were reached but did not pay, re-dial with a different voice (male and
    female alternated), because 70% of customers resent a "script repeater".
    """

    voices: tuple[str, ...] = ("female",)
    alternate_on_redial: bool = False

    def voice_for(self, connected_unpaid_calls: int) -> str:
        """`connected_unpaid_calls`: earlier calls that reached the debtor, who still owes."""
        if not self.alternate_on_redial:
            return self.voices[0]
        return self.voices[connected_unpaid_calls % len(self.voices)]


@dataclass(frozen=True)
class Stage:
    name: str
    min_dpd: int
    max_dpd: int | None            # None: no upper bound
    script: str                    # script id known to the bot (dialer/bot/scripts)
    handler: Handler = Handler.BOT
    voice: VoicePolicy = VoicePolicy()
    sms_triggers: tuple[str, ...] = ()
    retry: RetryRules = field(default_factory=default_retry_rules)
    min_amount_minor: int = 0      # outstanding amount bounds, minor units (fen, cents)
    max_amount_minor: int | None = None

    def matches(self, dpd: int, outstanding_minor: int) -> bool:
        if dpd < self.min_dpd or (self.max_dpd is not None and dpd > self.max_dpd):
            return False
        if outstanding_minor < self.min_amount_minor:
            return False
        return self.max_amount_minor is None or outstanding_minor <= self.max_amount_minor


@dataclass(frozen=True)
class StagePlan:
    """An ordered ladder of stages; later stages are more severe."""

    stages: tuple[Stage, ...]
    broken_promise_script: str = "broken_promise"

    def __post_init__(self) -> None:
        names = [stage.name for stage in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique, got {names}")
        if not self.stages:
            raise ValueError("a stage plan needs at least one stage")

    def named(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"no stage named {name!r} (known: {', '.join(s.name for s in self.stages)})")

    def index(self, name: str) -> int:
        return self.stages.index(self.named(name))

    def next_after(self, name: str) -> Stage | None:
        position = self.index(name)
        return self.stages[position + 1] if position + 1 < len(self.stages) else None

    def by_dpd(self, dpd: int, outstanding_minor: int) -> Stage | None:
        """The first stage (in ladder order) whose dpd and amount bounds hold."""
        for stage in self.stages:
            if stage.matches(dpd, outstanding_minor):
                return stage
        return None


def default_stage_plan() -> StagePlan:
    alternate = VoicePolicy(voices=("female", "male"), alternate_on_redial=True)
    return StagePlan(stages=(
        Stage("reminder", 1, 3, "reminder", voice=alternate,
              sms_triggers=("first_call_unpaid",)),
        Stage("willingness", 4, 5, "willingness", voice=alternate,
              sms_triggers=("first_call_unpaid", "suspension_notice")),
        Stage("escalation", 6, 8, "escalation", voice=alternate,
              sms_triggers=("suspension_notice", "legal_reminder")),
        Stage("final", 9, None, "final", handler=Handler.AGENT,
              sms_triggers=("legal_reminder",)),
    ))


@dataclass(frozen=True)
class AccountStanding:
    """What the strategy needs to know about one debt."""

    account_id: int
    due_date: date                 # the missed due date, in the debtor's calendar
    outstanding_minor: int         # still owed, minor units; <= 0 means paid
    pinned_stage: str | None = None  # set by a retry rule that moved the account ahead

    @property
    def paid(self) -> bool:
        return self.outstanding_minor <= 0


def dpd_on(due_date: date, today: date) -> int:
    """Days past due: 0 on or before the due date, 1 the day after."""
    return max(0, (today - due_date).days)


def local_today(now: datetime, zone: str) -> date:
    """The debtor's calendar date: dpd advances at the debtor's midnight, not the server's."""
    return ensure_utc(now).astimezone(ZoneInfo(zone)).date()


def stage_for(account: AccountStanding, today: date, plan: StagePlan) -> Stage | None:
    """The stage that applies today, or None when the account is not (or no longer) in campaign.

    A paid account leaves the campaign. A pinned stage (an account moved ahead by a disposition
    rule) is never undone by the daily advance: the later of the two stages wins.
    """
    if account.paid:
        return None
    by_dpd = plan.by_dpd(dpd_on(account.due_date, today), account.outstanding_minor)
    if account.pinned_stage is None:
        return by_dpd
    pinned = plan.named(account.pinned_stage)
    if by_dpd is None or plan.index(pinned.name) >= plan.index(by_dpd.name):
        return pinned
    return by_dpd


class StageMove(str, enum.Enum):
    ENTERED = "entered"
    MOVED = "moved"                 # usually ahead; back if a partial payment drops the amount band
    LEFT_PAID = "left_paid"
    LEFT_NOT_DUE = "left_not_due"   # e.g. the due date was moved by a restructuring


@dataclass(frozen=True)
class StageChange:
    account_id: int
    move: StageMove
    previous: str | None
    current: str | None


def advance_day(accounts: Iterable[tuple[AccountStanding, str | None]], today: date,
                plan: StagePlan) -> list[StageChange]:
    """The daily stage advance: `(account, stage it is in now)` pairs → the changes to apply."""
    changes: list[StageChange] = []
    for account, previous in accounts:
        stage = stage_for(account, today, plan)
        current = stage.name if stage is not None else None
        if current == previous:
            continue
        if current is None:
            move = StageMove.LEFT_PAID if account.paid else StageMove.LEFT_NOT_DUE
        elif previous is None:
            move = StageMove.ENTERED
        else:
            move = StageMove.MOVED
        changes.append(StageChange(account.account_id, move, previous, current))
    return changes
