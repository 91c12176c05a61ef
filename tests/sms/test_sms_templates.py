from datetime import date

import pytest

from dialer.money import Money
from dialer.sms.templates import (
    BillFacts,
    SmsTemplate,
    TemplateError,
    default_catalog,
    format_money,
    lint_catalog,
    message_parts,
    render,
)

ZH_FACTS = BillFacts(creditor="示例银行", account_tail="1234", amount_due=Money(123_450, "CNY"),
                     minimum_payment=Money(12_345, "CNY"), dpd=5, due_date=date(2026, 3, 1),
                     pay_how="示例银行App或网点柜台", contact_phone="95500")
US_FACTS = BillFacts(creditor="Acme Bank", account_tail="9876", amount_due=Money(123_450, "USD"),
                     minimum_payment=Money(2_500, "USD"), dpd=8, due_date=date(2026, 3, 1),
                     pay_how="the Acme app", contact_phone="1-800-555-0100",
                     disclosure="This is a communication from a debt collector.")


@pytest.mark.parametrize("name", ["first_call_unpaid", "suspension_notice", "legal_reminder"])
@pytest.mark.parametrize("language", ["zh-CN", "en-US"])
def test_given_each_seed_trigger_then_a_template_exists_in_both_languages(name, language):
    assert default_catalog().get(name, language).language == language


def test_given_a_first_call_unpaid_text_in_chinese_then_bill_minimum_and_how_to_pay_are_stated():
    text = render(default_catalog().get("first_call_unpaid", "zh-CN"), ZH_FACTS)
    for expected in ("1,234.50元", "最低还款额123.45元", "示例银行App或网点柜台", "尾号1234",
                     "2026年3月1日", "95500", "回T退订"):
        assert expected in text
    assert text.startswith("【示例银行】")


def test_given_a_legal_reminder_in_english_then_the_disclosure_and_opt_out_are_included():
    text = render(default_catalog().get("legal_reminder", "en-US"), US_FACTS)
    assert "$1,234.50 owed" in text and "8 days past due" in text
    assert "This is a communication from a debt collector." in text
    assert text.endswith("Reply STOP to opt out.")


def test_given_no_disclosure_when_rendering_then_no_double_space_is_left():
    facts = BillFacts(**{**US_FACTS.__dict__, "disclosure": ""})
    text = render(default_catalog().get("first_call_unpaid", "en-US"), facts)
    assert "  " not in text and "Mar 1, 2026" in text


def test_given_a_float_amount_when_building_facts_then_refused():
    with pytest.raises(TemplateError, match="integer minor units"):
        BillFacts(**{**ZH_FACTS.__dict__, "amount_due": Money(1234.5, "CNY")})


def test_given_money_in_another_currency_when_formatting_then_the_code_is_shown():
    assert format_money(Money(100_000, "EUR"), "en-US") == "1,000.00 EUR"
    assert format_money(Money(5, "USD"), "en-US") == "$0.05"
    assert format_money(Money(1_000, "JPY"), "zh-CN") == "1,000 JPY"


def test_given_an_unknown_placeholder_when_defining_a_template_then_refused():
    with pytest.raises(TemplateError, match="unknown placeholders"):
        SmsTemplate("x", "en-US", "Hello {debtor_full_name}")


def test_given_text_lengths_then_parts_follow_gsm7_and_ucs2_limits():
    assert message_parts("a" * 160) == 1
    assert message_parts("a" * 161) == 2
    assert message_parts("a" * 306) == 2 and message_parts("a" * 307) == 3
    assert message_parts("汉" * 70) == 1 and message_parts("汉" * 71) == 2
    assert message_parts("€" * 80) == 1 and message_parts("€" * 81) == 2


def test_given_a_very_long_payment_instruction_when_rendering_then_too_many_parts_is_an_error():
    facts = BillFacts(**{**ZH_FACTS.__dict__, "pay_how": "网点" * 120})
    with pytest.raises(TemplateError, match="SMS parts"):
        render(default_catalog().get("first_call_unpaid", "zh-CN"), facts)


@pytest.mark.parametrize("facts", [ZH_FACTS, US_FACTS], ids=["zh", "us"])
def test_given_the_shipped_templates_when_linted_then_no_forbidden_content(facts):
    catalog = default_catalog()
    language = "zh-CN" if facts is ZH_FACTS else "en-US"
    only = type(catalog)({k: v for k, v in catalog.templates.items() if k[1] == language})
    assert lint_catalog(only, facts) == []


@pytest.mark.parametrize(("language", "text", "facts"), [
    ("en-US", "{creditor}: pay {amount_due} today or we will have you arrested and tell your "
              "employer.", US_FACTS),
    ("zh-CN", "【{creditor}】老赖请注意：今天不还{amount_due}，我们将上门催收。", ZH_FACTS),
])
def test_given_a_threatening_template_when_linted_then_the_lint_flags_it(language, text, facts):
    catalog = type(default_catalog())({("bad", language): SmsTemplate("bad", language, text)})
    problems = lint_catalog(catalog, facts)
    assert problems and all(name == "bad" for name, _, _ in problems)
