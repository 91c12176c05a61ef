"""The classic AGI bot (agi_scripts/collect.py, pyst2) on the real Asterisk 22: the dialplan runs
AGI(<checkout>/agi_scripts/collect,...) and Asterisk starts the script as its own child, inside the
harness root (scripts/asterisk-harness bind-mounts the checkout and its Python there, and the root
has espeak-ng and sox). The callees are those of the FastAGI end-to-end test
(test_bot_e2e_asterisk.py), and the outcomes must be the same. Every test runs twice: AGI() with
speech by RECORD FILE, and EAGI() with DIALER_BOT_LISTEN=stream (speech heard live from fd 3)."""

import asyncio
import itertools
import json
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest

from benchmarks.bot_calls import BotHarness
from dialer.bot.script import DISCLOSURE_VARIABLES, load_script, shipped_script_path

pytestmark = pytest.mark.asterisk
_ids = itertools.count(int(time.time()) % 100000 * 100 + 50)


@pytest.fixture(scope="module")
def harness():
    instance = BotHarness.start()
    instance.install()
    instance.install_classic()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(params=["bot-e2e-classic", "bot-e2e-eagi"], ids=["agi-record", "eagi-live"])
def bot(request):
    return request.param


def _outcome(path, attempt_id: str):
    if not path.exists():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["attempt_id"] == attempt_id:
            return record
    return None


async def classic_call(harness: BotHarness, behaviour: str, bot: str = "bot-e2e-classic", **context) -> dict:
    """Place a call to the classic bot and return the record the script wrote when the call ended."""
    attempt_id = str(next(_ids))
    contexts = harness.classic_host_dir / "contexts.json"
    known = json.loads(contexts.read_text(encoding="utf-8")) if contexts.exists() else {}
    today = date.today()
    known[attempt_id] = {"debtor_name": "John Smith", "amount_due": "1234.50", "currency": "USD",
                         "due_date": (today - timedelta(days=4)).isoformat(), "dpd": 4, "today": today.isoformat(),
                         "language": "en-US", "verification_answer": "1985", "business_name": "Example Bank",
                         "callback_number": "4008101234", "interest_amount": "12.30", **context}
    contexts.write_text(json.dumps(known), encoding="utf-8")
    harness.call(behaviour, attempt_id, bot=bot)
    outcomes = harness.classic_host_dir / "outcomes.jsonl"
    # The script is Asterisk's child: the test only sees the line it appends at the end of the call.
    deadline = time.monotonic() + 150
    while (record := _outcome(outcomes, attempt_id)) is None:
        assert time.monotonic() < deadline, f"no outcome for {attempt_id}; Asterisk log: {harness.exports['DIALER_ASTERISK_LOG']}"
        await asyncio.sleep(0.5)
    return record


async def test_given_the_classic_agi_bot_when_the_callee_promises_200_tomorrow_then_that_promise_is_recorded(harness, bot):
    record = await classic_call(harness, "promise", bot, amount_due="200.00")
    assert record["verified"] and record["party"] == "debtor", record["transcript"]
    promise = record["promise"]
    assert promise is not None and Decimal(promise["amount"]) == Decimal("200.00"), record["transcript"]
    assert (promise["due"], promise["currency"], promise["confirmed"]) == ((date.today() + timedelta(days=1)).isoformat(),
                                                                         "USD", True)
    assert record["disposition"] == "promise_to_pay"
    assert any("two hundred" in t["text"] for t in record["transcript"] if t["speaker"] == "caller")


async def test_given_the_classic_agi_bot_when_a_wrong_number_answers_then_no_prompt_about_the_debt_is_played(harness, bot):
    record = await classic_call(harness, "wrong", bot)
    assert record["party"] == "wrong_number" and record["suppress_contact"], record["transcript"]
    script = load_script(shipped_script_path("collection", "en-US"))
    disclosing = {p for p in script.prompts if script.prompt_variables(p) & DISCLOSURE_VARIABLES}
    assert record["prompts_played"] and not disclosing & set(record["prompts_played"])
    bot_said = " ".join(t["text"] for t in record["transcript"] if t["speaker"] == "bot")
    assert "dollars" not in bot_said and "overdue" not in bot_said and not record["disclosed"]


async def test_given_the_classic_agi_bot_when_the_callee_says_stop_calling_then_an_opt_out_is_recorded(harness, bot):
    record = await classic_call(harness, "stop", bot)
    assert record["opt_out"] and record["disposition"] == "opted_out", record["transcript"]
    assert "will not call this number again" in record["transcript"][-1]["text"]


async def test_given_the_eagi_bot_when_the_callee_answers_over_the_question_then_the_prompt_stops_and_the_promise_is_heard(
        harness):
    # EAGI only (RECORD FILE hears nothing while a prompt plays): Asterisk writes the caller's audio
    # to fd 3 during STREAM FILE too, and a command on stdin stops the prompt as on a FastAGI socket.
    record = await classic_call(harness, "barge", "bot-e2e-eagi", amount_due="200.00")
    bot_said = [t["text"] for t in record["transcript"] if t["speaker"] == "bot"]
    stopped = [i for i, text in enumerate(bot_said) if text.startswith("[stopped: the caller spoke over")]
    assert len(stopped) == 1 and "overdue" in bot_said[stopped[0] - 1], record["transcript"]
    promise = record["promise"]
    assert promise is not None and Decimal(promise["amount"]) == Decimal("200.00"), record["transcript"]
    assert promise["due"] == (date.today() + timedelta(days=1)).isoformat()
