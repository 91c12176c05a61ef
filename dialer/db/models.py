"""The data model. Alembic migrations in `migrations/` are the only source of the schema;
`tests/db/test_migrations.py` fails when these models and the migrations drift apart.

Conventions: money in integer minor units with an ISO 4217 currency (never float); instants in UTC
(`UTCDateTime`), each contact's zone(s) kept as IANA names; enums stored by value.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dialer.db.types import UTCDateTime, utcnow, value_enum
from dialer.domain import (
    AttemptState,
    CampaignMode,
    CampaignState,
    ConsentKind,
    ContactOwner,
    Outcome,
    Party,
    PromiseStatus,
    Route,
    SmsStatus,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Queue(Base):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    endpoint: Mapped[str] = mapped_column(String(120))  # e.g. PJSIP/agent1001
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    profile: Mapped[str] = mapped_column(String(40), default="cn")
    mode: Mapped[CampaignMode] = mapped_column(value_enum(CampaignMode), default=CampaignMode.PREDICTIVE)
    state: Mapped[CampaignState] = mapped_column(value_enum(CampaignState), default=CampaignState.DRAFT)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    telephony: Mapped[str] = mapped_column(String(8), default="ari")  # ari | ami
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    caller_id: Mapped[str | None] = mapped_column(String(32))  # one stable caller ID (no rotation)
    channel_limit: Mapped[int] = mapped_column(Integer, default=30)
    calls_per_second: Mapped[float] = mapped_column(Float, default=5.0)
    max_attempts_per_account: Mapped[int | None] = mapped_column(Integer)
    # Per-campaign tightening or widening of the profile (validated by dialer.compliance.profiles).
    profile_overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Hours the campaign itself runs, in the campaign's zone, on top of the profile's window.
    hours_start: Mapped[str | None] = mapped_column(String(5))
    hours_end: Mapped[str | None] = mapped_column(String(5))
    hours_zone: Mapped[str | None] = mapped_column(String(64))
    strategy: Mapped[dict[str, Any]] = mapped_column(default=dict)  # stages / retry rules overrides
    reward_offer: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    queue: Mapped[Queue | None] = relationship()


class Debtor(Base):
    __tablename__ = "debtors"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    language: Mapped[str | None] = mapped_column(String(8))
    # Identity check before disclosure: the bot asks for one of these (never speaks them).
    birth_year: Mapped[int | None] = mapped_column(Integer)
    id_last4: Mapped[str | None] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contacts: Mapped[list[PhoneContact]] = relationship(back_populates="debtor", order_by="PhoneContact.rank")
    accounts: Mapped[list[Account]] = relationship(back_populates="debtor")


class Account(Base):
    """One debt (a card or loan account) of a debtor, worked by at most one campaign at a time."""

    __tablename__ = "accounts"
    __table_args__ = (Index("ix_accounts_hopper", "campaign_id", "status", "next_eligible_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(80), unique=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    product: Mapped[str | None] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    amount_due_minor: Mapped[int] = mapped_column(BigInteger)
    minimum_payment_minor: Mapped[int | None] = mapped_column(BigInteger)
    due_date: Mapped[date] = mapped_column(Date)
    days_past_due: Mapped[int] = mapped_column(Integer)  # as of `dpd_as_of`; advanced daily
    dpd_as_of: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | paid | closed
    stage: Mapped[str | None] = mapped_column(String(40))
    script: Mapped[str | None] = mapped_column(String(40))  # for the next call (e.g. broken promise)
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    next_eligible_at: Mapped[datetime | None] = mapped_column()
    # Scale-out: the hopper of one daemon holds the account while its gate decides (SKIP LOCKED
    # claim); a hold that outlives a crashed daemon simply expires.
    held_by: Mapped[str | None] = mapped_column(String(80))
    held_until: Mapped[datetime | None] = mapped_column()
    attempts_count: Mapped[int] = mapped_column(Integer, default=0)
    paid_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    debtor: Mapped[Debtor] = relationship(back_populates="accounts")


class PhoneContact(Base):
    __tablename__ = "phone_contacts"
    __table_args__ = (UniqueConstraint("debtor_id", "e164"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    e164: Mapped[str] = mapped_column(String(20), index=True)
    owner: Mapped[ContactOwner] = mapped_column(value_enum(ContactOwner), default=ContactOwner.DEBTOR)
    relation: Mapped[str | None] = mapped_column(String(40))  # spouse, parent, employer, ...
    name: Mapped[str | None] = mapped_column(String(120))
    rank: Mapped[int] = mapped_column(Integer, default=0)  # dial order among the debtor's numbers
    # Every candidate IANA zone; the window must be open in all of them.
    time_zones: Mapped[list[Any]] = mapped_column(default=list)
    zone_source: Mapped[str] = mapped_column(String(12), default="number")  # file | number | default
    autodialer_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    suppressed_reason: Mapped[str | None] = mapped_column(String(80))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    unreachable_since: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    debtor: Mapped[Debtor] = relationship(back_populates="contacts")


class Attempt(Base):
    """One row per dial, written in the same transaction as the gate's allow decision."""

    __tablename__ = "attempts"
    __table_args__ = (
        Index("ix_attempts_debtor_placed", "debtor_id", "placed_at"),
        Index("ix_attempts_contact_placed", "contact_id", "placed_at"),
        Index("ix_attempts_campaign_placed", "campaign_id", "placed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("phone_contacts.id"))
    e164: Mapped[str] = mapped_column(String(20))
    state: Mapped[AttemptState] = mapped_column(value_enum(AttemptState), default=AttemptState.DECIDED, index=True)
    outcome: Mapped[Outcome | None] = mapped_column(value_enum(Outcome))
    placed_at: Mapped[datetime] = mapped_column()
    originated_at: Mapped[datetime | None] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column()
    connected_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    ring_timeout_s: Mapped[int] = mapped_column(Integer)
    ring_seconds: Mapped[float | None] = mapped_column(Float)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    wait_seconds: Mapped[float | None] = mapped_column(Float)  # answer to agent/bot connect
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    hangup_cause_text: Mapped[str | None] = mapped_column(String(80))
    amd_result: Mapped[str | None] = mapped_column(String(20))
    amd_cause: Mapped[str | None] = mapped_column(String(80))
    route: Mapped[Route | None] = mapped_column(value_enum(Route))
    queue: Mapped[str | None] = mapped_column(String(80))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    channel_id: Mapped[str | None] = mapped_column(String(120))
    asterisk_server: Mapped[str | None] = mapped_column(String(80))
    recording_path: Mapped[str | None] = mapped_column(String(255))
    conversation: Mapped[bool] = mapped_column(Boolean, default=False)  # effective conversation (RPC)
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)
    live_agent_guaranteed: Mapped[bool] = mapped_column(Boolean, default=False)
    consented: Mapped[bool] = mapped_column(Boolean, default=False)
    script: Mapped[str | None] = mapped_column(String(40))
    voice: Mapped[str | None] = mapped_column(String(40))
    dialer_node: Mapped[str | None] = mapped_column(String(80))  # which daemon placed it


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), unique=True)
    party: Mapped[Party] = mapped_column(value_enum(Party), default=Party.UNKNOWN)
    handled_by: Mapped[str] = mapped_column(String(12), default="bot")  # bot | agent
    language: Mapped[str | None] = mapped_column(String(8))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    disposition: Mapped[str | None] = mapped_column(String(40))
    intents: Mapped[list[Any]] = mapped_column(default=list)
    willingness: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    transcript: Mapped[list[Any]] = mapped_column(default=list)  # [{"who", "text", "at"}]
    opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    handoff_reason: Mapped[str | None] = mapped_column(String(40))
    callback_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PromiseToPay(Base):
    __tablename__ = "promises_to_pay"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    promised_date: Mapped[date] = mapped_column(Date)
    status: Mapped[PromiseStatus] = mapped_column(value_enum(PromiseStatus), default=PromiseStatus.OPEN)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()


class Payment(Base):
    """Repayments imported from the lender: they keep promises and take accounts out of campaigns."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    external_ref: Mapped[str | None] = mapped_column(String(80), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    paid_at: Mapped[datetime] = mapped_column()


class DncEntry(Base):
    """Do-not-call: `campaign_id` NULL means the global list."""

    __tablename__ = "dnc_entries"
    __table_args__ = (Index("ix_dnc_e164_campaign", "e164", "campaign_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(20))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    reason: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(40), default="cli")  # cli | import | bot | agent
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()


class ConsentRecord(Base):
    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("phone_contacts.id"))
    kind: Mapped[ConsentKind] = mapped_column(value_enum(ConsentKind, 24))
    window_start: Mapped[str | None] = mapped_column(String(5))  # HH:MM local, for WIDEN_WINDOW
    window_end: Mapped[str | None] = mapped_column(String(5))
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[datetime | None] = mapped_column()
    source: Mapped[str] = mapped_column(String(40), default="cli")
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsMessage(Base):
    __tablename__ = "sms_outbox"
    __table_args__ = (UniqueConstraint("account_id", "trigger"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("phone_contacts.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    e164: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str | None] = mapped_column(String(40))  # fires once per account and trigger
    template: Mapped[str] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[SmsStatus] = mapped_column(value_enum(SmsStatus), default=SmsStatus.QUEUED, index=True)
    send_after: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()
    gateway: Mapped[str | None] = mapped_column(String(40))
    gateway_ref: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportBatch(Base):
    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    kind: Mapped[str] = mapped_column(String(20))  # accounts | dnc | payments
    file_name: Mapped[str] = mapped_column(String(255))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class AuditEntry(Base):
    """Append-only: the migration installs triggers that reject UPDATE and DELETE on this table."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_campaign_at", "campaign_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))  # gate@node, cli:user, bot, agent:name
    kind: Mapped[str] = mapped_column(String(40))  # gate_decision | attempt | dnc | consent | export ...
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(Integer)
    contact_id: Mapped[int | None] = mapped_column(Integer)
    attempt_id: Mapped[int | None] = mapped_column(Integer)
    decision: Mapped[str | None] = mapped_column(String(8))  # allow | deny
    reason: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DialerNode(Base):
    """One `dialer run` process, as it last reported itself (a heartbeat every pacer tick)."""

    __tablename__ = "dialer_nodes"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    asterisk_server: Mapped[str] = mapped_column(String(80))
    channel_limit: Mapped[int] = mapped_column(Integer)   # of its Asterisk server, shared by its nodes
    live_calls: Mapped[int] = mapped_column(Integer, default=0)
    free_agents: Mapped[int] = mapped_column(Integer, default=0)
    pid: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignLease(Base):
    """Which node paces a campaign; taken over by another node once `expires_at` has passed."""

    __tablename__ = "campaign_leases"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    owner: Mapped[str] = mapped_column(String(80))
    acquired_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()


class DialGrant(Base):
    """Dial slots the campaign's pacing owner hands a node for one tick (claimed, then zero)."""

    __tablename__ = "dial_grants"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    node: Mapped[str] = mapped_column(String(80), primary_key=True)
    slots: Mapped[int] = mapped_column(Integer, default=0)
    granted_at: Mapped[datetime] = mapped_column()
