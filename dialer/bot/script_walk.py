"""Walk every path of a script: script QA and the tests that drive the engine through a script.

The walk runs the real `DialogSession` and, at every question, tries each kind of answer a caller can
give (every intent, with and without a date, strong and weak, the right and a wrong verification
answer, keys, silence). Sessions that reach the same dialog state are explored once, so the walk is
bounded while every transition of the graph that any answer can take gets taken. Each step is
checked against the rules a script can never break at run time: nothing about the debt before
verification or to a third party, and every call ends in a hang-up or a transfer with a disposition.
"""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from dialer.bot.actions import (Action, CollectDigits, Done, Hangup, Keyed, Listen, Result, Say, Silence,
                                Transfer, Understood)
from dialer.bot.context import CallContext
from dialer.bot.engine import DialogSession
from dialer.bot.intents import Intent, Recognition
from dialer.bot.script import Script
from dialer.domain import Party


@dataclass
class WalkedCall:
    """One explored call from the start to its end, with the answers that drove it."""

    context: CallContext
    answers: list[Result]
    actions: list[Action]
    session: DialogSession


@dataclass
class WalkReport:
    calls: list[WalkedCall] = field(default_factory=list)
    transitions: set[tuple[str, str]] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)

    def untaken(self, script: Script) -> set[tuple[str, str]]:
        edges = {(n.name, t) for n in script.nodes.values() for t in script.successors(n)}
        return edges - self.transitions


def candidate_answers(context: CallContext, listen: Action) -> list[Result]:
    today = context.today
    soon, later = today + timedelta(days=2), today + timedelta(days=10)
    answers: list[Result] = [Silence()]
    for intent in Intent:
        if intent == Intent.SILENCE:
            continue
        answers.append(Understood(Recognition(intent, text=intent.value)))
    answers += [
        Understood(Recognition(Intent.PROMISE_NOW, "now", willingness=0.95, promised_date=today)),
        Understood(Recognition(Intent.PROMISE_LATER, "soon", willingness=0.8, promised_date=soon)),
        Understood(Recognition(Intent.PROMISE_LATER, "weak", willingness=0.35, promised_date=later)),
        Understood(Recognition(Intent.PROMISE_LATER, "asap", willingness=0.6)),
        Understood(Recognition(Intent.PARTIAL_PAYMENT, "part", willingness=0.65, amount=Decimal("10"),
                               promised_date=soon)),
        Understood(Recognition(Intent.NOT_UNDERSTOOD, "right answer", digits=context.verification_answer)),
        Understood(Recognition(Intent.NOT_UNDERSTOOD, "wrong answer", digits="0000")),
    ]
    if isinstance(listen, Listen):
        answers += [Keyed(key) for key in sorted(listen.keys)]
    if isinstance(listen, CollectDigits):
        answers.append(Keyed("13800138000"))
    return answers


def _state_key(session: DialogSession) -> tuple[object, ...]:
    record = session.record
    return (session._node.name if session._node else None, record.verified, record.party, record.promise is not None,
            tuple(sorted(session._misses.items())), record.disposition)


def _check(session: DialogSession, action: Action, where: str, report: WalkReport) -> None:
    record = session.record
    if isinstance(action, Say) and action.discloses:
        if not record.verified:
            report.violations.append(f"{where}: '{action.prompt_id}' discloses before verification")
        if record.party in (Party.THIRD_PARTY, Party.WRONG_NUMBER):
            report.violations.append(f"{where}: '{action.prompt_id}' discloses to a {record.party.value}")


def walk(script: Script, context: CallContext, max_states: int = 5000) -> WalkReport:
    report = WalkReport()
    first = DialogSession(script, context)
    action = first.start()
    queue: deque[tuple[DialogSession, Action | None, list[Result], list[Action]]] = deque(
        [(first, action, [], [action] if action else [])])
    seen: set[tuple[object, ...]] = set()
    while queue and len(seen) < max_states:
        session, action, answers, actions = queue.popleft()
        # Play out everything that needs no answer.
        while action is not None and not isinstance(action, (Listen, CollectDigits)):
            _check(session, action, f"{script.name}/{script.language} after {answers}", report)
            action = session.feed(Done())
            if action is not None:
                actions = actions + [action]
        _record_transitions(session, report)
        if action is None:
            _finish_checks(session, actions, report, script)
            report.calls.append(WalkedCall(context, answers, actions, session))
            continue
        key = _state_key(session)
        if key in seen:
            continue
        seen.add(key)
        for answer in candidate_answers(context, action):
            # The script and context are immutable: share them instead of copying per branch.
            branch = copy.deepcopy(session, {id(script): script, id(context): context})
            nxt = branch.feed(answer)
            queue.append((branch, nxt, answers + [answer], actions + ([nxt] if nxt else [])))
    return report


def _record_transitions(session: DialogSession, report: WalkReport) -> None:
    path = session.record.path
    report.transitions.update(zip(path, path[1:]))


def _finish_checks(session: DialogSession, actions: list[Action], report: WalkReport, script: Script) -> None:
    record = session.record
    last = actions[-1] if actions else None
    where = f"{script.name}/{script.language} path {' → '.join(record.path)}"
    if not isinstance(last, (Hangup, Transfer)):
        report.violations.append(f"{where}: ends without a hang-up or transfer ({last!r})")
    if record.disposition is None:
        report.violations.append(f"{where}: ends without a disposition")
    if record.opt_out and record.disposition is None:
        report.violations.append(f"{where}: opt-out without disposition")


def context_variants(base: CallContext) -> list[CallContext]:
    """One context per stage and reward setting, so every branch of the script is reachable."""
    thresholds = base.thresholds
    dpds = (thresholds.reminder_max_dpd, thresholds.willingness_max_dpd, thresholds.willingness_max_dpd + 3)
    return [replace(base, dpd=d, reward_offer=r) for d in dpds for r in (False, True)]


def walk_all(script: Script, base: CallContext) -> WalkReport:
    total = WalkReport()
    for context in context_variants(base):
        report = walk(script, context)
        total.calls += report.calls
        total.transitions |= report.transitions
        total.violations += report.violations
    return total


def example_context(language: str, today: date = date(2026, 11, 22)) -> CallContext:
    chinese = language.lower().startswith("zh")
    return CallContext(attempt_id="walk", campaign_id="walk", debtor_name="张伟" if chinese else "John Smith",
                       amount_due=Decimal("1234.50"), currency="CNY" if chinese else "USD",
                       due_date=today - timedelta(days=4), dpd=4, today=today, language=language,
                       verification_answer="1985", business_name="示例银行" if chinese else "Example Bank",
                       callback_number="4008101234", minimum_payment=Decimal("123.45"),
                       interest_amount=Decimal("12.30"))
