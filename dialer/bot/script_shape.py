"""The shape of a script file, checked before `parse_script` reads it.

`parse_script` trusts that each key holds the kind of value the format describes (a mapping of
states, a list of rules, text for targets). A hand-edited file can hold anything YAML can say;
without this check a list where a mapping belongs surfaced as a bare TypeError/AttributeError
with no file or state named (found by tests/fuzz/test_fuzz_script_loader.py). Every error here
names the file, the state and the key, in the words of the format.
"""

from __future__ import annotations

from typing import Any

TEXT = (str,)
SCALAR = (str, int, float)
NUMBER = (int, float)


def _error(where: str, message: str) -> Exception:
    from dialer.bot.script import ScriptError   # script.py imports this module: import late

    return ScriptError(f"{where}: {message}")


def _describe(value: Any) -> str:
    kind = {dict: "a mapping", list: "a list", bool: "true/false", type(None): "empty"}.get(type(value))
    return kind or f"{type(value).__name__} {value!r}"[:60]


def _expect(value: Any, kinds: tuple[type, ...], where: str, what: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    # bool is an int to Python, but `timeout: yes` is a mistake, not a number.
    if isinstance(value, bool) and bool not in kinds:
        raise _error(where, f"{what} must be {_kinds(kinds)}, not {_describe(value)}")
    if not isinstance(value, kinds):
        raise _error(where, f"{what} must be {_kinds(kinds)}, not {_describe(value)}")


def _kinds(kinds: tuple[type, ...]) -> str:
    names = {str: "text", int: "a whole number", float: "a number", dict: "a mapping", list: "a list",
             bool: "true/false"}
    return " or ".join(dict.fromkeys(names[k] for k in kinds))


def _mapping(value: Any, where: str, what: str, *, keys: tuple[type, ...] = SCALAR + (bool,),
             values: tuple[type, ...] | None = None, optional: bool = True) -> dict[Any, Any]:
    _expect(value, (dict,), where, what, optional=optional)
    for key, item in (value or {}).items():
        _expect(key, keys, where, f"a key of {what}")
        if values is not None:
            _expect(item, values, where, f"{what}[{key!r}]")
    return value or {}


def check_shape(data: Any, source: str) -> None:
    """Raise ScriptError naming file/state/key for the first value of the wrong kind."""
    _expect(data, (dict,), source, "a script", optional=False)
    for key in ("script", "language", "start", "opt_out_key"):
        if key in data:
            _expect(data[key], SCALAR, source, f"'{key}'")
    # A missing section is parse_script's error ("missing top-level key"); an empty one is ours.
    _mapping(data.get("prompts"), source, "'prompts'", values=SCALAR, optional="prompts" not in data)
    states = _mapping(data.get("states"), source, "'states'", optional="states" not in data)
    for index, rule in enumerate(_list(data.get("global"), source, "'global'")):
        _rule(rule, f"{source}: global[{index}]")
    _mapping(data.get("fallbacks"), source, "'fallbacks'", keys=TEXT, values=TEXT)
    _mapping(data.get("limits"), source, "'limits'", keys=TEXT, values=(int,))
    _mapping(data.get("checks"), source, "'checks'", values=SCALAR)
    for name, raw in states.items():
        where = f"{source}: state '{name}'"
        node = _mapping(raw, where, "a state", keys=TEXT + (bool,))
        _node(node, where)


def _list(value: Any, where: str, what: str) -> list[Any]:
    _expect(value, (list,), where, what, optional=True)
    return value or []


def _rule(raw: Any, where: str) -> None:
    rule = _mapping(raw, where, "a rule", keys=TEXT, optional=False)
    _intents(rule.get("intent"), where)
    _expect(rule.get("goto"), TEXT, where, "'goto'", optional=True)
    for key in ("min_willingness", "max_willingness"):
        _expect(rule.get(key), NUMBER, where, f"'{key}'", optional=True)
    for key in ("has_date", "has_amount"):
        _expect(rule.get(key), (bool,), where, f"'{key}'", optional=True)


def _intents(value: Any, where: str) -> None:
    if isinstance(value, list) and not value:
        raise _error(where, "'intent' lists no intent")
    for item in value if isinstance(value, list) else [value]:
        _expect(item, TEXT, where, "an intent", optional=value is None)


def _node(raw: dict[Any, Any], where: str) -> None:
    say = raw.get("say")
    if isinstance(say, list):
        for item in say:
            _expect(item, TEXT, where, "each prompt in 'say'")
    else:
        _expect(say, TEXT, where, "'say'", optional=True)
    _mapping(raw.get("mark"), where, "'mark'", keys=TEXT)
    for key in ("sms", "otherwise", "goto", "transfer", "hangup", "reprompt", "branch"):
        _expect(raw.get(key), TEXT, where, f"'{key}'", optional=True)
    if "listen" in raw:
        spec = _mapping(raw["listen"], where, "'listen'", keys=TEXT)
        # Present means set: the parser reads these with defaults only for a missing key.
        _expect(spec.get("grammar"), SCALAR, where, "'listen.grammar'", optional="grammar" not in spec)
        _expect(spec.get("timeout"), NUMBER, where, "'listen.timeout'", optional="timeout" not in spec)
        _expect(spec.get("max_digits"), (int,), where, "'listen.max_digits'", optional="max_digits" not in spec)
        # A key press means exactly one intent.
        _mapping(spec.get("keys"), where, "'listen.keys'", values=TEXT)
    rules = raw.get("on", raw.get(True))   # YAML 1.1 reads a bare `on:` as true
    for index, rule in enumerate(_list(rules, where, "'on'")):
        _rule(rule, f"{where} on[{index}]")
    _mapping(raw.get("cases"), where, "'cases'", values=TEXT)
    _mapping(raw.get("verify"), where, "'verify'", keys=TEXT, values=TEXT)
    collect = _mapping(raw.get("collect"), where, "'collect'", keys=TEXT)
    _expect(collect.get("goto"), TEXT, where, "'collect.goto'", optional=True)
    _expect(collect.get("max_digits"), (int,), where, "'collect.max_digits'", optional=True)
    _expect(collect.get("timeout"), NUMBER, where, "'collect.timeout'", optional=True)
