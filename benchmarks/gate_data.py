"""A collection database at production scale for the gate benchmark, built with SQLAlchemy Core.

Shape (for `contacts` = 1,000,000):
- two running bot-only campaigns: `cn` (Asia/Shanghai, 92 % of debtors) and `us` (New York,
  Chicago, Denver, Los Angeles: 8 %);
- ~714,000 debtors with one account each; every debtor has one own number, 25 % a second own
  number, 15 % a third party (spouse, parent, ...): 1.4 contacts per debtor;
- a year of attempt history: 3 attempts per contact over the 365 days before the benchmark
  instant (3,000,000 rows, ~8,200 a day), all ended, with a collection outcome mix (no answer
  45 %, human 25 % of which 80 % conversations, machine 12 %, busy 8 %, rejected 5 %, failed 5 %);
  the last 14 days (what the gate loads) hold ~115,000 of them;
- 1 % of numbers on the global DNC list, 2 % of debtors with a consent record.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text

from dialer.db.models import Account, Attempt, Campaign, ConsentRecord, Debtor, DncEntry, PhoneContact
from dialer.domain import AttemptState, CampaignMode, CampaignState, ConsentKind, ContactOwner, Outcome

CHUNK = 10_000
US_ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
OUTCOMES = [(Outcome.NO_ANSWER, 45), (Outcome.HUMAN, 25), (Outcome.MACHINE, 12), (Outcome.BUSY, 8),
            (Outcome.REJECTED, 5), (Outcome.FAILED, 5)]


@dataclass(frozen=True)
class Shape:
    contacts: int
    attempts_per_contact: float = 3.0
    history_days: int = 365
    seed: int = 2026


@dataclass(frozen=True)
class Built:
    debtors: int
    contacts: int
    attempts: int
    targets: list[tuple[int, int, int]]   # (campaign, account, contact) a hopper could hand the gate


def build(engine: Engine, shape: Shape, now: datetime, *, log: Any = print) -> Built:
    rng = random.Random(shape.seed)
    with engine.begin() as conn:
        cn = _campaign(conn, "bench-cn", "cn", "zh-CN")
        us = _campaign(conn, "bench-us", "us", "en-US")
    debtors = round(shape.contacts / 1.4)
    contacts: list[tuple[int, int, str, bool, int]] = []   # contact id, debtor id, e164, third party, campaign
    accounts: dict[int, int] = {}
    with engine.begin() as conn:
        first_debtor = _next_id(conn, Debtor)
        first_contact = _next_id(conn, PhoneContact)
        first_account = _next_id(conn, Account)
        debtor_rows: list[dict[str, Any]] = []
        account_rows: list[dict[str, Any]] = []
        contact_rows: list[dict[str, Any]] = []
        for i in range(debtors):
            if len(debtor_rows) == 5 * CHUNK:  # in blocks, parents first, to bound memory
                _insert(conn, Debtor, debtor_rows)
                _insert(conn, Account, account_rows)
                _insert(conn, PhoneContact, contact_rows)
                debtor_rows, account_rows, contact_rows = [], [], []
            debtor_id, us_debtor = first_debtor + i, rng.random() < 0.08
            zones = [rng.choice(US_ZONES)] if us_debtor else ["Asia/Shanghai"]
            campaign = us if us_debtor else cn
            debtor_rows.append(dict(id=debtor_id, external_id=f"BD{i:08d}", full_name=f"Debtor {i}",
                                    language="en-US" if us_debtor else "zh-CN", created_at=now, updated_at=now))
            accounts[debtor_id] = first_account + i
            account_rows.append(dict(
                id=first_account + i, external_id=f"BA{i:08d}", debtor_id=debtor_id, campaign_id=campaign,
                currency="USD" if us_debtor else "CNY", amount_due_minor=rng.randint(100_00, 50_000_00),
                due_date=date(2026, 6, 1) + timedelta(days=rng.randint(0, 150)), days_past_due=rng.randint(1, 170),
                dpd_as_of=now.date(), status="open", priority=0.0, attempts_count=0, created_at=now, updated_at=now))
            kinds = [False] + ([False] if rng.random() < 0.25 else []) + ([True] if rng.random() < 0.15 else [])
            for rank, third in enumerate(kinds):
                if len(contacts) >= shape.contacts:
                    break
                contact_id = first_contact + len(contacts)
                e164 = _number(rng, us_debtor)
                contacts.append((contact_id, debtor_id, e164, third, campaign))
                contact_rows.append(dict(
                    id=contact_id, debtor_id=debtor_id, e164=e164,
                    owner=ContactOwner.THIRD_PARTY if third else ContactOwner.DEBTOR,
                    relation=rng.choice(["spouse", "parent", "sibling"]) if third else None, name=None, rank=rank,
                    time_zones=zones, zone_source="number", autodialer_consent=True, sms_consent=False,
                    valid=True, suppressed=False, consecutive_failures=0, created_at=now))
        _insert(conn, Debtor, debtor_rows)
        _insert(conn, Account, account_rows)
        _insert(conn, PhoneContact, contact_rows)
        log(f"{debtors:,} debtors and accounts, {len(contacts):,} contacts")
        _insert(conn, DncEntry, [dict(e164=c[2], campaign_id=None, reason="bench", source="import", created_at=now)
                                 for c in rng.sample(contacts, len(contacts) // 100)])
        _insert(conn, ConsentRecord, [
            dict(debtor_id=d, contact_id=None, kind=rng.choice([ConsentKind.DIRECT_CALL, ConsentKind.INCONVENIENT_TIME]),
                 window_start="12:00", window_end="13:30", valid_from=now - timedelta(days=rng.randint(1, 300)),
                 valid_until=None, source="bench", created_at=now)
            for d in rng.sample(range(first_debtor, first_debtor + debtors), debtors // 50)])
    total = round(shape.attempts_per_contact * len(contacts))
    with engine.begin() as conn:
        for done, batch in enumerate(_attempts(rng, contacts, accounts, total, shape.history_days, now)):
            conn.execute(insert(Attempt), batch)
            if done % 50 == 0:
                log(f"attempts: {done * CHUNK:,} / {total:,}")
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    targets = [(campaign, accounts[debtor], contact) for contact, debtor, _, _, campaign in contacts]
    rng.shuffle(targets)
    return Built(debtors=debtors, contacts=len(contacts), attempts=total, targets=targets)


def _attempts(rng: random.Random, contacts: list[tuple[int, int, str, bool, int]], accounts: dict[int, int],
              total: int, days: int, now: datetime) -> Iterator[list[dict[str, Any]]]:
    outcomes, weights = zip(*OUTCOMES)
    batch: list[dict[str, Any]] = []
    for _ in range(total):
        contact, debtor, e164, _third, campaign = contacts[rng.randrange(len(contacts))]
        placed = now - timedelta(seconds=rng.randint(3600, days * 86400))
        outcome = rng.choices(outcomes, weights)[0]
        talk = outcome is Outcome.HUMAN
        conversation = talk and rng.random() < 0.8
        ring = rng.uniform(3, 30)
        batch.append(dict(
            campaign_id=campaign, account_id=accounts[debtor], debtor_id=debtor, contact_id=contact, e164=e164,
            state=AttemptState.ENDED, outcome=outcome, placed_at=placed, ended_at=placed + timedelta(
                seconds=ring + (rng.uniform(20, 240) if talk else 0)), ring_timeout_s=30, ring_seconds=ring,
            talk_seconds=rng.uniform(20, 240) if talk else None, conversation=conversation, abandoned=False,
            live_agent_guaranteed=False, consented=False, dialer_node="history"))
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _campaign(conn: Connection, name: str, profile: str, language: str) -> int:
    return conn.execute(insert(Campaign).returning(Campaign.id), dict(
        name=name, profile=profile, mode=CampaignMode.BOT_ONLY, state=CampaignState.RUNNING,
        language=language, profile_overrides={}, strategy={})).scalar_one()


def _next_id(conn: Connection, model: Any) -> int:
    return (conn.scalar(select(model.id).order_by(model.id.desc()).limit(1)) or 0) + 1


def _insert(conn: Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(model), rows[start:start + CHUNK])
    if conn.dialect.name == "postgresql" and rows and "id" in rows[0]:
        # Ids were given explicitly: move the sequence past them so the gate's inserts don't collide.
        table = model.__table__.name
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))


def _number(rng: random.Random, us: bool) -> str:
    if us:
        return f"+1{rng.choice(['212', '312', '303', '415'])}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    return f"+86{rng.choice(['138', '139', '186', '159', '177'])}{rng.randint(0, 99_999_999):08d}"


def existing_targets(engine: Engine, *, seed: int = 2027) -> list[tuple[int, int, int]]:
    """Targets of a database built earlier (--reuse), minus contacts a benchmark run already dialled."""
    with engine.connect() as conn:
        dialled = set(conn.scalars(select(Attempt.contact_id).where(Attempt.dialer_node != "history")))
        rows = conn.execute(select(Account.campaign_id, Account.id, PhoneContact.id)
                            .join(PhoneContact, PhoneContact.debtor_id == Account.debtor_id)
                            .order_by(PhoneContact.id)).all()
    targets = [(campaign, account, contact) for campaign, account, contact in rows
               if campaign is not None and contact not in dialled]
    random.Random(seed).shuffle(targets)
    return targets
