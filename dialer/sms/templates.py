"""SMS templates per language for the seed 001 triggers, rendered from integer minor units.

Seed 001: after the first call left unpaid, text the bill, the minimum payment and how to pay;
5 days unpaid, a suspension notice and a credit-record reminder; 8 days unpaid, a reminder of the
contract and the liability it sets out. Wording is factual and polite: no threats, no shaming, and
no amount in a message that could reach a third party beyond what the debtor's own bill shows
(seed 004). The last four digits of the account identify it without exposing it.

en-US texts end with `{disclosure}`: a third-party debt collector must say it is one
(15 U.S.C. 1692e(11)); a creditor collecting its own debt leaves it empty. Both languages offer an
opt-out keyword, which the gateway's inbound handler must honour.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date

from dialer.money import Money

LANGUAGES = ("zh-CN", "en-US")
# GSM 03.38 basic set: a message using only these packs 160 characters per part, else UCS-2 (70)
_GSM7 = frozenset("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXTENDED = frozenset("^{}\\[~]|€")
_EN_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class BillFacts:
    """What a collection text may say. Amounts are Money (integer minor units), never float."""

    creditor: str
    account_tail: str            # last four digits of the account or card
    amount_due: Money
    minimum_payment: Money
    dpd: int
    due_date: date
    pay_how: str                 # e.g. "the bank's app, or transfer to 6222 ... 1234"
    contact_phone: str
    disclosure: str = ""         # en-US third-party collectors: "This is from a debt collector."

    def __post_init__(self) -> None:
        for money in (self.amount_due, self.minimum_payment):
            # bool is an int subclass and a float would silently lose cents: refuse both
            if type(money.minor) is not int:
                raise TemplateError(f"amounts must be integer minor units, got {money.minor!r}")
        if not re.fullmatch(r"\d{2,6}", self.account_tail):
            raise TemplateError("account_tail must be the last 2–6 digits of the account")


PLACEHOLDERS = frozenset(f.name for f in fields(BillFacts))


@dataclass(frozen=True)
class SmsTemplate:
    name: str
    language: str
    text: str
    max_parts: int = 3

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise TemplateError(f"{self.name}: unknown language {self.language!r}")
        used = {field for _, field, _, _ in string.Formatter().parse(self.text) if field}
        unknown = used - PLACEHOLDERS
        if unknown:
            raise TemplateError(f"{self.name}/{self.language}: unknown placeholders "
                                f"{sorted(unknown)} (allowed: {sorted(PLACEHOLDERS)})")


_TEMPLATES = (
    SmsTemplate("first_call_unpaid", "zh-CN",
                "【{creditor}】尊敬的客户，您好：您尾号{account_tail}的账户应还款{amount_due}，"
                "最低还款额{minimum_payment}，还款日为{due_date}，目前尚未入账。您可通过{pay_how}还款，"
                "如已还款请忽略本短信。如有疑问请致电{contact_phone}。回T退订"),
    SmsTemplate("suspension_notice", "zh-CN",
                "【{creditor}】尊敬的客户，您好：您尾号{account_tail}的账户已逾期{dpd}天，"
                "应还款{amount_due}。根据合同约定，逾期期间账户可能被暂停使用，逾期信息将按规定报送"
                "征信系统。请通过{pay_how}及时还款，如有困难请致电{contact_phone}。回T退订"),
    SmsTemplate("legal_reminder", "zh-CN",
                "【{creditor}】尊敬的客户，您好：您尾号{account_tail}的账户已逾期{dpd}天，"
                "应还款{amount_due}。按合同约定按时还款是您的义务，合同也载明了逾期的违约责任。"
                "如还款有困难，欢迎致电{contact_phone}协商还款安排。还款方式：{pay_how}。回T退订"),
    SmsTemplate("first_call_unpaid", "en-US",
                "{creditor}: the account ending {account_tail} has {amount_due} due since "
                "{due_date}; the minimum payment is {minimum_payment}. You can pay by {pay_how}. "
                "If you have already paid, please disregard this message. Questions: "
                "{contact_phone}. {disclosure} Reply STOP to opt out."),
    SmsTemplate("suspension_notice", "en-US",
                "{creditor}: the account ending {account_tail} is {dpd} days past due with "
                "{amount_due} owed. Under the account agreement the account may be suspended while "
                "it is past due, and late payment may be reported to credit bureaus. Pay by "
                "{pay_how} or call {contact_phone}. {disclosure} Reply STOP to opt out."),
    SmsTemplate("legal_reminder", "en-US",
                "{creditor}: the account ending {account_tail} is {dpd} days past due with "
                "{amount_due} owed. The account agreement sets out the obligation to repay and the "
                "terms for late payment. If paying is difficult, call {contact_phone} to discuss a "
                "payment plan. Pay by {pay_how}. {disclosure} Reply STOP to opt out."),
)


@dataclass(frozen=True)
class TemplateCatalog:
    templates: Mapping[tuple[str, str], SmsTemplate]

    def get(self, name: str, language: str) -> SmsTemplate:
        try:
            return self.templates[(name, language)]
        except KeyError:
            raise TemplateError(f"no SMS template {name!r} in {language!r}") from None

    @property
    def names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.templates)


def default_catalog() -> TemplateCatalog:
    return TemplateCatalog({(t.name, t.language): t for t in _TEMPLATES})


def format_money(money: Money, language: str) -> str:
    """'¥1,234.50' / '$1,234.50' for the home currency of the language, else '1,234.50 EUR'."""
    if type(money.minor) is not int:
        raise TemplateError(f"amounts must be integer minor units, got {money.minor!r}")
    digits = str(money).split(" ")[0]           # Money formats through Decimal: exact
    if language == "zh-CN" and money.currency == "CNY":
        return f"{digits}元"
    if language == "en-US" and money.currency == "USD":
        return f"${digits}"
    return f"{digits} {money.currency}"


def render(template: SmsTemplate, facts: BillFacts) -> str:
    values = {
        "creditor": facts.creditor,
        "account_tail": facts.account_tail,
        "amount_due": format_money(facts.amount_due, template.language),
        "minimum_payment": format_money(facts.minimum_payment, template.language),
        "dpd": str(facts.dpd),
        "due_date": _format_date(facts.due_date, template.language),
        "pay_how": facts.pay_how,
        "contact_phone": facts.contact_phone,
        "disclosure": facts.disclosure,
    }
    text = re.sub(r" {2,}", " ", template.text.format(**values))
    parts = message_parts(text)
    if parts > template.max_parts:
        raise TemplateError(f"{template.name}/{template.language}: {parts} SMS parts, "
                            f"more than {template.max_parts}; shorten pay_how or the template")
    return text


def message_parts(text: str) -> int:
    """How many concatenated SMS parts the text needs (GSM-7: 160/153, UCS-2: 70/67)."""
    if all(ch in _GSM7 or ch in _GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)
        single, multi = 160, 153
    else:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)  # UTF-16 code units
        single, multi = 70, 67
    return 1 if units <= single else -(-units // multi)


def _format_date(day: date, language: str) -> str:
    if language == "zh-CN":
        return f"{day.year}年{day.month}月{day.day}日"
    # not strftime("%b"): that follows the process locale
    return f"{_EN_MONTHS[day.month - 1]} {day.day}, {day.year}"


def lint_catalog(catalog: TemplateCatalog, sample: BillFacts) -> list[tuple[str, str, object]]:
    """Forbidden-content findings of every template, rendered with `sample` facts.

    The same lint as the bot's scripts (seed 004: 800+ sensitive or abusive words), so an SMS
    cannot say what a call may not.
    """
    from dialer.bot.lint import find_forbidden  # the bot package owns the word lists

    problems: list[tuple[str, str, object]] = []
    for (name, language), template in sorted(catalog.templates.items()):
        for finding in find_forbidden(render(template, sample), language):
            problems.append((name, language, finding))
    return problems
