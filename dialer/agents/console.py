"""The agent's console: preview the next contact, place a preview or manual call, see the screen-pop.

Use cases only; the HTTP API (api.py) and `dialer agent next/call/skip/screen` are thin adapters.
Runs inside `dialer run`, next to the pacer, sharing its gate, telephony adapter and call tracker:

- a preview or manual call goes through the same `CallGate.decide` as every predictive dial: the
  attempt row is written with the allow decision and the adapter redeems the permit before it
  originates; a denied call is reported with the gate's reason and nothing is dialled;
- the agent's softphone rings first (`RoutePlan.agent_first`), the contact once the agent answered,
  and the tracker follows the call to its end like any other (one tracker per daemon);
- `next` holds the account for the agent (`Account.held_by = "agent:<name>"`) so neither the pacer's
  hopper nor another agent proposes it meanwhile; the hold expires by itself (`hold`).

Numbers are shown masked (`+86*********00`): the dialer dials, so the agent never needs the digits,
and a screen is a place numbers leak from (screenshots, shoulder-surfing). Amounts are shown in full:
they are what the agent talks about. See docs/agents.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from dialer.agents.views import account_view, call_view, handoff_context
from dialer.clock import Clock
from dialer.compliance.gate import CallGate, DialTarget
from dialer.compliance.permit import PermitRejected
from dialer.daemon.hopper import next_candidates
from dialer.db.models import Account, Agent, Attempt, AuditEntry, Campaign, PhoneContact, Queue
from dialer.db.session import transaction
from dialer.domain import CampaignMode, CampaignState
from dialer.telephony.interface import AsteriskError, AsteriskRefused, RingTimeoutTooShort, RoutePlan, Telephony
from dialer.telephony.tracker import CallTracker, TrackedCall

log = logging.getLogger(__name__)

AGENT_MODES = (CampaignMode.PREVIEW, CampaignMode.MANUAL)


class ConsoleError(Exception):
    """A request the console cannot serve; `status` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.details = details


class UnknownAgent(ConsoleError):
    status = 404


class NoCampaign(ConsoleError):
    status = 409


class NothingToPreview(ConsoleError):
    status = 404


class UnknownContact(ConsoleError):
    status = 404


class AgentBusy(ConsoleError):
    status = 409


class CallDenied(ConsoleError):
    """The compliance gate said no; `details` carry its reason code and when a call may be allowed."""

    status = 403


class TelephonyUnavailable(ConsoleError):
    status = 503


@dataclass(frozen=True)
class AgentSeat:
    id: int
    name: str
    endpoint: str             # PJSIP/agent3
    queue: str | None

    @property
    def device(self) -> str:
        """The name Asterisk's events give the agent (DialerConnected Agent: agent3)."""
        return self.endpoint.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class CallStarted:
    attempt_id: int
    campaign: str
    contact_id: int
    agent: str


class AgentConsole:
    def __init__(self, *, sessions: sessionmaker[Session], gate: CallGate, telephony: Telephony,
                 tracker: CallTracker, clock: Clock, dial_template: str = "",
                 hold: timedelta = timedelta(minutes=2), skip_defer: timedelta = timedelta(minutes=30)) -> None:
        self._sessions = sessions
        self._gate = gate
        self._telephony = telephony
        self._tracker = tracker
        self._clock = clock
        self._dial_template = dial_template
        self._hold = hold
        self._skip_defer = skip_defer

    # ---- preview ----------------------------------------------------------------------------

    def next_contact(self, agent_name: str, *, campaign: str | None = None) -> dict[str, Any]:
        """The account the agent should call next, held for them; the same one until they call or skip."""
        now = self._clock.now()
        with transaction(self._sessions) as session:
            seat = self._seat(session, agent_name)
            camp = self._campaign(session, seat, campaign)
            held = session.scalar(select(Account.id).where(
                Account.held_by == _holder(seat), Account.held_until > now, Account.campaign_id == camp.id))
            if held is None:
                busy = {c.debtor_id for c in self._tracker.calls_of(camp.id) if c.debtor_id is not None}
                found = next_candidates(session, camp.id, limit=1, now=now, exclude_debtors=busy,
                                        node=_holder(seat), hold=self._hold)
                if not found:
                    raise NothingToPreview(f"campaign {camp.name}: no account is due now", campaign=camp.name)
                held = found[0].account_id
                session.add(AuditEntry(at=now, actor=f"agent:{seat.name}", kind="preview_shown",
                                       campaign_id=camp.id, account_id=held, detail={}))
            account = session.get(Account, held)
            assert account is not None
            return {"agent": seat.name, "campaign": camp.name, "mode": camp.mode.value,
                    "held_until": (now + self._hold).isoformat(), **account_view(session, account, now=now)}

    def skip(self, agent_name: str, *, account_id: int, why: str = "") -> None:
        """The agent passes on a previewed account: released, and not proposed again for a while."""
        now = self._clock.now()
        with transaction(self._sessions) as session:
            seat = self._seat(session, agent_name)
            done = session.execute(update(Account).where(Account.id == account_id, Account.held_by == _holder(seat))
                                   .values(held_by=None, held_until=None, next_eligible_at=now + self._skip_defer))
            if done.rowcount == 0:  # type: ignore[attr-defined]
                raise UnknownContact(f"account {account_id} is not held by agent {seat.name} (ask for next first)")
            session.add(AuditEntry(at=now, actor=f"agent:{seat.name}", kind="preview_skipped", account_id=account_id,
                                   detail={"why": why[:200], "until": (now + self._skip_defer).isoformat()}))

    # ---- calls ------------------------------------------------------------------------------

    async def call(self, agent_name: str, *, contact_id: int | None = None, number: str | None = None,
                   campaign: str | None = None) -> CallStarted:
        """Preview (accept) or manual call: the agent's softphone first, then the contact, via the gate."""
        if (contact_id is None) == (number is None):
            raise ConsoleError("give either a contact id or a number")
        if not self._telephony.health().healthy:
            raise TelephonyUnavailable(f"Asterisk unreachable ({self._telephony.health().detail}): no call placed")
        with self._sessions() as session:
            seat = self._seat(session, agent_name)
            camp = self._campaign(session, seat, campaign)
            if self._call_of(seat) is not None:
                raise AgentBusy(f"agent {seat.name} is already on a call")
            contact, account = self._contact(session, camp, contact_id=contact_id, number=number)
            camp_id, camp_name, queue = camp.id, camp.name, seat.queue or (camp.queue.name if camp.queue else "")
            account_id, contact_pk, debtor_id, e164 = account.id, contact.id, account.debtor_id, contact.e164
        result = self._gate.decide(DialTarget(camp_id, account_id, contact_pk))
        if result.permit is None:
            decision = result.decision
            raise CallDenied(f"the compliance gate denied the call: {decision.detail}",
                             reason=decision.reason.value if decision.reason else "campaign_not_running",
                             next_allowed_at=decision.next_allowed_at.isoformat() if decision.next_allowed_at else None)
        permit = result.permit
        self._tracker.track(permit.attempt_id, campaign_id=camp_id, placed_at=permit.issued_at,
                            route=RoutePlan.agent_first(seat.endpoint, queue=queue).route, debtor_id=debtor_id,
                            agent=seat.device)
        with transaction(self._sessions) as session:
            session.execute(update(Account).where(Account.id == account_id, Account.held_by == _holder(seat))
                            .values(held_by=None, held_until=None))
            session.execute(update(Attempt).where(Attempt.id == permit.attempt_id).values(agent_id=seat.id))
        dial = self._dial_template.format(number=e164) if self._dial_template else None
        try:
            handle = await self._telephony.originate(permit, route=RoutePlan.agent_first(seat.endpoint, queue=queue),
                                                     dial=dial)
        except (PermitRejected, RingTimeoutTooShort, ValueError) as exc:
            self._tracker.originate_failed(permit.attempt_id, at=self._clock.now(), why=str(exc))
            raise ConsoleError(f"call not placed: {exc}") from None
        except AsteriskRefused as exc:
            # E.g. the agent's softphone is not registered: nothing was created, the contact was
            # not dialled; the attempt ends failed (it still counts, erring for the person called).
            self._tracker.originate_failed(permit.attempt_id, at=self._clock.now(), why=f"agent phone: {exc}")
            raise TelephonyUnavailable(f"Asterisk refused to ring {seat.endpoint} ({exc}): is the softphone "
                                       "registered?", attempt_id=permit.attempt_id) from None
        except (AsteriskError, OSError) as exc:
            # Ambiguous: Asterisk may have the channel. The attempt stays open until its events or
            # the daemon's next reconciliation with Asterisk decide (as for pacer dials).
            log.warning("agent call %s unconfirmed: %s", permit.attempt_id, exc)
            self._tracker.originating(permit.attempt_id, at=self._clock.now())
            raise TelephonyUnavailable(f"Asterisk did not confirm the call ({exc}); attempt {permit.attempt_id} "
                                       "is followed until Asterisk says how it ended") from None
        self._tracker.originating(permit.attempt_id, at=self._clock.now(), channel_id=handle.channel_id)
        return CallStarted(permit.attempt_id, camp_name, contact_pk, seat.name)

    # ---- screen-pop -------------------------------------------------------------------------

    async def screen(self, agent_name: str) -> dict[str, Any]:
        """What the agent's screen shows for the call they are on (or about to be on)."""
        with self._sessions() as session:
            seat = self._seat(session, agent_name)
        call = self._call_of(seat)
        if call is None:
            return {"agent": seat.name, "on_call": False}
        with self._sessions() as session:
            attempt = session.get(Attempt, call.attempt_id)
            if attempt is None:
                return {"agent": seat.name, "on_call": False}
            view = call_view(session, attempt, call, now=self._clock.now())
            channel_id = attempt.channel_id
        variables: Mapping[str, str] = {}
        if channel_id:
            try:
                variables = await self._telephony.channel_variables(channel_id, HANDOFF_VARIABLES)
            except AsteriskError as exc:
                log.warning("screen-pop for %s: channel variables unavailable: %s", seat.name, exc)
        return {"agent": seat.name, "on_call": True, **view, "handoff": handoff_context(variables)}

    # ---- lookups ----------------------------------------------------------------------------

    def _call_of(self, seat: AgentSeat) -> TrackedCall | None:
        for call in self._tracker.open_calls():
            if call.agent == seat.device or call.lifecycle.agent in (seat.device, seat.name):
                return call
        return None

    @staticmethod
    def _seat(session: Session, name: str) -> AgentSeat:
        agent = session.scalar(select(Agent).where(Agent.name == name, Agent.active.is_(True)))
        if agent is None:
            raise UnknownAgent(f"agent {name!r} unknown or inactive (dialer agent add {name} --endpoint ... --queue ...)")
        queue = session.get(Queue, agent.queue_id).name if agent.queue_id else None  # type: ignore[union-attr]
        return AgentSeat(agent.id, agent.name, agent.endpoint, queue)

    @staticmethod
    def _campaign(session: Session, seat: AgentSeat, name: str | None) -> Campaign:
        query = select(Campaign).where(Campaign.state == CampaignState.RUNNING)
        if name is not None:
            found = session.scalar(query.where(Campaign.name == name))
            if found is None:
                raise NoCampaign(f"campaign {name!r} is not running")
            return found
        # The agent's own queue decides: the running preview/manual campaign that queue works.
        candidates = list(session.scalars(query.join(Queue, Queue.id == Campaign.queue_id)
                                          .where(Queue.name == seat.queue, Campaign.mode.in_(AGENT_MODES))))
        if len(candidates) != 1:
            names = ", ".join(c.name for c in candidates) or "none"
            raise NoCampaign(f"agent {seat.name}: {len(candidates)} running preview/manual campaigns on queue "
                             f"{seat.queue!r} ({names}); name one with --campaign")
        return candidates[0]

    @staticmethod
    def _contact(session: Session, campaign: Campaign, *, contact_id: int | None,
                 number: str | None) -> tuple[PhoneContact, Account]:
        query = (select(PhoneContact, Account).join(Account, Account.debtor_id == PhoneContact.debtor_id)
                 .where(Account.campaign_id == campaign.id, Account.status == "open"))
        if contact_id is not None:
            query = query.where(PhoneContact.id == contact_id)
        else:
            digits = "".join(ch for ch in str(number) if ch.isdigit())
            query = query.where(or_(PhoneContact.e164 == str(number).strip(), PhoneContact.e164 == f"+{digits}"))
        row = session.execute(query.order_by(Account.priority.desc(), Account.id).limit(1)).first()
        if row is None:
            what = f"contact {contact_id}" if contact_id is not None else "that number"
            # A number not on file has no debtor, history or consent the gate could check.
            raise UnknownContact(f"{what} is not a number of an open account in campaign {campaign.name} "
                                 "(import it first: the gate needs the debtor's history and consent)")
        return row[0], row[1]


# The bot's hand-off context (dialer/bot/agi_dialog.py `_transfer`: DIALER_CTX_<key> per
# `DialogSession._agent_context` key) and its verdict, as set on the call's channel.
# tests/daemon/test_agent_handoff_keys.py keeps this list and the engine's keys in step.
HANDOFF_KEYS = ("attempt_id", "debtor", "stage", "dpd", "verified", "party", "intents", "willingness",
                "handoff_reason", "promise", "promise_amount", "promise_currency", "promise_due", "language")
HANDOFF_VARIABLES = ("DIALER_BOT_RESULT", "DIALER_BOT_DISPOSITION",
                     *(f"DIALER_CTX_{key.upper()}" for key in HANDOFF_KEYS))


def _holder(seat: AgentSeat) -> str:
    return f"agent:{seat.name}"
