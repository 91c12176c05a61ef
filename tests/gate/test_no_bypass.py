"""There is no path to an originate that skips the gate.

Two guards: the adapters redeem a signed, single-use permit before any originate (tested against
the real Asterisk in tests/asterisk), and, checked here, the only production code that asks an
adapter to originate is the campaign runner and the agents' console (preview/manual calls), which
both get their permits from the gate (`CallGate.decide`, or `decide_many` for a tick's batch).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "dialer"
# The runner (permits from the gate) and the adapters themselves (their internal ARI/AMI calls).
ALLOWED = {"daemon/runner.py", "agents/console.py"}
ADAPTERS = "telephony/"


def originate_calls() -> dict[str, int]:
    found: dict[str, int] = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "originate":
                found[relative] = found.get(relative, 0) + 1
    return found


def test_given_the_code_base_then_only_the_runner_and_the_agents_console_ask_telephony_to_originate() -> None:
    callers = {path for path in originate_calls() if not path.startswith(ADAPTERS)}
    assert callers == ALLOWED


def test_given_the_runner_then_every_originate_uses_a_permit_from_the_gate() -> None:
    for module in ALLOWED:
        source = (PACKAGE / module).read_text(encoding="utf-8")
        asks_the_gate = "self._gate.decide(" in source or "self._gate.decide_many(" in source
        assert asks_the_gate and "originate(permit," in source, module
