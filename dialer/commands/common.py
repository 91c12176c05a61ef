"""What every command shares: building the app from the click context, JSON/table output, and
turning the domain's typed errors into one clear line and a non-zero exit."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from dialer.app import App, SchemaNotReady, build_app
from dialer.campaigns import CampaignError
from dialer.config import ConfigError
from dialer.importing.errors import FileProblem
from dialer.importing.mapping import MappingError

F = TypeVar("F", bound=Callable[..., Any])

# Errors a user can act on: printed as one line, exit status 1. Anything else is a bug: traceback.
USER_ERRORS: tuple[type[Exception], ...] = (ConfigError, SchemaNotReady, CampaignError, FileProblem,
                                            MappingError)


def user_errors(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def open_app(ctx: click.Context, *, require_schema: bool = True) -> Iterator[App]:
    obj = ctx.find_root().obj or {}
    app = build_app(config_path=obj.get("config_path"), db_url=obj.get("db_url"),
                    require_schema=require_schema)
    try:
        yield app
    finally:
        app.close()


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console().print(table)


def print_mapping(title: str, data: dict[str, Any]) -> None:
    print_table(title, ["field", "value"], [(k, v) for k, v in data.items()])


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
