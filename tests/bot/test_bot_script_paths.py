"""Every path of the shipped scripts, in both languages, generated from the script graph."""

import pytest

from dialer.bot.actions import Hangup, Say, Transfer
from dialer.bot.record import Disposition
from dialer.bot.script import load_script, shipped_script_path
from dialer.bot.script_walk import example_context, walk_all
from dialer.domain import Party


@pytest.fixture(scope="module", params=["en-US", "zh-CN"])
def walked(request):
    script = load_script(shipped_script_path("collection", request.param))
    return script, walk_all(script, example_context(request.param))


def test_given_every_answer_at_every_question_then_every_transition_of_the_graph_is_taken(walked):
    script, report = walked
    assert report.untaken(script) == set()


def test_given_every_path_then_no_disclosure_before_verification_or_to_a_third_party(walked):
    _, report = walked
    assert report.violations == []
    for call in report.calls:
        record = call.session.record
        disclosing = [a for a in call.actions if isinstance(a, Say) and a.discloses]
        if record.party in (Party.THIRD_PARTY, Party.WRONG_NUMBER) or not record.verified:
            assert disclosing == [], record.path


def test_given_every_path_then_it_ends_in_a_hangup_or_transfer_with_a_disposition_and_score(walked):
    _, report = walked
    for call in report.calls:
        record = call.session.record
        assert isinstance(call.actions[-1], (Hangup, Transfer)), record.path
        assert record.disposition is not None and record.collection_score is not None


def test_given_every_path_that_opts_out_then_the_opt_out_is_confirmed_and_the_call_ends(walked):
    script, report = walked
    opted = [c for c in report.calls if c.session.record.opt_out]
    assert opted, "the walk reached the opt-out state"
    for call in opted:
        assert call.session.record.disposition == Disposition.OPTED_OUT
        said = [a.prompt_id for a in call.actions if isinstance(a, Say)]
        assert said[-1] == "opt_out" and isinstance(call.actions[-1], Hangup)


def test_given_every_transfer_then_the_agent_gets_the_context_and_a_reason(walked):
    _, report = walked
    transfers = [c for c in report.calls if isinstance(c.actions[-1], Transfer)]
    assert {c.session.record.handoff_reason for c in transfers} >= {
        "hardship", "dispute", "high_stage", "asked_for_human", "not_understood"}
    for call in transfers:
        context = call.actions[-1].context
        assert context["attempt_id"] == "walk" and context["handoff_reason"]


def test_given_every_stage_then_the_stage_prompt_matches_days_past_due(walked):
    _, report = walked
    for call in report.calls:
        record = call.session.record
        said = {a.prompt_id for a in call.actions if isinstance(a, Say)}
        stage_prompts = said & {"reminder", "willingness", "escalation"}
        if record.verified:
            assert stage_prompts == {call.context.stage}, record.path
        else:
            assert stage_prompts == set()
