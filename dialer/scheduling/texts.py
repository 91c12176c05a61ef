"""Plan the seed-001 texts each account's stage calls for, and queue them in the outbox.

Planning is the pure `plan_sms` over facts read here; firing once per account and trigger is held
by the outbox's unique key. Sending (`dialer.sms.outbox.send_due`) rechecks the window at send time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialer.compliance.book import ProfileBook
from dialer.compliance.windows import ContactHours
from dialer.db.models import Account, Attempt, Campaign, Debtor, DncEntry, PhoneContact, SmsMessage
from dialer.db.session import transaction
from dialer.domain import CampaignState, ContactOwner, Outcome
from dialer.money import Money
from dialer.scheduling.lookups import paid_by_account, plans_for
from dialer.sms.outbox import Recipient, queue_plan, texts_to_debtor
from dialer.sms.templates import LANGUAGES, BillFacts, TemplateCatalog, default_catalog
from dialer.sms.triggers import DEFAULT_TRIGGERS, SmsAccountState, plan_sms
from dialer.sms.window import ProfileSendingWindow, SendingWindow, SmsCaps, TextWindow


@dataclass(frozen=True)
class Sender:
    """Who the texts come from: what `BillFacts` needs beyond the account. No defaults: a text
    naming the wrong creditor is worse than no text."""

    creditor: str
    pay_how: str
    contact_phone: str
    disclosure: str = ""                 # en-US third-party collectors (15 U.S.C. 1692e(11))
    hours: tuple[time, time] = (time(8), time(21))   # inside every profile's calling window
    caps: SmsCaps = SmsCaps()


@dataclass(frozen=True)
class PlanResult:
    considered: int
    queued: int


def plan_texts(sessions: sessionmaker[Session], *, now: datetime, sender: Sender, book: ProfileBook,
               catalog: TemplateCatalog | None = None, batch: int = 500) -> PlanResult:
    """Queue the texts due for open accounts of running campaigns, `batch` per transaction."""
    catalog = catalog or default_catalog()
    considered = queued = 0
    last_id = 0
    while True:
        with transaction(sessions) as session:
            accounts = list(session.scalars(
                select(Account).join(Campaign, Campaign.id == Account.campaign_id)
                .where(Campaign.state == CampaignState.RUNNING, Account.status == "open",
                       Account.stage.is_not(None), Account.id > last_id)
                .order_by(Account.id).limit(batch)))
            if not accounts:
                break
            last_id = accounts[-1].id
            due = _with_unfired_triggers(session, accounts)
            considered += len(due)
            queued += _plan_batch(session, due, now=now, sender=sender, book=book, catalog=catalog)
    return PlanResult(considered, queued)


_Due = tuple[Account, tuple[str, ...], frozenset[str]]   # account, stage triggers, fired ones


def _with_unfired_triggers(session: Session, accounts: list[Account]) -> list[_Due]:
    """Accounts whose stage lists a trigger not yet fired whose dpd threshold is met: the only
    ones worth the per-account reads below (most accounts have fired theirs already)."""
    plans = plans_for(session, {a.campaign_id for a in accounts if a.campaign_id is not None})
    fired: dict[int, set[str]] = defaultdict(set)
    for account_id, trigger in session.execute(
            select(SmsMessage.account_id, SmsMessage.trigger)
            .where(SmsMessage.account_id.in_([a.id for a in accounts]),
                   SmsMessage.trigger.is_not(None))):
        if account_id is not None and trigger is not None:
            fired[account_id].add(trigger)
    min_dpd = {t.name: t.min_dpd for t in DEFAULT_TRIGGERS}
    due = []
    for account in accounts:
        assert account.campaign_id is not None
        _, plan = plans[account.campaign_id]
        if account.stage not in {s.name for s in plan.stages}:
            continue
        active = plan.named(account.stage).sms_triggers
        if any(t not in fired[account.id] and account.days_past_due >= min_dpd.get(t, 1)
               for t in active):
            due.append((account, active, frozenset(fired[account.id])))
    return due


def _plan_batch(session: Session, due: list[_Due], *, now: datetime, sender: Sender,
                book: ProfileBook, catalog: TemplateCatalog) -> int:
    if not due:
        return 0
    ids = [a.id for a, _, _ in due]
    completed: dict[int, int] = {account_id: count for account_id, count in session.execute(
        select(Attempt.account_id, func.count(Attempt.id))
        .where(Attempt.account_id.in_(ids), Attempt.outcome.is_not(None),
               Attempt.outcome != Outcome.CANCELLED)
        .group_by(Attempt.account_id))}
    paid = paid_by_account(session, ids)
    contacts = _textable_contacts(session, [a for a, _, _ in due])
    languages = {debtor_id: language for debtor_id, language in session.execute(
        select(Debtor.id, Debtor.language).where(Debtor.id.in_({a.debtor_id for a, _, _ in due})))}
    queued = 0
    for account, active, fired in due:
        campaign = session.get_one(Campaign, account.campaign_id)
        contact = contacts.get(account.id)
        language = _language(languages.get(account.debtor_id), campaign.language)
        outstanding = account.amount_due_minor - paid.get(account.id, 0)
        state = SmsAccountState(account.id, account.days_past_due, paid=outstanding <= 0,
                                completed_calls=completed.get(account.id, 0),
                                may_text=contact is not None and language is not None,
                                fired=fired)
        if contact is None or language is None:
            continue
        zones = tuple(str(z) for z in contact.time_zones)
        plan = plan_sms(state, active, now=now, window=window_for(book, campaign, sender)(zones),
                        caps=sender.caps, sent_to_debtor=texts_to_debtor(session, account.debtor_id))
        recipient = Recipient(account.id, contact.id, campaign.id, contact.e164, language)
        facts = _facts(account, sender, outstanding)
        if queue_plan(session, plan, recipient, catalog=catalog, facts=facts, now=now) is not None:
            queued += 1
    return queued


def window_for(book: ProfileBook, campaign: Campaign, sender: Sender
               ) -> Callable[[tuple[str, ...]], TextWindow]:
    """Texts keep the campaign profile's calling window (quiet hours, holidays) in every candidate
    zone, narrowed to the sender's hours."""
    profile = book.for_campaign(campaign)

    def window(zones: tuple[str, ...]) -> TextWindow:
        return ProfileSendingWindow(profile.windows, ContactHours(zones=zones),
                                    campaign=SendingWindow(sender.hours[0], sender.hours[1], zones))

    return window


def _textable_contacts(session: Session, accounts: list[Account]) -> dict[int, PhoneContact]:
    """Per account, the debtor's own best number with SMS consent and a known zone, not on a
    do-not-call list (global or the account's campaign).

    Never a third party's number: a collection text tells whoever reads it that a debt exists.
    """
    by_debtor: dict[int, list[PhoneContact]] = defaultdict(list)
    for contact in session.scalars(
            select(PhoneContact).where(PhoneContact.debtor_id.in_({a.debtor_id for a in accounts}),
                                       PhoneContact.owner == ContactOwner.DEBTOR,
                                       PhoneContact.sms_consent.is_(True),
                                       PhoneContact.valid.is_(True),
                                       PhoneContact.suppressed.is_(False))
            .order_by(PhoneContact.rank, PhoneContact.id)):
        if contact.time_zones:
            by_debtor[contact.debtor_id].append(contact)
    numbers = {c.e164 for contacts in by_debtor.values() for c in contacts}
    blocked: dict[str, set[int | None]] = defaultdict(set)
    if numbers:
        for e164, campaign_id in session.execute(select(DncEntry.e164, DncEntry.campaign_id)
                                                 .where(DncEntry.e164.in_(numbers))):
            blocked[e164].add(campaign_id)
    chosen: dict[int, PhoneContact] = {}
    for account in accounts:
        for contact in by_debtor.get(account.debtor_id, []):
            lists = blocked.get(contact.e164, set())
            if None not in lists and account.campaign_id not in lists:
                chosen[account.id] = contact
                break
    return chosen


def _language(debtor_language: str | None, campaign_language: str) -> str | None:
    for language in (debtor_language, campaign_language):
        if language in LANGUAGES:
            return language
    return None


def _facts(account: Account, sender: Sender, outstanding: int) -> BillFacts:
    digits = "".join(ch for ch in account.external_id if ch.isdigit())
    # the last digits of the lender's own account reference; our row id when it has none
    tail = digits[-4:] if len(digits) >= 2 else f"{account.id:04d}"[-4:]
    owed = max(0, outstanding)
    minimum = owed if account.minimum_payment_minor is None else min(account.minimum_payment_minor, owed)
    return BillFacts(
        creditor=sender.creditor, account_tail=tail, amount_due=Money(owed, account.currency),
        minimum_payment=Money(minimum, account.currency),
        dpd=account.days_past_due, due_date=account.due_date, pay_how=sender.pay_how,
        contact_phone=sender.contact_phone, disclosure=sender.disclosure)
