"""Bulk INSERT/UPDATE/UPSERT of plain row dicts, for imports of a million rows.

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
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.compiler import SQLCompiler

CHUNK = 5000  # rows or values per statement: bound parameters stay far below SQLite's 32,766 limit
T = TypeVar("T")


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    keys = list(rows[0])
    compiled = insert(table).inline().compile(dialect=connection.dialect, column_keys=keys)
    _check_no_defaults(compiled, table, "insert")
    _execute(connection, table, compiled, rows)


def upsert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]], *,
                unique: Sequence[str], update_columns: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (unique) DO UPDATE SET update_columns: one statement, no look-up first.

    Columns not in `update_columns` keep what the existing row holds (its flags, its creation time).
    """
    if not rows:
        return
    keys = list(rows[0])
    dialects: dict[str, Callable[[Table], Any]] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
    if connection.dialect.name not in dialects:
        raise ValueError(f"bulk upsert into {table.name}: no ON CONFLICT support for {connection.dialect.name}")
    statement = dialects[connection.dialect.name](table).inline()
    statement = statement.on_conflict_do_update(
        index_elements=[table.c[name] for name in unique],
        set_={name: statement.excluded[name] for name in update_columns})
    compiled = statement.compile(dialect=connection.dialect, column_keys=keys)
    _check_no_defaults(compiled, table, "upsert")
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


def ids_by_key(connection: Connection, table: Table, key: str, values: Sequence[Any]) -> dict[Any, int]:
    """Primary keys of the rows whose unique column `key` holds one of `values`, by that value.

    One SELECT … WHERE key IN (…) per 5,000 values, compiled once per chunk length: an
    expanding IN is re-rendered by SQLAlchemy on every execution (~5 µs a value measured).
    """
    column = table.c[key]
    process = _processor(table, key, connection.dialect)
    compiled_by_length: dict[int, Any] = {}
    found: dict[Any, int] = {}
    for chunk in _chunks(values):
        length = len(chunk)
        if length not in compiled_by_length:
            statement = select(table.c.id, column).where(
                column.in_([bindparam(f"value_{i}") for i in range(length)]))
            compiled_by_length[length] = statement.compile(dialect=connection.dialect)
        compiled = compiled_by_length[length]
        bound = list(chunk) if process is None else _convert_column(process, chunk)
        by_name = {f"value_{i}": value for i, value in enumerate(bound)}
        params: Any = tuple(by_name[name] for name in compiled.positiontup) if compiled.positional else by_name
        found.update((value, row_id) for row_id, value in connection.exec_driver_sql(compiled.string, params))
    return found


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
    values_of = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    sql = compiled.string
    for chunk in _chunks(rows):
        # Column by column, with C-speed transposes, rather than value by value: columns without a
        # processor are not touched, and a processor runs once per distinct value of its column.
        params: list[Any] = list(map(values_of, chunk))
        if any(processors):
            columns: list[Any] = list(zip(*params))
            for i, process in enumerate(processors):
                if process is not None:
                    columns[i] = _convert_column(process, columns[i])
            params = list(zip(*columns))
        if not compiled.positional:
            params = [dict(zip(names, values)) for values in params]
        connection.exec_driver_sql(sql, params)


def _processor(table: Table, name: str, dialect: Any) -> Callable[[Any], Any] | None:
    column = table.c.id if name == "row_id" else table.c[name]
    return column.type.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]


def _convert_column(process: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    """`[process(v) for v in values]`, calling `process` once per distinct value.

    An import repeats values down a column (one `now`, a few hundred dates, a few zone lists,
    two owners). Values are told apart by repr, not equality: equal values are not always the same
    to a processor (two equal aware datetimes in different offsets, Decimal('1.0') and
    Decimal('1.00'), 1 and True, lists holding them), while our column values (str, int, float,
    date, datetime, enum members, None, lists and dicts of them) have one repr per distinct value;
    an object with the default repr is its own key. Bind processors are pure functions of the value.
    """
    if len(set(map(id, values))) == 1:   # one object all the way down (the import's `now`)
        return [process(values[0])] * len(values)
    keys = list(map(repr, values))
    one_of_each = dict(zip(keys, values))
    converted = {key: process(value) for key, value in one_of_each.items()}
    return list(map(converted.__getitem__, keys))


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]
