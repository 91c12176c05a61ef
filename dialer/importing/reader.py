"""Read CSV and XLSX files as (line number, {column header: text}) rows."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from dialer.importing.errors import FileProblem

Row = tuple[int, dict[str, str]]


@contextmanager
def open_table(path: Path) -> Iterator[tuple[list[str], Iterator[Row]]]:
    """Header and rows of a CSV/XLSX file, closed on exit even if the rows were never read.

    Raises FileProblem for an unreadable file or a missing header.
    """
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        header, rows, close = _read_xlsx(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        header, rows, close = _read_csv(path, delimiter="\t" if suffix == ".tsv" else ",")
    else:
        raise FileProblem(f"{path}: unsupported file type {suffix!r} (use .csv or .xlsx)")
    try:
        yield header, rows
    finally:
        close()


def _read_csv(path: Path, *, delimiter: str) -> tuple[list[str], Iterator[Row], Callable[[], None]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise FileProblem(f"{path}: file not found") from None
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        handle.close()
        raise FileProblem(f"{path}:1: empty file (expected a header row)") from None
    except UnicodeDecodeError:
        handle.close()
        raise FileProblem(f"{path}: not UTF-8 text (save the CSV as UTF-8)") from None

    def rows() -> Iterator[Row]:
        line = reader.line_num
        try:
            for values in reader:
                start, line = line + 1, reader.line_num
                texts = [v.strip() for v in values]
                if any(texts):
                    yield start, dict(zip(header, texts, strict=False))
        except UnicodeDecodeError:
            raise FileProblem(f"{path}:{line + 1}: not UTF-8 text (save the CSV as UTF-8)") from None
        except csv.Error as exc:
            raise FileProblem(f"{path}:{reader.line_num}: malformed CSV: {exc}") from None

    return header, rows(), handle.close


def _read_xlsx(path: Path) -> tuple[list[str], Iterator[Row], Callable[[], None]]:
    import openpyxl  # imported here: loading it costs ~0.3 s, and CSV imports don't need it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise FileProblem(f"{path}: file not found") from None
    except Exception as exc:  # openpyxl raises many types for a corrupt file
        raise FileProblem(f"{path}: not a readable XLSX workbook ({exc.__class__.__name__})") from None
    sheet = book.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    try:
        header = [_cell_text(h) for h in next(it)]
    except StopIteration:
        book.close()
        raise FileProblem(f"{path}:1: empty sheet (expected a header row)") from None

    def rows() -> Iterator[Row]:
        for line, values in enumerate(it, start=2):
            texts = [_cell_text(v) for v in values]
            if any(texts):
                yield line, dict(zip(header, texts, strict=False))

    return header, rows(), book.close


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
