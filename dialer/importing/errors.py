"""Import errors, each naming the file, line and column so a supervisor can fix the row."""

from __future__ import annotations

from dataclasses import dataclass


class FileProblem(Exception):
    """The file as a whole cannot be imported (missing, unreadable, no header, missing columns)."""


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.reason}"


class ImportRejected(Exception):
    """Atomic import refused: the file has bad rows and nothing was written."""

    def __init__(self, errors: list[RowError], *, bad_rows: int, rows: int) -> None:
        super().__init__(f"{len(errors)} error(s) in {bad_rows} of {rows} row(s); nothing imported")
        self.errors = errors
        self.bad_rows = bad_rows
        self.rows = rows
