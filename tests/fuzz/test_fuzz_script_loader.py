"""Bad input fuzzing of the bot script loader: any YAML (random documents, and the shipped script
with a random part replaced by random YAML) either loads as a validated script or fails with a
`ScriptError` that names the file, never a bare TypeError/AttributeError from deep inside."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.bot.script import Script, ScriptError, load_script, shipped_script_path

SHIPPED = yaml.safe_load(shipped_script_path("collection", "en-US").read_text(encoding="utf-8"))
KEYS = ["script", "language", "start", "prompts", "states", "global", "fallbacks", "limits", "checks",
        "opt_out_key", "say", "goto", "listen", "on", "intent", "hangup", "branch", "verify", "mark", "x"]

yaml_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=10), st.sampled_from(["opening", "verified", "en-US", "zh-CN", "promise"])),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.sampled_from(KEYS), children, max_size=4)),
    max_leaves=10)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside the shipped script (dict keys and list indexes)."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, prefix + (i,))
    return out


PATHS = _paths(SHIPPED)


def _replaced(path: tuple[Any, ...], value: Any) -> Any:
    data = copy.deepcopy(SHIPPED)
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return data


def _check(tmp: Path, document: Any) -> None:
    path = tmp / "collection.en-US.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    try:
        script = load_script(path)
    except ScriptError as error:
        assert str(error).startswith(str(path)), str(error)
    else:
        assert isinstance(script, Script) and script.start in script.nodes


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), value=yaml_value)
def test_given_the_shipped_script_with_one_part_replaced_then_it_loads_or_fails_with_a_located_error(
        tmp_path_factory, path, value) -> None:  # type: ignore[no-untyped-def]
    _check(tmp_path_factory.mktemp("script"), _replaced(path, value))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=yaml_value)
def test_given_any_yaml_document_then_it_loads_or_fails_with_a_located_error(tmp_path_factory, document) -> None:  # type: ignore[no-untyped-def]
    _check(tmp_path_factory.mktemp("script"), document)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_given_any_bytes_then_the_loader_answers_with_a_script_error(tmp_path_factory, raw) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("script") / "broken.en-US.yaml"
    path.write_bytes(raw)
    try:
        load_script(path)
    except ScriptError as error:
        assert str(error).startswith(str(path))
