from pathlib import Path

import yaml
from click.testing import CliRunner

from cli import main
from dialer.bot.lint import check_script, find_forbidden
from dialer.bot.script import shipped_script_path


def _categories(text: str, language: str) -> set[str]:
    return {f.category for f in find_forbidden(text, language)}


def test_given_court_impersonation_blacklist_and_jail_in_mandarin_then_each_is_found():
    assert _categories("我们是法院的工作人员，再不还就把你拉进黑名单，让你坐牢", "zh-CN") == {
        "impersonation", "fake_blacklist", "exaggerated_legal"}


def test_given_threats_insults_fees_and_new_borrowing_in_mandarin_then_found():
    assert _categories("老赖，不还我们就上门，还要收催收费，你去网贷借钱还", "zh-CN") == {
        "insult", "threat", "extra_fee", "new_borrowing"}


def test_given_police_arrest_and_insult_in_english_then_found():
    assert _categories("This is the police. Pay now or we will arrest you, deadbeat.", "en-US") == {
        "impersonation", "exaggerated_legal", "insult"}


def test_given_fees_borrowing_and_telling_the_employer_in_english_then_found():
    assert _categories("There is a processing fee; take out a payday loan or we will tell your employer.",
                       "en-US") == {"extra_fee", "new_borrowing", "threat"}


def test_given_the_factual_credit_record_notice_then_nothing_is_found():
    assert find_forbidden("A payment this late is reported to the credit bureau and may affect your credit record.",
                          "en-US") == []
    assert find_forbidden("逾期记录会按规定报送征信系统，可能影响您的信用记录。", "zh-CN") == []


def test_given_the_shipped_scripts_then_they_pass_the_lint():
    for language in ("en-US", "zh-CN"):
        assert check_script(shipped_script_path("collection", language)) == []


def test_given_a_debt_word_in_a_third_party_prompt_then_check_script_reports_it(tmp_path: Path):
    data = yaml.safe_load(shipped_script_path("collection", "zh-CN").read_text(encoding="utf-8"))
    data["prompts"]["tp_thanks"] = "请转告他尽快处理逾期欠款，谢谢。"
    path = tmp_path / "bad.zh-CN.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    findings = check_script(path)
    assert {f.category for f in findings} == {"third_party_disclosure"}
    assert {f.phrase for f in findings} >= {"逾期", "欠款"}


def test_given_a_bad_script_when_checked_from_the_cli_then_exit_1_and_the_finding_is_printed(tmp_path: Path):
    data = yaml.safe_load(shipped_script_path("collection", "en-US").read_text(encoding="utf-8"))
    data["prompts"]["reminder_close"] = "Pay today or we will come to your house."
    path = tmp_path / "bad.en-US.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = CliRunner().invoke(main, ["script", "check", str(path)])
    assert result.exit_code == 1
    assert "threat «come to your house»" in result.output


def test_given_the_shipped_script_when_checked_from_the_cli_then_ok():
    result = CliRunner().invoke(main, ["script", "check", str(shipped_script_path("collection", "en-US"))])
    assert result.exit_code == 0 and result.output.strip().endswith(": OK")
