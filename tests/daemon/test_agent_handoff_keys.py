"""The screen-pop reads every hand-off key the bot sets on the channel (dialer/bot/engine.py
`DialogSession._agent_context` -> DIALER_CTX_<KEY>), so a key added to the bot shows on the agent's screen."""

import ast
import inspect
import textwrap

from dialer.agents.console import HANDOFF_KEYS
from dialer.bot.engine import DialogSession


def test_given_the_bots_hand_off_context_then_the_console_reads_every_key() -> None:
    tree = ast.parse(textwrap.dedent(inspect.getsource(DialogSession._agent_context)))
    (returned,) = [node.value for node in ast.walk(tree) if isinstance(node, ast.Return)]
    assert isinstance(returned, ast.Dict)
    keys = {key.value for key in returned.keys if isinstance(key, ast.Constant)}
    assert keys == set(HANDOFF_KEYS)
