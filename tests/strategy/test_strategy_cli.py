import json

from click.testing import CliRunner

from dialer.commands.strategy import strategy


def test_given_no_file_when_showing_then_the_default_ladder_is_printed_as_json():
    result = CliRunner().invoke(strategy, ["show", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [(s["name"], s["dpd"], s["handler"]) for s in data["stages"]] == [
        ("reminder", "1-3", "bot"), ("willingness", "4-5", "bot"), ("escalation", "6-8", "bot"),
        ("final", "9-", "agent")]
    assert data["stages"][0]["retry"]["hardship"]["effect"] == "handoff"


def test_given_a_strategy_file_with_a_typo_when_showing_then_the_error_names_the_key(tmp_path):
    path = tmp_path / "strategy.yaml"
    path.write_text("stages:\n  - {name: a, dpd: [1, 3], script: reminder, handlr: bot}\n")
    result = CliRunner().invoke(strategy, ["show", str(path)])
    assert result.exit_code == 1
    assert "strategy not valid: stages[0].handlr: unknown setting" in result.output


def test_given_a_valid_file_when_showing_then_tables_list_stages_and_rules(tmp_path):
    path = tmp_path / "strategy.yaml"
    path.write_text("stages:\n  - {name: only, dpd: [1, null], script: reminder,"
                    " sms: [legal_reminder]}\n")
    result = CliRunner().invoke(strategy, ["show", str(path)])
    assert result.exit_code == 0, result.output
    assert "only" in result.output and "legal_reminder" in result.output
    assert "hardship" in result.output and "handoff" in result.output


def test_given_the_shipped_templates_when_previewing_then_six_texts_render_without_lint():
    result = CliRunner().invoke(strategy, ["sms-preview", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["templates"]
    assert len(rows) == 6
    assert all(row["lint"] == [] and 1 <= row["parts"] <= 3 for row in rows)
    zh = [row for row in rows if row["language"] == "zh-CN"]
    assert all("示例银行" in row["text"] for row in zh)


def test_given_a_campaign_with_a_stored_strategy_when_showing_then_its_stages_are_used(
        tmp_path, monkeypatch):
    from dialer.campaigns import CampaignSpec, create_campaign
    from dialer.db import migrate
    from dialer.db.session import make_engine, make_sessionmaker, transaction
    from dialer.domain import CampaignMode

    monkeypatch.chdir(tmp_path)   # no stray ./dialer.yaml from the working directory
    url = f"sqlite:///{tmp_path / 'dialer.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with transaction(make_sessionmaker(engine)) as session:
        campaign = create_campaign(session, CampaignSpec(name="m1", mode=CampaignMode.BOT_ONLY),
                                   known_profiles=("cn",), actor="test")
        campaign.strategy = {"stages": [{"name": "everyone", "dpd": [1, None],
                                         "script": "reminder"}]}
    engine.dispose()
    result = CliRunner().invoke(strategy, ["show", "--campaign", "m1", "--json"],
                                obj={"db_url": url, "config_path": None})
    assert result.exit_code == 0, result.output
    assert [s["name"] for s in json.loads(result.output)["stages"]] == ["everyone"]
