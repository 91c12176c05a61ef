import copy
from pathlib import Path

import pytest
import yaml

from dialer.bot.script import ScriptError, load_script, parse_script, shipped_script_path

# YAML 1.1 reads the bare key `on:` as True.
ON = True
BASE = yaml.safe_load(shipped_script_path("collection", "en-US").read_text(encoding="utf-8"))


def _variant() -> dict:
    return copy.deepcopy(BASE)


def test_given_the_shipped_scripts_when_loaded_then_they_validate():
    for language in ("en-US", "zh-CN"):
        script = load_script(shipped_script_path("collection", language))
        assert script.start == "opening" and "verified" in script.nodes


def test_given_a_goto_to_an_unknown_state_when_loaded_then_the_error_names_both_states():
    data = _variant()
    data["states"]["reward"]["goto"] = "thank_you_kindly"
    with pytest.raises(ScriptError, match="'reward' goes to unknown state 'thank_you_kindly'"):
        parse_script(data)


def test_given_a_missing_prompt_when_loaded_then_rejected():
    data = _variant()
    del data["prompts"]["tp_thanks"]
    with pytest.raises(ScriptError, match="missing prompt 'tp_thanks'"):
        parse_script(data)


def test_given_an_unreachable_state_when_loaded_then_rejected():
    data = _variant()
    data["states"]["orphan"] = {"say": "tp_thanks", "hangup": "reminded"}
    with pytest.raises(ScriptError, match=r"unreachable states \['orphan'\]"):
        parse_script(data)


def test_given_the_amount_in_the_opening_when_loaded_then_disclosure_before_verification_is_rejected():
    data = _variant()
    data["prompts"]["greeting"] = "Hello {debtor_name}, you owe us {amount}."
    with pytest.raises(ScriptError, match="disclosure state 'opening'.*before identity verification"):
        parse_script(data)


def test_given_a_shortcut_from_opening_to_the_reminder_when_loaded_then_rejected_by_graph_not_wording():
    data = _variant()
    # The reminder prompt uses {amount}: reaching it without passing `verified` is a disclosure.
    data["states"]["opening"][ON].append({"intent": "promise_now", "goto": "reminder"})
    data["states"]["opening"][ON].insert(0, {"intent": "promise_now", "goto": "reminder"})
    with pytest.raises(ScriptError, match="'reminder'.*opening → reminder"):
        parse_script(data)


def test_given_a_third_party_path_that_can_reach_a_disclosure_when_loaded_then_rejected():
    data = _variant()
    # Through `verified` the pre-verification check is satisfied; the third-party check is not.
    data["states"]["tp_thanks"] = {"say": "tp_thanks", "goto": "verified"}
    with pytest.raises(ScriptError, match="'verified' discloses or verifies after the third-party state 'third_party'"):
        parse_script(data)


def test_given_an_unknown_intent_when_loaded_then_the_known_ones_are_listed():
    data = _variant()
    data["states"]["opening"][ON][0]["intent"] = "maybe"
    with pytest.raises(ScriptError, match="unknown intent.*known: promise_now"):
        parse_script(data)


def test_given_a_node_with_two_exits_when_loaded_then_rejected():
    data = _variant()
    data["states"]["reward"]["hangup"] = "reminded"
    with pytest.raises(ScriptError, match="exactly one exit"):
        parse_script(data)


def test_given_invalid_yaml_when_loaded_then_a_clear_error(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("states: [unclosed", encoding="utf-8")
    with pytest.raises(ScriptError, match="not valid YAML"):
        load_script(bad)


@pytest.mark.parametrize("state,key,value,message", [
    ("third_party", "party", [], "mark 'party' must be one of"),        # found by the fuzz test in CI
    ("third_party", "party", "the neighbour", "mark 'party' must be one of"),
    ("verified", "verified", "yes", "mark 'verified' must be true or false"),
    ("opt_out", "opt_out", 1, "mark 'opt_out' must be true or false"),
    ("opt_out", "disposition", "gone", "mark 'disposition' must be one of"),
    ("opt_out", "tag", ["x"], "mark 'tag' must be text"),
])
def test_given_a_mark_of_the_wrong_kind_when_loaded_then_the_error_names_state_mark_and_value(state, key, value, message):
    data = _variant()
    data["states"][state].setdefault("mark", {})[key] = value
    with pytest.raises(ScriptError, match=f"state '{state}'.*{message}"):
        parse_script(data)


def test_given_a_hangup_that_is_not_a_disposition_when_loaded_then_rejected_before_any_call():
    data = _variant()
    data["states"]["opt_out"]["hangup"] = "bye"
    with pytest.raises(ScriptError, match="'opt_out'.*hangup must be a disposition.*got 'bye'"):
        parse_script(data)
