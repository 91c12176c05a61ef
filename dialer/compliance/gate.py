"""The one gate every dial passes: facts loaded, rules evaluated, attempt written, permit issued.

Cross-process contract (why this is safe with several dialer processes on one PostgreSQL): the
transaction first locks the debtors' rows (`SELECT … FOR UPDATE`, in debtor-id order; on SQLite
`BEGIN IMMEDIATE` serialises writers). Every cap is about one debtor (their numbers, their debts,
their third parties), so two processes deciding for the same debtor take turns, and the second one
sees the first one's attempt row, in flight, in its history. The allow decisions, the attempt rows
and the audit entries commit together or not at all; permits are only handed out after the commit.

`decide_many` decides a batch in one transaction with one statement per kind of fact: the
per-statement and per-commit costs, not the rules, bound the gate's rate (benchmarks/results/gate.md).
Each target still gets every check, on the facts as they are after the earlier targets of the same
batch: a debtor named twice is decided twice, in order, the second time with the first attempt in
its history (see `_rounds`). `decide` is a batch of one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import Clock
from dialer.compliance.decided import insert_attempts, insert_audit, update_accounts
from dialer.compliance.dossier import (
    CampaignRow, Dossier, Subject, consents_for, history_for, load_dossiers, lock_subjects, on_dnc, record_attempt)
from dialer.compliance.facts import DialRequest, PastAttempt
from dialer.compliance.permit import DialPermit, PermitAuthority
from dialer.compliance.profiles import PolicyProfile
from dialer.compliance.ring import ring_timeout_for
from dialer.compliance.rules import Decision, DenyReason, evaluate
from dialer.db.models import Campaign
from dialer.domain import AttemptState, CampaignState

# How far back the debtor's history is loaded at least; a profile with longer day-based rules asks
# for more (`PolicyProfile.history_lookback`). Calls still in flight are loaded at any age.
HISTORY_DAYS = 14

BudgetLookup = Callable[[int, datetime], "datetime | None"]
ProfileLookup = Callable[[Campaign], PolicyProfile]
UNKNOWN = "unknown or mismatched campaign/account/contact"


@dataclass(frozen=True)
class DialTarget:
    campaign_id: int
    account_id: int
    contact_id: int


@dataclass(frozen=True)
class GateResult:
    decision: Decision
    permit: DialPermit | None = None

    @property
    def allowed(self) -> bool:
        return self.permit is not None


@dataclass
class _Verdict:
    """One target's decision while the batch is being written."""

    decision: Decision
    subject: Subject | None = None
    ring_s: int = 0
    attempt_id: int | None = None



class CallGate:
    def __init__(self, *, sessions: sessionmaker[Session], profile_for: ProfileLookup,
                 authority: PermitAuthority, clock: Clock, node: str,
                 abandonment_budget: BudgetLookup | None = None, asterisk_server: str | None = None) -> None:
        # The gate runs Core statements on a connection of the sessions' engine, without an ORM
        # session: its bookkeeping was a fifth of the gate's CPU.
        bind = sessions.kw.get("bind")
        if not isinstance(bind, Engine):
            raise TypeError(f"CallGate needs sessions bound to an Engine (dialer.db.session.make_sessionmaker), "
                            f"got bind={bind!r}")
        self._engine: Engine = bind
        self._profile_for = profile_for
        self._profiles: dict[tuple[int, str, str, str], PolicyProfile] = {}
        self._authority = authority
        self._clock = clock
        self._node = node
        # Recorded on each attempt: a server's channel limit and reconciliation count its attempts.
        self._server = asterisk_server
        self._budget = abandonment_budget or (lambda _campaign_id, _now: None)

    def decide(self, target: DialTarget, *, requested_ring_s: int | None = None, script: str | None = None,
               voice: str | None = None) -> GateResult:
        """Decide one dial; on allow, the attempt row exists (state `decided`) and a permit is returned."""
        return self.decide_many([target], scripts=[script], requested_ring_s=requested_ring_s, voice=voice)[0]

    def decide_many(self, targets: Sequence[DialTarget], *, scripts: Sequence[str | None] | None = None,
                    requested_ring_s: int | None = None, voice: str | None = None) -> list[GateResult]:
        """Decide several dials in one transaction: results in the order of `targets`.

        Same checks, audit and permits as `decide` on each target in turn; a target repeated or
        sharing a debtor with an earlier one is judged with the earlier allows in its history."""
        if scripts is not None and len(scripts) != len(targets):
            raise ValueError(f"decide_many: {len(scripts)} scripts for {len(targets)} targets")
        if not targets:
            return []
        # Measured before the transaction: it reads the campaign's 30-day history on its own
        # connection (cached for seconds), and SQLite allows one writer at a time.
        budgets = {c: self._budget(c, self._clock.now()) for c in dict.fromkeys(t.campaign_id for t in targets)}
        with self._engine.begin() as conn:
            subjects = lock_subjects(conn, [(t.campaign_id, t.account_id, t.contact_id) for t in targets])
            # Read the clock only once the locks are held: a decision must be judged at the instant
            # it is made, after every earlier decision and call end for these debtors has committed.
            now = self._clock.now()
            profiles = {s.campaign.id: self._profile(s.campaign) for s in subjects.values()}
            lookback = {c: max(timedelta(days=HISTORY_DAYS), p.history_lookback()) for c, p in profiles.items()}
            dossier = load_dossiers(conn, list(subjects.values()), now, max(lookback.values(), default=timedelta()))
            verdicts: list[_Verdict | None] = [None] * len(targets)
            for round_ in _rounds(targets, subjects):
                allowed: list[int] = []
                for i in round_:
                    subject = subjects.get(_key(targets[i]))
                    verdicts[i] = self._judge(subject, dossier, profiles, lookback, budgets, now, requested_ring_s)
                    if verdicts[i].decision.allowed:  # type: ignore[union-attr]
                        allowed.append(i)
                self._write_attempts(conn, dossier, [(i, verdicts[i]) for i in allowed], scripts, voice, now)  # type: ignore[misc]
            done = [v for v in verdicts if v is not None]
            self._write_outcomes(conn, targets, done, now)
        return [self._result(v, now) for v in done]

    def _profile(self, campaign: CampaignRow) -> PolicyProfile:
        # The lookup takes a Campaign; keyed by the columns it reads, an edited campaign is looked up again.
        key = (campaign.id, campaign.name, campaign.profile, json.dumps(campaign.profile_overrides, sort_keys=True))
        if key not in self._profiles:
            self._profiles[key] = self._profile_for(Campaign(
                id=campaign.id, name=campaign.name, profile=campaign.profile, mode=campaign.mode,
                state=campaign.state, profile_overrides=campaign.profile_overrides))
        return self._profiles[key]

    def _judge(self, subject: Subject | None, dossier: Dossier, profiles: dict[int, PolicyProfile],
               lookback: dict[int, timedelta], budgets: dict[int, datetime | None], now: datetime,
               requested_ring_s: int | None) -> _Verdict:
        if subject is None:
            return _Verdict(Decision(False, None, None, UNKNOWN))
        campaign = subject.campaign
        if campaign.state is not CampaignState.RUNNING:
            return _Verdict(Decision(False, None, None, f"campaign is {campaign.state.value}"), subject)
        profile = profiles[campaign.id]
        request = _request(subject, dossier, now, now - lookback[campaign.id], budgets.get(campaign.id))
        decision = evaluate(request, profile, now)
        return _Verdict(decision, subject, ring_timeout_for(profile, requested_ring_s) if decision.allowed else 0)

    def _write_attempts(self, conn: Connection, dossier: Dossier, allowed: list[tuple[int, _Verdict]],
                        scripts: Sequence[str | None] | None, voice: str | None, now: datetime) -> None:
        if not allowed:
            return
        rows: list[dict[str, Any]] = []
        for i, verdict in allowed:
            subject = verdict.subject
            assert subject is not None
            rows.append(dict(
                campaign_id=subject.campaign.id, account_id=subject.account_id, debtor_id=subject.debtor_id,
                contact_id=subject.contact_id, e164=subject.e164, state=AttemptState.DECIDED, placed_at=now,
                ring_timeout_s=verdict.ring_s, live_agent_guaranteed=subject.campaign.mode.live_agent_guaranteed,
                consented=verdict.decision.consent_excluded, script=scripts[i] if scripts is not None else None,
                voice=voice, dialer_node=self._node, asterisk_server=self._server))
        ids = insert_attempts(conn, rows)
        for (_, verdict), attempt_id, row in zip(allowed, ids, rows, strict=True):
            verdict.attempt_id = attempt_id
            subject = verdict.subject
            assert subject is not None
            # What a re-read inside this transaction would show the batch's later decisions.
            record_attempt(dossier, subject, PastAttempt(
                attempt_id=attempt_id, contact_id=subject.contact_id, e164=subject.e164,
                account_id=subject.account_id, campaign_id=subject.campaign.id, placed_at=now, outcome=None,
                live_agent_guaranteed=row["live_agent_guaranteed"], consented=row["consented"],
                owner=subject.owner, time_zones=subject.time_zones))

    def _write_outcomes(self, conn: Connection, targets: Sequence[DialTarget], verdicts: list[_Verdict],
                        now: datetime) -> None:
        """Audit every decision; park accounts on a denial with a reason, count allowed attempts."""
        update_accounts(conn, [
            (t.account_id, 1, None) if v.decision.allowed else (t.account_id, 0, v.decision.next_allowed_at)
            for t, v in zip(targets, verdicts, strict=True) if v.decision.allowed or v.decision.reason is not None])
        insert_audit(conn, [_audit_row(self._node, t, v, now) for t, v in zip(targets, verdicts, strict=True)])

    def _result(self, verdict: _Verdict, now: datetime) -> GateResult:
        if not verdict.decision.allowed:
            return GateResult(verdict.decision)
        subject = verdict.subject
        assert subject is not None and verdict.attempt_id is not None
        permit = self._authority.issue(
            attempt_id=verdict.attempt_id, campaign_id=subject.campaign.id, contact_id=subject.contact_id,
            e164=subject.e164, ring_timeout_s=verdict.ring_s,
            live_agent_required=subject.campaign.mode.live_agent_guaranteed, now=now)
        return GateResult(verdict.decision, permit)


def _key(target: DialTarget) -> tuple[int, int, int]:
    return target.campaign_id, target.account_id, target.contact_id


def _rounds(targets: Sequence[DialTarget], subjects: dict[tuple[int, int, int], Subject]) -> list[list[int]]:
    """Target indexes grouped so that a round names each debtor at most once: the k-th target of a
    debtor goes in round k, and is decided after the attempts of rounds < k are written."""
    rounds: list[list[int]] = []
    seen: dict[int, int] = {}
    for i, target in enumerate(targets):
        subject = subjects.get(_key(target))
        k = 0
        if subject is not None:
            k = seen.get(subject.debtor_id, 0)
            seen[subject.debtor_id] = k + 1
        while len(rounds) <= k:
            rounds.append([])
        rounds[k].append(i)
    return rounds


def _request(subject: Subject, dossier: Dossier, now: datetime, since: datetime,
             budget_restored_at: datetime | None) -> DialRequest:
    agreements, inconvenient, consent_given, consent_until = consents_for(
        dossier, subject.debtor_id, subject.contact_id, now)
    own_numbers = dossier.own_numbers.get(subject.debtor_id, [])
    unreachable = [since_ for valid, since_ in own_numbers if valid]
    return DialRequest(
        campaign_id=subject.campaign.id, campaign_mode=subject.campaign.mode, account_id=subject.account_id,
        debtor_id=subject.debtor_id, contact_id=subject.contact_id, e164=subject.e164, owner=subject.owner,
        time_zones=subject.time_zones, valid_number=subject.valid, suppressed=subject.suppressed,
        on_dnc=on_dnc(dossier, subject.contact_id, subject.campaign.id),
        campaign_attempts_on_account=dossier.in_campaign_on_account.get((subject.account_id, subject.campaign.id), 0),
        lifetime_attempts_on_contact=dossier.lifetime_on_contact.get(subject.contact_id, 0),
        inconvenient_times=inconvenient, window_agreements=agreements,
        direct_consent_given_at=consent_given, direct_consent_until=consent_until,
        # Unreachable since: when the last still-valid own number became unreachable (all must be).
        debtor_unreachable_since=max(unreachable) if unreachable and all(unreachable) else None,  # type: ignore[type-var]
        debtor_numbers_all_invalid=bool(own_numbers) and not any(valid for valid, _ in own_numbers),
        history=history_for(dossier, subject.debtor_id, since),
        abandonment_budget_restored_at=budget_restored_at,
    )


def _audit_row(node: str, target: DialTarget, verdict: _Verdict, now: datetime) -> dict[str, Any]:
    decision = verdict.decision
    return dict(
        at=now, actor=f"gate@{node}", kind="gate_decision", campaign_id=target.campaign_id,
        account_id=target.account_id, contact_id=target.contact_id, attempt_id=verdict.attempt_id,
        decision="allow" if decision.allowed else "deny",
        reason=decision.reason.value if isinstance(decision.reason, DenyReason) else None,
        detail={"detail": decision.detail[:500],
                "next_allowed_at": decision.next_allowed_at.isoformat() if decision.next_allowed_at else None,
                "consent_excluded": decision.consent_excluded})
