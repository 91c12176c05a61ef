"""Dialog scripts as data (YAML), validated when loaded.

A script is a graph of nodes. Each node may `mark` the call record, `say` prompts, send an `sms`,
then leaves by exactly one exit: `listen` (+ `on` rules / `verify`), `collect`, `branch`, `goto`,
`transfer` or `hangup`. The loader rejects unknown targets, missing prompts, unreachable nodes and,
by graph analysis rather than wording, any **disclosure node** (a prompt that uses a debt variable
such as {amount} or {due_date}, or an SMS) reachable before a node that marks the caller verified,
or reachable at all after a node that marks a third party (FCA CONC 7.9.7R; GB/T 45251; CBA 2026).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dialer.bot.intents import Intent
from dialer.bot.record import Disposition
from dialer.domain import Party
from dialer.bot.script_shape import check_shape

# Variables whose mere use makes a prompt a disclosure of the debt.
DISCLOSURE_VARIABLES = frozenset({"amount", "minimum_payment", "interest", "due_date", "dpd",
                                  "promise_amount", "promise_date"})
KNOWN_VARIABLES = DISCLOSURE_VARIABLES | {"debtor_name", "business", "callback_number", "check_name",
                                          "callback_time"}
MARK_KEYS = frozenset({"verified", "party", "disposition", "opt_out", "suppress_contact", "handoff_reason",
                       "promise_confirmed", "tag", "callback"})
EXITS = ("listen", "collect", "branch", "goto", "transfer", "hangup")
BRANCH_SUBJECTS = {"stage": {"reminder", "willingness", "escalation"}, "reward_offer": {"yes", "no"},
                   "has_promise": {"yes", "no"}, "callback_asked": {"yes", "no"},
                   "verified": {"yes", "no"}}
THIRD_PARTY_VALUES = frozenset({"third_party", "wrong_number"})
PARTIES = frozenset(party.value for party in Party)
DISPOSITIONS = frozenset(disposition.value for disposition in Disposition)


class ScriptError(ValueError):
    """A script that must not run; the message names the file, the node and what to fix."""


@dataclass(frozen=True)
class Rule:
    intents: frozenset[Intent]
    goto: str
    min_willingness: float | None = None
    max_willingness: float | None = None
    has_date: bool | None = None
    has_amount: bool | None = None


@dataclass(frozen=True)
class ListenSpec:
    grammar: str
    timeout_s: float = 5.0
    max_digits: int = 1
    keys: dict[str, Intent] = field(default_factory=dict)
    # The caller may answer over the node's prompts (voice barge-in). Off where every word must be
    # heard: the opening, which says who calls and that it is an automated assistant.
    barge_in: bool = True


LISTEN_KEYS = frozenset({"grammar", "timeout", "max_digits", "keys", "barge_in"})


@dataclass(frozen=True)
class Node:
    name: str
    say: tuple[str, ...] = ()
    mark: dict[str, Any] = field(default_factory=dict)
    sms: str | None = None
    listen: ListenSpec | None = None
    rules: tuple[Rule, ...] = ()
    otherwise: str | None = None
    verify: dict[str, str] | None = None          # {"pass": node, "fail": node}
    collect: dict[str, Any] | None = None         # {"max_digits", "timeout", "goto"}
    branch: str | None = None
    cases: dict[str, str] = field(default_factory=dict)
    goto: str | None = None
    transfer: str | None = None                   # queue name, or "{queue}" for the campaign's
    hangup: str | None = None                     # disposition when none was marked
    reprompt: str | None = None

    def targets(self, fallbacks: dict[str, str], global_rules: tuple[Rule, ...]) -> list[str]:
        out = [r.goto for r in self.rules] + list(self.cases.values())
        out += [t for t in (self.otherwise, self.goto) if t]
        if self.verify:
            out += list(self.verify.values())
        if self.collect and "goto" in self.collect:
            out.append(self.collect["goto"])
        if self.listen is not None:
            out += [r.goto for r in global_rules]
            # A fallback is an exit only if silence / not-understood can fall through this node's rules
            # (the callback questions route both themselves): keeps the graph to edges a call can take.
            caught = {i.value for r in self.rules if (r.min_willingness, r.max_willingness, r.has_date,
                                                        r.has_amount) == (None, None, None, None) for i in r.intents}
            out += [target for kind, target in fallbacks.items() if kind not in caught]
        return out


@dataclass(frozen=True)
class Script:
    name: str
    language: str
    start: str
    prompts: dict[str, str]
    nodes: dict[str, Node]
    global_rules: tuple[Rule, ...]
    fallbacks: dict[str, str]                     # silence / not_understood → node after the limit
    limits: dict[str, int]
    checks: dict[str, str]                        # verification kind → how the bot names it
    opt_out_key: str
    source: str = ""

    def prompt_variables(self, prompt_id: str) -> set[str]:
        return set(re.findall(r"\{(\w+)\}", self.prompts[prompt_id]))

    def discloses(self, node: Node) -> bool:
        if node.sms:
            return True
        return any(self.prompt_variables(p) & DISCLOSURE_VARIABLES for p in node.say)

    def successors(self, node: Node) -> list[str]:
        return node.targets(self.fallbacks, self.global_rules)


def _intents(value: Any, where: str) -> frozenset[Intent]:
    names = value if isinstance(value, list) else [value]
    try:
        return frozenset(Intent(n) for n in names)
    except ValueError as exc:
        raise ScriptError(f"{where}: unknown intent in {names!r} ({exc}); known: "
                          f"{', '.join(i.value for i in Intent)}") from None


def _rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict) or "intent" not in raw or "goto" not in raw:
        raise ScriptError(f"{where}: a rule needs 'intent' and 'goto', got {raw!r}")
    unknown = set(raw) - {"intent", "goto", "min_willingness", "max_willingness", "has_date", "has_amount"}
    if unknown:
        raise ScriptError(f"{where}: unknown rule keys {sorted(unknown)}")
    return Rule(_intents(raw["intent"], where), str(raw["goto"]), raw.get("min_willingness"),
                raw.get("max_willingness"), raw.get("has_date"), raw.get("has_amount"))


def _check_mark(mark: dict[str, Any], where: str) -> None:
    """Each mark's value is of the kind the engine records (a fuzz test found `party: []` passing
    the loader and failing later with a bare TypeError)."""
    for key in ("verified", "opt_out", "suppress_contact", "promise_confirmed"):
        if key in mark and not isinstance(mark[key], bool):
            raise ScriptError(f"{where}: mark {key!r} must be true or false, got {mark[key]!r}")
    for key in ("handoff_reason", "tag"):
        if key in mark and not isinstance(mark[key], str):
            raise ScriptError(f"{where}: mark {key!r} must be text, got {mark[key]!r}")
    for key, allowed in (("party", PARTIES), ("disposition", DISPOSITIONS)):
        if key in mark and (not isinstance(mark[key], str) or mark[key] not in allowed):
            raise ScriptError(f"{where}: mark {key!r} must be one of {sorted(allowed)}, got {mark[key]!r}")
    if mark.get("callback", "default") != "default":
        raise ScriptError(f"{where}: mark 'callback' can only be 'default' (now + 2 h), got {mark['callback']!r}")


def _node(name: str, raw: dict[str, Any], where: str) -> Node:
    # YAML 1.1 reads a bare `on:` key as the boolean True; scripts are written for people.
    raw = {("on" if key is True else key): value for key, value in raw.items()}
    known = {"say", "mark", "sms", "listen", "on", "otherwise", "verify", "collect", "branch", "cases",
             "goto", "transfer", "hangup", "reprompt"}
    unknown = set(raw) - known
    if unknown:
        raise ScriptError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(known)}")
    exits = [k for k in EXITS if k in raw]
    if len(exits) != 1:
        raise ScriptError(f"{where}: needs exactly one exit of {EXITS}, has {exits or 'none'}")
    mark = dict(raw.get("mark") or {})
    if set(mark) - MARK_KEYS:
        raise ScriptError(f"{where}: unknown mark keys {sorted(set(mark) - MARK_KEYS)}")
    _check_mark(mark, where)
    if "hangup" in raw and (not isinstance(raw["hangup"], str) or raw["hangup"] not in DISPOSITIONS):
        # The engine records it as the call's disposition: an unknown one would fail mid-call.
        raise ScriptError(f"{where}: hangup must be a disposition, one of {sorted(DISPOSITIONS)}; "
                          f"got {raw['hangup']!r}")
    say = raw.get("say") or []
    listen = None
    if "listen" in raw:
        spec = raw["listen"] or {}
        if set(spec) - LISTEN_KEYS:
            raise ScriptError(f"{where}: unknown listen keys {sorted(set(spec) - LISTEN_KEYS)}; "
                              f"allowed: {sorted(LISTEN_KEYS)}")
        if not isinstance(spec.get("barge_in", True), bool):
            raise ScriptError(f"{where}: listen barge_in must be true or false, got {spec['barge_in']!r}")
        keys = {str(k): next(iter(_intents(v, f"{where} keys"))) for k, v in (spec.get("keys") or {}).items()}
        listen = ListenSpec(str(spec.get("grammar", "open")), float(spec.get("timeout", 5)),
                            int(spec.get("max_digits", 1)), keys, spec.get("barge_in", True))
        if not raw.get("on") and not raw.get("verify") and not raw.get("otherwise"):
            raise ScriptError(f"{where}: a listening node needs 'on' rules, 'verify' or 'otherwise'")
    rules = tuple(_rule(r, f"{where} on[{i}]") for i, r in enumerate(raw.get("on") or []))
    if "branch" in raw and raw["branch"] not in BRANCH_SUBJECTS:
        raise ScriptError(f"{where}: cannot branch on {raw['branch']!r}; allowed: {sorted(BRANCH_SUBJECTS)}")
    cases = {str(k).lower() if not isinstance(k, bool) else ("yes" if k else "no"): str(v)
             for k, v in (raw.get("cases") or {}).items()}
    if "branch" in raw and set(cases) != BRANCH_SUBJECTS[raw["branch"]]:
        raise ScriptError(f"{where}: branch on {raw['branch']} needs cases {sorted(BRANCH_SUBJECTS[raw['branch']])}, "
                          f"has {sorted(cases)}")
    verify = raw.get("verify")
    if verify is not None and set(verify) != {"pass", "fail"}:
        raise ScriptError(f"{where}: verify needs exactly 'pass' and 'fail' targets")
    return Node(name=name, say=tuple([say] if isinstance(say, str) else say), mark=mark, sms=raw.get("sms"),
                listen=listen, rules=rules, otherwise=raw.get("otherwise"), verify=verify,
                collect=raw.get("collect"), branch=raw.get("branch"), cases=cases, goto=raw.get("goto"),
                transfer=raw.get("transfer"), hangup=raw.get("hangup"), reprompt=raw.get("reprompt"))


def parse_script(data: dict[str, Any], source: str = "<memory>") -> Script:
    check_shape(data, source)   # every value of the kind the format says, or a located error
    for key in ("script", "language", "start", "prompts", "states"):
        if key not in data:
            raise ScriptError(f"{source}: missing top-level key '{key}'")
    prompts = {str(k): str(v) for k, v in data["prompts"].items()}
    if str(data["language"]).lower().startswith("zh"):
        # Folded YAML lines leave spaces between Chinese characters; a TTS reads them as pauses.
        prompts = {k: re.sub(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])", "", v) for k, v in prompts.items()}
    nodes = {str(n): _node(str(n), raw or {}, f"{source}: state '{n}'") for n, raw in data["states"].items()}
    global_rules = tuple(_rule(r, f"{source}: global[{i}]") for i, r in enumerate(data.get("global") or []))
    script = Script(name=str(data["script"]), language=str(data["language"]), start=str(data["start"]),
                    prompts=prompts, nodes=nodes,
                    global_rules=global_rules, fallbacks=dict(data.get("fallbacks") or {}),
                    limits={"not_understood": 2, "silence": 2, **(data.get("limits") or {})},
                    checks=dict(data.get("checks") or {}), opt_out_key=str(data.get("opt_out_key", "9")),
                    source=source)
    validate(script)
    return script


def load_script(path: str | Path) -> Script:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScriptError(f"{path}: not valid YAML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ScriptError(f"{path}: not UTF-8 text (byte {exc.start}); save the script as UTF-8") from None
    except OSError as exc:
        raise ScriptError(f"{path}: cannot read: {exc.strerror}") from None
    if not isinstance(data, dict):
        raise ScriptError(f"{path}: a script is a mapping with script/language/start/prompts/states")
    return parse_script(data, str(path))


def shipped_script_path(name: str, language: str) -> Path:
    return Path(__file__).parent / "scripts" / f"{name}.{language}.yaml"


def validate(script: Script) -> None:
    src = script.source
    if script.start not in script.nodes:
        raise ScriptError(f"{src}: start state '{script.start}' is not defined")
    if set(script.fallbacks) - {"silence", "not_understood"}:
        raise ScriptError(f"{src}: fallbacks may only name 'silence' and 'not_understood'")
    for node in script.nodes.values():
        for target in script.successors(node):
            if target not in script.nodes:
                raise ScriptError(f"{src}: state '{node.name}' goes to unknown state '{target}'")
        for prompt in node.say + ((node.reprompt,) if node.reprompt else ()):
            if prompt not in script.prompts:
                raise ScriptError(f"{src}: state '{node.name}' says missing prompt '{prompt}'")
    for prompt_id in script.prompts:
        unknown = script.prompt_variables(prompt_id) - KNOWN_VARIABLES
        if unknown:
            raise ScriptError(f"{src}: prompt '{prompt_id}' uses unknown variables {sorted(unknown)}")
    reachable = _reachable(script, {script.start}, stop=lambda n: False)
    unreachable = sorted(set(script.nodes) - set(reachable))
    if unreachable:
        raise ScriptError(f"{src}: unreachable states {unreachable}")
    _check_disclosure(script)


def _reachable(script: Script, starts: set[str], stop: Any) -> dict[str, None]:
    """States reachable from `starts` without passing through a state for which stop(node) is true,
    nearest first (an ordered set)."""
    seen: dict[str, None] = {}
    queue = deque(s for s in starts)
    while queue:
        name = queue.popleft()
        if name in seen:
            continue
        seen[name] = None
        node = script.nodes[name]
        if stop(node) and name not in starts:
            continue
        queue.extend(script.successors(node))
    return seen


def _marks_verified(node: Node) -> bool:
    return node.mark.get("verified") is True


def _path_to(script: Script, start: str, goal: str, stop: Any) -> list[str]:
    parents: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        name = queue.popleft()
        if name == goal:
            break
        node = script.nodes[name]
        if stop(node) and name != start:
            continue
        for nxt in script.successors(node):
            if nxt not in parents:
                parents[nxt] = name
                queue.append(nxt)
    path: list[str] = []
    cursor: str | None = goal
    while cursor is not None:
        path.append(cursor)
        cursor = parents.get(cursor)
    return list(reversed(path))


def _check_disclosure(script: Script) -> None:
    src = script.source
    before = _reachable(script, {script.start}, stop=_marks_verified)
    for name in before:
        node = script.nodes[name]
        if script.discloses(node) and not _marks_verified(node):
            path = " → ".join(_path_to(script, script.start, name, _marks_verified))
            raise ScriptError(f"{src}: disclosure state '{name}' (mentions the debt) is reachable before "
                              f"identity verification: {path}")
    for name, node in script.nodes.items():
        if node.mark.get("party") in THIRD_PARTY_VALUES:
            after = _reachable(script, {name}, stop=lambda n: False)
            for other in after:
                target = script.nodes[other]
                if script.discloses(target) or _marks_verified(target):
                    path = " → ".join(_path_to(script, name, other, lambda n: False))
                    raise ScriptError(f"{src}: state '{other}' discloses or verifies after the third-party "
                                      f"state '{name}': {path}; a third party must never learn of the debt")
