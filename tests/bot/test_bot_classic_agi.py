"""The classic AGI entry point (agi_scripts/collect.py, pyst2) run as Asterisk runs it: a process
speaking AGI on stdin/stdout, here against a scripted Asterisk."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "agi_scripts" / "collect.py"


def _reply(command: str, keys: list[str], variables: dict[str, str]) -> str:
    words = command.split()
    if words[:2] == ["GET", "VARIABLE"]:
        value = {"DIALER_ATTEMPT_ID": "77", "DIALER_CAMPAIGN_ID": "c9"}.get(words[2])
        return f"200 result=1 ({value})" if value else "200 result=0"
    if words[:2] == ["SET", "VARIABLE"]:
        variables[words[2]] = command.split(" ", 3)[3].strip('"')
        return "200 result=1"
    if words[:2] == ["STREAM", "FILE"]:
        assert Path(words[2] + ".wav").exists(), f"prompt file missing: {words[2]}"
        return "200 result=0 endpos=8000"
    if words[:3] == ["WAIT", "FOR", "DIGIT"]:
        return f"200 result={ord(keys.pop(0))}" if keys else "200 result=0"
    if command == "HANGUP":
        return "200 result=1"
    return "510 Invalid or unknown command"


def test_given_a_debtor_pressing_9_when_run_as_classic_agi_then_opt_out_is_written_to_the_outcomes(tmp_path):
    contexts = tmp_path / "contexts.json"
    contexts.write_text(json.dumps({"77": {
        "debtor_name": "张伟", "amount_due": "1234.50", "currency": "CNY", "due_date": "2026-11-18", "dpd": 4,
        "today": "2026-11-22", "language": "zh-CN", "verification_answer": "1985", "business_name": "示例银行",
        "callback_number": "95555"}}, ensure_ascii=False), encoding="utf-8")
    outcomes = tmp_path / "outcomes.jsonl"
    env = {**os.environ, "DIALER_BOT_CONTEXTS": str(contexts), "DIALER_BOT_OUTCOMES": str(outcomes),
           "DIALER_BOT_AUDIO_DIR": str(tmp_path / "audio"), "DIALER_BOT_NO_ASR": "1"}
    keys, variables, commands = ["9"], {}, []
    with subprocess.Popen([sys.executable, str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, env=env, text=True, cwd=tmp_path) as process:
        process.stdin.write("agi_request: collect.py\nagi_channel: PJSIP/carrier-00000001\n\n")
        process.stdin.flush()
        for line in process.stdout:
            commands.append(line.strip())
            process.stdin.write(_reply(line.strip(), keys, variables) + "\n")
            process.stdin.flush()
        assert process.wait(timeout=60) == 0
    record = json.loads(outcomes.read_text(encoding="utf-8").splitlines()[-1])
    assert record["opt_out"] is True and record["disposition"] == "opted_out"
    assert record["campaign_id"] == "c9" and record["attempt_id"] == "77"
    assert "不会再拨打这个号码" in record["transcript"][-1]["text"]
    assert variables["DIALER_BOT_RESULT"] == "opted_out" and "HANGUP" in commands
