"""Every `dialer` command explains itself: help text with a runnable example, `--help` that
works without a database, and `--json` on every command that reports."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from cli import main

# Commands that only act (their output is one confirmation line): no --json needed.
ACTIONS = {"agent add", "agent call", "agent login", "agent logout", "agent pause", "agent resume", "agent skip",
           "agi-server", "campaign pause", "campaign resume", "campaign start", "campaign stop", "db upgrade",
           "dnc add", "dnc remove"}


def commands(group: click.Group = main, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        yield " ".join((*path, name)), command
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


ALL = list(commands())
LEAVES = [(name, command) for name, command in ALL if not isinstance(command, click.Group)]


def test_the_walk_finds_the_supervisor_commands() -> None:
    names = {name for name, _ in ALL}
    assert {"report", "top", "campaign hours", "campaign start", "account paid", "strategy show"} <= names


@pytest.mark.parametrize("name, command", ALL, ids=[name for name, _ in ALL])
def test_every_command_has_help_and_every_leaf_an_example(name: str, command: click.Command) -> None:
    assert (command.help or "").strip(), f"`dialer {name}` has no help text"
    if not isinstance(command, click.Group):
        assert re.search(r"Examples?:\s+(\w+=\S+ )*dialer ", command.help or ""), f"`dialer {name} --help` shows no example"


@pytest.mark.parametrize("name, command", LEAVES, ids=[name for name, _ in LEAVES])
def test_every_reporting_command_has_json(name: str, command: click.Command) -> None:
    if name in ACTIONS:
        return
    assert "--json" in {opt for param in command.params for opt in getattr(param, "opts", [])}, \
        f"`dialer {name}` reports but has no --json"


@pytest.mark.parametrize("name", [name for name, _ in ALL])
def test_help_runs_without_a_database(name: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*name.split(), "--help"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Usage: main " in result.output or "Usage: dialer " in result.output
