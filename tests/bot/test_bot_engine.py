from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from dialer.bot.actions import CallerHungUp, CollectDigits, Done, Hangup, Heard, Keyed, Listen, Say, Silence, Transfer
from dialer.bot.engine import DialogSession
from dialer.bot.record import Disposition
from dialer.bot.script import Rule, load_script, shipped_script_path
from dialer.bot.intents import Intent
from dialer.bot.script_walk import example_context
from dialer.domain import Party

TODAY = date(2026, 11, 22)  # a Sunday


def converse(language: str, answers: list, **context_changes):
    """Run a call, answering each question in turn; returns (session, actions)."""
    script = load_script(shipped_script_path("collection", language))
    context = replace(example_context(language, TODAY), **context_changes)
    session = DialogSession(script, context)
    actions = []
    action = session.start()
    pending = list(answers)
    while action is not None:
        actions.append(action)
        if isinstance(action, (Listen, CollectDigits)):
            answer = pending.pop(0) if pending else Silence()
            action = session.feed(answer)
        else:
            action = session.feed(Done())
    return session, actions


def said(actions) -> str:
    return " ".join(a.text for a in actions if isinstance(a, Say))


def test_given_a_verified_debtor_who_says_he_pays_200_next_friday_then_a_promise_of_200_on_that_friday():
    session, actions = converse("en-US", [Heard("yes speaking"), Heard("nineteen eighty five"),
                                          Heard("I will pay two hundred dollars next Friday"), Heard("yes")])
    promise = session.record.promise
    assert promise is not None and promise.amount == Decimal("200") and promise.confirmed
    assert promise.due == date(2026, 11, 27) and promise.due.weekday() == 4
    assert session.record.disposition == Disposition.PROMISE_TO_PAY
    assert "two hundred dollars on Friday, November twenty-seventh" in said(actions)
    assert isinstance(actions[-1], Hangup)


def test_given_the_seed_willingness_phrases_then_strength_orders_now_over_asap_over_later():
    strengths = {}
    for phrase in ("我现在就去还", "我尽快还款", "过一会去"):
        session, _ = converse("zh-CN", [Heard("是我"), Heard("一九八五"), Heard(phrase), Keyed("1")])
        strengths[phrase] = session.record.willingness
    assert strengths["我现在就去还"] > strengths["我尽快还款"] > strengths["过一会去"]


def test_given_dpd_4_when_a_strong_dated_promise_then_confirm_but_a_weak_one_hears_the_interest_first():
    strong, strong_actions = converse("en-US", [Keyed("1"), Keyed("1985"), Heard("I will pay tomorrow"), Keyed("1")])
    weak, weak_actions = converse("en-US", [Keyed("1"), Keyed("1985"), Heard("maybe I can pay in two weeks")])
    assert "postpone" not in strong.record.path and "confirm_promise" in strong.record.path
    assert weak.record.path[weak.record.path.index("willingness") + 1] == "postpone"
    assert "twelve dollars and thirty cents" in said(weak_actions)   # the interest so far


def test_given_dpd_4_when_a_vague_promise_then_the_card_benefit_script_asks_for_a_date():
    session, _ = converse("en-US", [Keyed("1"), Keyed("1985"), Heard("I will pay as soon as I can"),
                                    Heard("on Friday"), Keyed("1")])
    assert session.record.path[3:6] == ["willingness", "weak_intent", "confirm_promise"]
    assert session.record.promise.due == date(2026, 11, 27)


def test_given_key_9_at_the_first_question_then_opt_out_is_recorded_and_confirmed():
    session, actions = converse("en-US", [Keyed("9")])
    assert session.record.opt_out and session.record.disposition == Disposition.OPTED_OUT
    assert "will not call this number again" in said(actions)


def test_given_bie_zai_da_le_at_the_willingness_question_then_opt_out():
    session, actions = converse("zh-CN", [Heard("是我"), Heard("一九八五"), Heard("别再打了，烦死了")])
    assert session.record.opt_out and "不会再拨打这个号码" in said(actions)


def test_given_a_wrong_number_then_the_amount_and_due_date_are_never_said_and_the_number_is_suppressed():
    session, actions = converse("en-US", [Heard("sorry, wrong number")])
    text = said(actions)
    assert "dollars" not in text and "November" not in text and "owe" not in text
    assert session.record.party == Party.WRONG_NUMBER and session.record.suppress_contact
    assert not session.record.disclosed


def test_given_a_relative_who_refuses_to_pass_a_message_then_contact_suppressed_and_no_debt_mentioned():
    session, actions = converse("zh-CN", [Heard("我是他妈妈，他不在"), Heard("不行")])
    text = said(actions)
    assert session.record.party == Party.THIRD_PARTY and session.record.suppress_contact
    assert session.record.disposition == Disposition.THIRD_PARTY_REFUSED
    assert "元" not in text and "逾期" not in text and "欠" not in text


def test_given_a_relative_who_keys_in_another_number_then_it_is_kept_in_the_transcript():
    session, _ = converse("en-US", [Heard("she is not home right now"), Keyed("1"), Keyed("13800138000")])
    assert session.record.disposition == Disposition.THIRD_PARTY_MESSAGE
    assert any("13800138000" in turn.text for turn in session.record.transcript if turn.speaker == "caller")


def test_given_two_wrong_verification_answers_then_the_call_ends_without_disclosure():
    session, actions = converse("en-US", [Heard("yes"), Heard("nineteen ninety"), Keyed("2000")])
    assert session.record.disposition == Disposition.VERIFICATION_FAILED
    assert not session.record.verified and not any(a.discloses for a in actions if isinstance(a, Say))


def test_given_repeated_not_understood_answers_then_handed_to_an_agent_with_the_context():
    session, actions = converse("en-US", [Keyed("1"), Keyed("1985"), Heard("purple elephants"),
                                          Heard("the weather is nice")])
    transfer = actions[-1]
    assert isinstance(transfer, Transfer) and transfer.queue == "collections"
    assert session.record.handoff_reason == "not_understood"
    assert transfer.context["verified"] is True and transfer.context["stage"] == "willingness"


def test_given_hardship_then_handed_off_with_the_kind_of_hardship_recorded():
    session, actions = converse("zh-CN", [Keyed("1"), Keyed("1985"), Heard("我最近被裁员了，实在没钱")])
    assert isinstance(actions[-1], Transfer)
    assert session.record.handoff_reason == "hardship" and session.record.hardship_kind == "job_loss"


def test_given_dpd_7_then_the_credit_record_notice_is_factual_and_the_call_is_handed_off():
    session, actions = converse("zh-CN", [Keyed("1"), Keyed("1985"), Heard("我不想还")], dpd=7)
    assert "征信" in said(actions) and "七天" in said(actions)
    assert session.record.handoff_reason == "high_stage" and isinstance(actions[-1], Transfer)


def test_given_the_reward_flag_then_the_offer_is_made_after_a_confirmed_promise_only_when_enabled():
    with_offer, a1 = converse("en-US", [Keyed("1"), Keyed("1985"), Heard("tomorrow"), Keyed("1")], reward_offer=True)
    without, a2 = converse("en-US", [Keyed("1"), Keyed("1985"), Heard("tomorrow"), Keyed("1")], reward_offer=False)
    assert "better terms" in said(a1) and "better terms" not in said(a2)


def test_given_a_caller_who_hangs_up_after_promising_then_the_promise_is_kept_unconfirmed():
    script = load_script(shipped_script_path("collection", "en-US"))
    session = DialogSession(script, example_context("en-US", TODAY))
    action = session.start()
    for answer in [Keyed("1"), Keyed("1985"), Heard("I can pay on the 30th")]:
        while not isinstance(action, Listen):
            action = session.feed(Done())
        action = session.feed(answer)
    assert session.feed(CallerHungUp()) is None and session.finished
    promise = session.record.promise
    assert promise.due == date(2026, 11, 30) and not promise.confirmed
    assert session.record.disposition == Disposition.PROMISE_TO_PAY


def test_given_the_transcript_then_both_sides_are_recorded_with_intents():
    session, _ = converse("en-US", [Heard("yes speaking"), Heard("1985"), Heard("I already paid yesterday")])
    speakers = [t.speaker for t in session.record.transcript]
    assert speakers[0] == "bot" and "caller" in speakers
    assert session.record.intents == ["already_paid"]
    assert session.record.disposition == Disposition.ALREADY_PAID


def test_given_a_script_that_skips_verification_when_run_unvalidated_then_the_engine_blocks_the_disclosure():
    script = load_script(shipped_script_path("collection", "en-US"))
    opening = script.nodes["opening"]
    shortcut = replace(opening, rules=(Rule(frozenset({Intent.AFFIRM}), "reminder"),) + opening.rules)
    broken = replace(script, nodes={**script.nodes, "opening": shortcut})   # bypasses the loader on purpose
    session = DialogSession(broken, example_context("en-US", TODAY))
    action = session.start()
    while not isinstance(action, Listen):
        action = session.feed(Done())
    action = session.feed(Heard("yes"))
    assert action == Hangup("disclosure_blocked")
    assert not session.record.disclosed


def test_given_a_promise_date_in_the_past_month_day_then_it_rolls_to_next_month():
    session, _ = converse("zh-CN", [Keyed("1"), Keyed("1985"), Heard("15号还"), Keyed("1")])
    assert session.record.promise.due == date(2026, 12, 15)
    assert session.record.promise.due - TODAY == timedelta(days=23)


def test_given_a_campaign_without_agents_when_the_script_hands_off_then_a_call_back_is_promised_not_a_transfer():
    for language, words in (("zh-CN", "回电"), ("en-US", "call you back")):
        answers = [Keyed("1"), Keyed("1985"), Heard("我不想还" if language == "zh-CN" else "I will not pay")]
        session, actions = converse(language, answers, dpd=7, agents_available=False)
        assert not any(isinstance(a, Transfer) for a in actions)
        assert isinstance(actions[-1], Hangup) and words in said(actions)
        assert "请稍候" not in said(actions) and "please hold" not in said(actions).lower()
        # The hand-off stays on the record: the strategy gives the account to people.
        assert session.record.handoff_reason == "high_stage"
        assert session.record.disposition is Disposition.HANDED_OFF
