"""Prompts synthesised before the caller needs them.

A prompt that carries the debtor's name or amount cannot be cached across debtors, and espeak-ng +
sox take 60-300 ms per prompt here (more under load): synthesised on the caller's turn, that is
latency the caller hears. Everything those prompts need is known before the call is answered (the
call context), so each call's prompts are synthesised at its start, in the order the script plays
them, while the greeting plays and the caller answers. Only prompts that depend on what the caller
says (the promised amount and date) are left for the turn itself.

The static prompts (no variables, or only the business name and the verification check's name) are
shared by every call of a script: `warm_static` runs once at server start.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from dialer.bot.context import CallContext
from dialer.bot.script import Script
from dialer.bot.tts import PromptCache, Voice

# Known only once the caller has said them.
TURN_VARIABLES = frozenset({"promise_amount", "promise_date"})
# Shared by every call of a campaign: prompts with only these are static.
CAMPAIGN_VARIABLES = frozenset({"business", "check_name", "callback_number"})


def _rendered(script: Script, context: CallContext, *, static: bool) -> list[str]:
    values = context.spoken_variables()
    values["check_name"] = script.checks.get(context.verification_kind, "")
    texts: list[str] = []
    order = _in_script_order(script, context) if not static else _in_script_order(script) + list(script.prompts)
    for prompt_id in dict.fromkeys(order):
        used = script.prompt_variables(prompt_id)
        if used & TURN_VARIABLES or (used <= CAMPAIGN_VARIABLES) != static:
            continue
        text = script.prompts[prompt_id].format(**{k: values.get(k, "") for k in used})
        if text not in texts:
            texts.append(text)
    return texts


def _in_script_order(script: Script, context: CallContext | None = None) -> list[str]:
    """Prompt ids in the order a call meets them (breadth-first from the start). With a context,
    branches on the call's stage and reward offer take only its case: the prompts of the other
    stages would be synthesised for nothing (under 50 simultaneous call starts that waste competed
    with recognition for the cores)."""
    order: list[str] = []
    seen: set[str] = set()
    queue = [script.start]
    while queue:
        name = queue.pop(0)
        if name in seen or name not in script.nodes:
            continue
        seen.add(name)
        node = script.nodes[name]
        order += [p for p in node.say if p not in order]
        if context is not None and node.branch == "stage":
            queue.append(node.cases[context.stage])
        elif context is not None and node.branch == "reward_offer":
            queue.append(node.cases["yes" if context.reward_offer else "no"])
        else:
            queue += script.successors(node)
    return order


def call_prompt_texts(script: Script, context: CallContext) -> list[str]:
    """The texts of this call's prompts that carry debtor data, in the order the call meets them."""
    return _rendered(script, context, static=False)


def static_prompt_texts(script: Script, context: CallContext) -> list[str]:
    return _rendered(script, context, static=True)


def prepare_call(prompts: PromptCache, script: Script, context: CallContext, voice: Voice,
                 stop: threading.Event | None = None) -> int:
    """Synthesise this call's debtor-specific prompts now (blocking; run it in a thread) until done or
    `stop` is set. Returns how many were synthesised (the rest were cached). A prompt the call asks
    for meanwhile waits on the cache's per-file lock instead of being synthesised twice."""
    made = 0
    for text in call_prompt_texts(script, context):
        if stop is not None and stop.is_set():
            break
        if not prompts.is_cached(text, voice):
            prompts.path_for(text, voice)
            made += 1
    return made


def warm_static(prompts: PromptCache, script: Script, context: CallContext, voices: list[Voice]) -> int:
    made = 0
    for voice in voices:
        for text in static_prompt_texts(script, context):
            if not prompts.is_cached(text, voice):
                prompts.path_for(text, voice)
                made += 1
    return made


def _lower_priority() -> None:
    # Linux applies nice per thread (and the espeak-ng/sox children inherit it): preparation yields
    # the cores to what a caller is waiting for now (recognition, a reply synthesised on the turn).
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PREPARATION_NICENESS)
    except (AttributeError, OSError):   # pragma: no cover - not Linux, or not permitted
        pass


PREPARATION_NICENESS = 10


class PromptPreparer:
    """Runs `prepare_call` for calls on a few low-priority threads of its own (at most one per
    core, so 50 call starts do not start 50 espeak-ng at once). Owned by the server: `close()`."""

    def __init__(self, workers: int | None = None) -> None:
        self._threads = ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1,
                                           thread_name_prefix="prompt-prep", initializer=_lower_priority)

    async def prepare(self, prompts: PromptCache, script: Script, context: CallContext, voice: Voice,
                      stop: threading.Event) -> int:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, prepare_call, prompts, script, context, voice, stop)

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
