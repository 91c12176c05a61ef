"""The one gate every dial passes: facts loaded, rules evaluated, attempt written, permit issued.

Cross-process contract (why this is safe with several dialer processes on one PostgreSQL): the
transaction first locks the debtor's row (`SELECT … FOR UPDATE`; on SQLite `BEGIN IMMEDIATE`
serialises writers). Every cap is about one debtor (their numbers, their debts, their third
parties), so two processes deciding for the same debtor take turns, and the second one sees the
first one's attempt row, in flight, in its history. The allow decision, the attempt row and the
audit entry commit together or not at all; the permit is only handed out after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import Clock
from dialer.compliance.facts import DialRequest, PastAttempt, WindowAgreement
from dialer.compliance.permit import DialPermit, PermitAuthority
from dialer.compliance.profiles import PolicyProfile
from dialer.compliance.ring import ring_timeout_for
from dialer.compliance.rules import Decision, DenyReason, evaluate
from dialer.db.models import Account, Attempt, AuditEntry, Campaign, ConsentRecord, Debtor, DncEntry, PhoneContact
from dialer.domain import AttemptState, CampaignState, ConsentKind, ContactOwner

# How far back the debtor's history is loaded at least; a profile with longer day-based rules asks
# for more (`PolicyProfile.history_lookback`). Calls still in flight are loaded at any age.
HISTORY_DAYS = 14

BudgetLookup = Callable[[int, datetime], "datetime | None"]
ProfileLookup = Callable[[Campaign], PolicyProfile]


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


class CallGate:
    def __init__(self, *, sessions: sessionmaker[Session], profile_for: ProfileLookup,
                 authority: PermitAuthority, clock: Clock, node: str,
                 abandonment_budget: BudgetLookup | None = None, asterisk_server: str | None = None) -> None:
        self._sessions = sessions
        self._profile_for = profile_for
        self._authority = authority
        self._clock = clock
        self._node = node
        # Recorded on each attempt: a server's channel limit and reconciliation count its attempts.
        self._server = asterisk_server
        self._budget = abandonment_budget or (lambda _campaign_id, _now: None)

    def decide(self, target: DialTarget, *, requested_ring_s: int | None = None, script: str | None = None,
               voice: str | None = None) -> GateResult:
        """Decide one dial; on allow, the attempt row exists (state `decided`) and a permit is returned."""
        # Measured before the transaction: it reads the campaign's 30-day history on its own
        # connection (cached for seconds), and SQLite allows one writer at a time.
        budget_restored_at = self._budget(target.campaign_id, self._clock.now())
        with self._sessions() as session, session.begin():
            loaded = _load(session, target, self._clock, self._profile_for)
            now = self._clock.now() if isinstance(loaded, Decision) else loaded[3]
            if isinstance(loaded, Decision):
                _audit(session, self._node, target, loaded, None, now)
                return GateResult(loaded)
            campaign, contact, request, now = loaded
            request = _with_budget(request, budget_restored_at)
            profile = self._profile_for(campaign)
            if campaign.state is not CampaignState.RUNNING:
                decision = Decision(False, None, None, f"campaign is {campaign.state.value}")
            else:
                decision = evaluate(request, profile, now)
            if not decision.allowed:
                _audit(session, self._node, target, decision, None, now)
                if decision.reason is not None:
                    session.execute(_PARK, {"account_id": target.account_id, "next_at": decision.next_allowed_at})
                return GateResult(decision)
            ring_s = ring_timeout_for(profile, requested_ring_s)
            attempt = Attempt(
                campaign_id=campaign.id, account_id=target.account_id, debtor_id=contact.debtor_id,
                contact_id=contact.id, e164=contact.e164, state=AttemptState.DECIDED, placed_at=now,
                ring_timeout_s=ring_s, live_agent_guaranteed=campaign.mode.live_agent_guaranteed,
                consented=decision.consent_excluded, script=script, voice=voice, dialer_node=self._node,
                asterisk_server=self._server,
            )
            session.add(attempt)
            session.flush()
            session.execute(_COUNT_ATTEMPT, {"account_id": target.account_id})
            _audit(session, self._node, target, decision, attempt.id, now)
            permit = self._authority.issue(
                attempt_id=attempt.id, campaign_id=campaign.id, contact_id=contact.id, e164=contact.e164,
                ring_timeout_s=ring_s, live_agent_required=campaign.mode.live_agent_guaranteed, now=now)
        return GateResult(decision, permit)


# Statements are built once: composing a SELECT costs more CPU than running it on an indexed table
# (profiled: the gate spent a third of its time in SQLAlchemy's expression construction).
_LOAD = (
    select(PhoneContact, Account, Campaign)
    .join(Debtor, Debtor.id == PhoneContact.debtor_id)
    .join(Account, (Account.id == bindparam("account_id")) & (Account.debtor_id == PhoneContact.debtor_id))
    .join(Campaign, Campaign.id == bindparam("campaign_id"))
    .where(PhoneContact.id == bindparam("contact_id"))
    .with_for_update(of=Debtor))
_COUNTS = select(
    select(func.count(DncEntry.id)).where(
        DncEntry.e164 == bindparam("e164"),
        or_(DncEntry.campaign_id.is_(None), DncEntry.campaign_id == bindparam("campaign_id")),
        or_(DncEntry.expires_at.is_(None), DncEntry.expires_at > bindparam("now"))).scalar_subquery(),
    select(func.count(Attempt.id)).where(Attempt.contact_id == bindparam("contact_id")).scalar_subquery(),
    select(func.count(Attempt.id)).where(
        Attempt.account_id == bindparam("account_id"), Attempt.campaign_id == bindparam("campaign_id")
    ).scalar_subquery())
_OWN_NUMBERS = (select(PhoneContact.valid, PhoneContact.unreachable_since)
                .where(PhoneContact.debtor_id == bindparam("debtor_id"), PhoneContact.owner == ContactOwner.DEBTOR))
_CONSENTS = (select(ConsentRecord)
             .where(ConsentRecord.debtor_id == bindparam("debtor_id"),
                    or_(ConsentRecord.contact_id.is_(None), ConsentRecord.contact_id == bindparam("contact_id")))
             .order_by(ConsentRecord.valid_from))
# Plain columns, not Attempt entities: the rules need a dozen fields, and building full ORM
# objects for every row of the history cost more than the query itself.
_HISTORY = (
    select(Attempt.id, Attempt.contact_id, Attempt.e164, Attempt.account_id, Attempt.campaign_id,
           Attempt.placed_at, Attempt.outcome, Attempt.conversation, Attempt.abandoned,
           Attempt.live_agent_guaranteed, Attempt.consented, Attempt.ended_at,
           PhoneContact.owner, PhoneContact.time_zones)
    .join(PhoneContact, PhoneContact.id == Attempt.contact_id)
    .where(Attempt.debtor_id == bindparam("debtor_id"),
           or_(Attempt.placed_at >= bindparam("since"), Attempt.outcome.is_(None))))
_PARK = (update(Account).where(Account.id == bindparam("account_id"))
         .values(next_eligible_at=bindparam("next_at")).execution_options(synchronize_session=False))
_COUNT_ATTEMPT = (update(Account).where(Account.id == bindparam("account_id"))
                  .values(attempts_count=Account.attempts_count + 1, next_eligible_at=None)
                  .execution_options(synchronize_session=False))


def _load(session: Session, target: DialTarget, clock: Clock,
          profile_for: ProfileLookup) -> tuple[Campaign, PhoneContact, DialRequest, datetime] | Decision:
    # One statement loads the three rows and takes the serialisation point: all decisions for one
    # debtor take turns (see module docstring). Statements, not rows, bound the gate's rate (see
    # benchmarks/results/gate.md). No row: unknown ids, or an account of another debtor.
    row = session.execute(_LOAD, {"account_id": target.account_id, "campaign_id": target.campaign_id,
                                  "contact_id": target.contact_id}).first()
    if row is None:
        return Decision(False, None, None, "unknown or mismatched campaign/account/contact")
    contact, account, campaign = row
    # Read the clock only once the lock is held: a decision must be judged at the instant it is
    # made, after every earlier decision and call end for this debtor has committed.
    now = clock.now()
    lookback = max(timedelta(days=HISTORY_DAYS), profile_for(campaign).history_lookback())
    history = _history(session, contact.debtor_id, now, lookback)
    on_dnc, lifetime, in_campaign = session.execute(_COUNTS, {
        "e164": contact.e164, "campaign_id": campaign.id, "now": now, "contact_id": contact.id,
        "account_id": account.id}).one()
    own_numbers = session.execute(_OWN_NUMBERS, {"debtor_id": contact.debtor_id}).all()
    unreachable = [since for valid, since in own_numbers if valid]
    consents = session.scalars(_CONSENTS, {"debtor_id": contact.debtor_id, "contact_id": contact.id}).all()
    agreements, inconvenient, consent_given, consent_until = _consents(consents, now)
    request = DialRequest(
        campaign_id=campaign.id, campaign_mode=campaign.mode, account_id=account.id,
        debtor_id=contact.debtor_id, contact_id=contact.id, e164=contact.e164, owner=contact.owner,
        time_zones=tuple(contact.time_zones or ()), valid_number=contact.valid, suppressed=contact.suppressed,
        on_dnc=on_dnc > 0, campaign_attempts_on_account=in_campaign, lifetime_attempts_on_contact=lifetime,
        inconvenient_times=inconvenient, window_agreements=agreements,
        direct_consent_given_at=consent_given, direct_consent_until=consent_until,
        # Unreachable since: when the last still-valid own number became unreachable (all must be).
        debtor_unreachable_since=max(unreachable) if unreachable and all(unreachable) else None,
        debtor_numbers_all_invalid=bool(own_numbers) and not any(valid for valid, _ in own_numbers),
        history=history,
    )
    return campaign, contact, request, now


def _history(session: Session, debtor_id: int, now: datetime, lookback: timedelta) -> tuple[PastAttempt, ...]:
    rows = session.execute(_HISTORY, {"debtor_id": debtor_id, "since": now - lookback}).all()
    return tuple(
        PastAttempt(
            attempt_id=a.id, contact_id=a.contact_id, e164=a.e164, account_id=a.account_id,
            campaign_id=a.campaign_id, placed_at=a.placed_at, outcome=a.outcome,
            conversation=a.conversation, abandoned=a.abandoned, live_agent_guaranteed=a.live_agent_guaranteed,
            consented=a.consented, owner=a.owner, ended_at=a.ended_at, time_zones=tuple(a.time_zones or ()),
        )
        for a in rows
    )


def _consents(records: list[ConsentRecord], now: datetime) -> tuple[
        tuple[WindowAgreement, ...], tuple[tuple[time, time], ...], datetime | None, datetime | None]:
    """Consent records in force now; a revocation cancels every consent recorded before it."""
    revoked_at = max((r.valid_from for r in records if r.kind is ConsentKind.REVOKED), default=None)
    live = [r for r in records if r.kind is not ConsentKind.REVOKED
            and (revoked_at is None or r.valid_from > revoked_at)]
    agreements = tuple(
        WindowAgreement(_clock_time(r.window_start), _clock_time(r.window_end), r.valid_from, r.valid_until)
        for r in live if r.kind is ConsentKind.WIDEN_WINDOW and r.window_start and r.window_end)
    # Consumer-named inconvenient times are hard blocks even after a revocation of consents.
    inconvenient = tuple(
        (_clock_time(r.window_start), _clock_time(r.window_end)) for r in records
        if r.kind is ConsentKind.INCONVENIENT_TIME and r.window_start and r.window_end
        and (r.valid_until is None or r.valid_until > now))
    direct = [r for r in live if r.kind is ConsentKind.DIRECT_CALL and r.valid_from <= now]
    latest = max(direct, key=lambda r: r.valid_from, default=None)
    return agreements, inconvenient, latest.valid_from if latest else None, latest.valid_until if latest else None


def _clock_time(text: str) -> time:
    return time.fromisoformat(text)


def _with_budget(request: DialRequest, restored_at: datetime | None) -> DialRequest:
    if restored_at is None:
        return request
    return replace(request, abandonment_budget_restored_at=restored_at)


def _audit(session: Session, node: str, target: DialTarget, decision: Decision, attempt_id: int | None,
           now: datetime) -> None:
    session.add(AuditEntry(
        at=now, actor=f"gate@{node}", kind="gate_decision", campaign_id=target.campaign_id,
        account_id=target.account_id, contact_id=target.contact_id, attempt_id=attempt_id,
        decision="allow" if decision.allowed else "deny",
        reason=decision.reason.value if isinstance(decision.reason, DenyReason) else None,
        detail={"detail": decision.detail[:500],
                "next_allowed_at": decision.next_allowed_at.isoformat() if decision.next_allowed_at else None,
                "consent_excluded": decision.consent_excluded},
    ))
