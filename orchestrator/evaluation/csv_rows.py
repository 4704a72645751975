"""Reading the label files the evaluation commands take: CSV with a header, one record a row.

Every problem is a `UserError` naming the file and line (``labels.csv:12: frame must be an
integer, got 'x'``), never a traceback.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "l.csv"
    >>> _ = path.write_text("frame,hand\\n0,left\\n\\n3,right\\n")
    >>> found = rows(path, ("frame", "hand"), "labels")
    >>> [(line, row["hand"], integer(path, line, "frame", row["frame"])) for line, row in found]
    [(2, 'left', 0), (4, 'right', 3)]
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

from orchestrator.errors import UserError


def rows(path: Path, columns: Sequence[str], what: str) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, {column: stripped text})`` for each non-blank row of ``path``.

    Args:
        path: the CSV file; its first line names the columns (any order, extra columns allowed).
        columns: the columns the caller needs.
        what: what the file holds, for the message when it cannot be read ("hand labels").

    Raises:
        UserError: unreadable file, no header, a missing column, or a row shorter than the header.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise UserError(f"{path}:1: empty file, expected a header {','.join(columns)}")
            names = [h.strip() for h in header]
            missing = [c for c in columns if c not in names]
            if missing:
                raise UserError(f"{path}:1: missing column(s) {', '.join(missing)}; header is {','.join(names)}")
            index = {c: names.index(c) for c in columns}
            for row in reader:
                if not row or all(not cell.strip() for cell in row):
                    continue  # blank lines (often a trailing one) carry nothing
                if len(row) < len(names):
                    raise UserError(f"{path}:{reader.line_num}: expected {len(names)} columns, got {len(row)}")
                yield reader.line_num, {c: row[index[c]].strip() for c in columns}
    except OSError as exc:
        raise UserError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{path}: not a readable CSV file: {exc}") from exc


def integer(path: Path, line: int, column: str, text: str) -> int:
    """``text`` as an integer >= 0, or a `UserError` naming the file, line and column."""
    try:
        value = int(text)
    except ValueError:
        raise UserError(f"{path}:{line}: {column} must be an integer, got {text!r}") from None
    if value < 0:
        raise UserError(f"{path}:{line}: {column} must be >= 0, got {value}")
    return value


def number(path: Path, line: int, column: str, text: str) -> float:
    """``text`` as a finite number, or a `UserError` naming the file, line and column."""
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{path}:{line}: {column} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise UserError(f"{path}:{line}: {column} must be finite, got {text!r}")
    return value
