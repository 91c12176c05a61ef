"""Bulk INSERT/UPDATE of plain row dicts, for imports of a million rows.

SQLAlchemy's executemany builds a parameter dict per row and runs it through the compiled
statement's machinery, ~25 µs a row for our tables; an import writes three rows per file row, so
that alone ate most of the 60 s budget of a 1,000,000-row import (benchmarks/import_accounts.py).
Here the statement is compiled once by SQLAlchemy, each column's own bind processor (the same one
SQLAlchemy would apply: UTC conversion, JSON, enums by value, SQLite date strings) is looked up
once, and the driver's executemany gets ready tuples. Rows must all have the same keys, and must
name every column with a Python-side default, since no default runs here (checked, not assumed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, update
from sqlalchemy.sql.compiler import SQLCompiler

CHUNK = 5000


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    keys = list(rows[0])
    compiled = insert(table).inline().compile(dialect=connection.dialect, column_keys=keys)
    _check_no_defaults(compiled, table, "insert")
    _execute(connection, table, compiled, rows)


def update_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE by primary key: each dict holds `row_id` and the columns to set."""
    if not rows:
        return
    keys = list(rows[0])
    statement = update(table).where(table.c.id == bindparam("row_id"))
    compiled = statement.compile(dialect=connection.dialect, column_keys=keys)
    _check_no_defaults(compiled, table, "update")
    _execute(connection, table, compiled, rows)


def _check_no_defaults(compiled: Any, table: Table, verb: str) -> None:
    pending = [*compiled.insert_prefetch, *compiled.update_prefetch, *compiled.postfetch]
    if pending or compiled.returning:
        names = ", ".join(c.name for c in pending) or "RETURNING"
        raise ValueError(f"bulk {verb} into {table.name} would skip column defaults ({names}): "
                         "give every such column a value")


def _execute(connection: Connection, table: Table, compiled: SQLCompiler, rows: Sequence[dict[str, Any]]) -> None:
    dialect = connection.dialect
    names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
    processors = [_processor(table, name, dialect) for name in names]
    plan = list(zip(names, processors))
    sql = compiled.string
    for chunk in _chunks(rows):
        if compiled.positional:
            params: list[Any] = [tuple(row[n] if p is None else p(row[n]) for n, p in plan) for row in chunk]
        else:
            params = [{n: row[n] if p is None else p(row[n]) for n, p in plan} for row in chunk]
        connection.exec_driver_sql(sql, params)


def _processor(table: Table, name: str, dialect: Any) -> Callable[[Any], Any] | None:
    column = table.c.id if name == "row_id" else table.c[name]
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return None if process is None else _repeat_last(process)


def _repeat_last(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Most rows of an import share one `now` and one campaign: convert a value seen just before once.

    Bind processors are pure functions of the value; identity (not equality) keeps 1 and True
    apart, and lists or dicts (JSON) are always converted since they could change in place.
    """
    last_in: Any = object()
    last_out: Any = None

    def run(value: Any) -> Any:
        nonlocal last_in, last_out
        if value is not last_in or isinstance(value, (list, dict)):
            last_in, last_out = value, process(value)
        return last_out

    return run


def _chunks(items: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]
