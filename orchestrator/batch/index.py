"""``DIR/index.csv``: one row per input of a batch, what became of it, and its resume key.

Columns (`COLUMNS`): ``input`` (absolute path), ``name`` (``DIR/<name>.jsonl``), ``status``
(``done`` or ``failed``), ``frames`` (processed), ``fps`` (of the run), ``relations`` (relations
started), ``error`` (one line; for a done input empty, or ``truncated: ...`` when its video
was cut short or had undecodable frames), ``output_sha256`` (of the ``.jsonl``; empty when
failed), then the resume key ``size`` (bytes), ``mtime_ns``, ``pipeline_sha256``
(`orchestrator.batch.fingerprint`), and ``wall_s`` (seconds the input took, model loading included).

The batch appends a row, flushed, as each input ends, so a batch killed at any point keeps
every finished row; a later row for the same input replaces an earlier one, and the file is
rewritten compactly (to a temporary name, then renamed) at the start and end of each batch.
A half-written last line (a batch killed mid-write) is ignored when read.

Example:
    >>> import pathlib, tempfile
    >>> from dataclasses import replace
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "index.csv"
    >>> row = IndexRow("/v/a.mp4", "a", "done", 30, 29.5, 1, "", "ab" * 32, 1000, 17, "cd" * 32, 1.5)
    >>> with IndexAppender(path) as index:
    ...     index.append(row)
    ...     index.append(replace(row, status="failed", error="boom", output_sha256=""))
    >>> rows = read_index(path)
    >>> rows["/v/a.mp4"].status, rows["/v/a.mp4"].error
    ('failed', 'boom')
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import UserError

INDEX_NAME = "index.csv"
STATUSES = ("done", "failed")
COLUMNS = (
    "input",
    "name",
    "status",
    "frames",
    "fps",
    "relations",
    "error",
    "output_sha256",
    "size",
    "mtime_ns",
    "pipeline_sha256",
    "wall_s",
)
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class IndexRow:
    """One input's row; raises ValueError for a status not in `STATUSES`, a done row without a
    64-hex-digit ``output_sha256``, a failed row without an error, or a multi-line error."""

    input: str
    name: str
    status: str
    frames: int
    fps: float
    relations: int
    error: str
    output_sha256: str
    size: int
    mtime_ns: int
    pipeline_sha256: str
    wall_s: float

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        if self.status == "done" and not _HEX64.fullmatch(self.output_sha256):
            raise ValueError(f"a done row needs a 64-hex-digit output_sha256, got {self.output_sha256!r}")
        if self.status == "failed" and not self.error:
            raise ValueError("a failed row needs its error")
        if "\n" in self.error or "\r" in self.error:
            raise ValueError("error must be one line")
        if not self.name or "/" in self.name or self.name.startswith("."):
            raise ValueError(f"name must be a plain, visible file stem, got {self.name!r}")

    def to_csv(self) -> list[str]:
        return [str(getattr(self, column)) for column in COLUMNS]

    @classmethod
    def from_csv(cls, values: list[str]) -> IndexRow:
        """Raises ValueError for a row of the wrong length or with values of the wrong type."""
        if len(values) != len(COLUMNS):
            raise ValueError(f"expected {len(COLUMNS)} values, got {len(values)}")
        raw = dict(zip(COLUMNS, values, strict=True))
        return cls(
            input=raw["input"],
            name=raw["name"],
            status=raw["status"],
            frames=int(raw["frames"]),
            fps=float(raw["fps"]),
            relations=int(raw["relations"]),
            error=raw["error"],
            output_sha256=raw["output_sha256"],
            size=int(raw["size"]),
            mtime_ns=int(raw["mtime_ns"]),
            pipeline_sha256=raw["pipeline_sha256"],
            wall_s=float(raw["wall_s"]),
        )


def _line(values: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(list(values))
    return buffer.getvalue()


def read_index(path: Path) -> dict[str, IndexRow]:
    """The last row of each input in ``path`` (empty if there is no file).

    Raises `UserError` when the file is not a batch index (another header): the batch must not
    mistake, or overwrite, someone else's CSV. Rows that do not parse (a line cut short by a kill)
    are ignored; their inputs are processed again.
    """
    try:
        with open(path, encoding="utf-8", newline="") as file:
            text = file.read()
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the batch index: {getattr(exc, 'strerror', None) or exc}") from exc
    text = text[: text.rfind("\n") + 1]  # a last line cut short by a kill is not a whole row
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return {}
    if tuple(rows[0]) != COLUMNS:
        raise UserError(f"{path}: not a batch index (its header is not {','.join(COLUMNS)}); choose another --out")
    found: dict[str, IndexRow] = {}
    for values in rows[1:]:
        try:
            row = IndexRow.from_csv(values)
        except ValueError:
            continue
        found[row.input] = row
    return found


def write_index(path: Path, rows: Mapping[str, IndexRow]) -> None:
    """Rewrite ``path`` with ``rows`` (sorted by input), through a temporary file and a rename."""
    temporary = path.with_name(f".{path.name}.part-{os.getpid()}")
    with open(temporary, "w", encoding="utf-8", newline="") as file:
        file.write(_line(COLUMNS))
        for key in sorted(rows):
            file.write(_line(rows[key].to_csv()))
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


class IndexAppender:
    """Appends rows to an index, each flushed to disk before `append` returns; writes the header
    first when the file is new or empty, and ends a last line cut short first. A context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "ab+") as raw:  # a line cut by a kill: end it, so the next row starts afresh
            if raw.seek(0, os.SEEK_END) and (raw.seek(-1, os.SEEK_END), raw.read(1))[1] != b"\n":
                raw.write(b"\n")
        self._file = open(path, "a", encoding="utf-8", newline="")  # noqa: SIM115 (closed by close())
        if self._file.tell() == 0:
            self._write(_line(COLUMNS))

    def _write(self, text: str) -> None:
        self._file.write(text)
        self._file.flush()
        os.fsync(self._file.fileno())

    def append(self, row: IndexRow) -> None:
        self._write(_line(row.to_csv()))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> IndexAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_current(row: IndexRow | None, size: int, mtime_ns: int, pipeline_sha256: str, out_dir: Path) -> bool:
    """True if ``row`` is a done input with this resume key whose output is still in ``out_dir``.

    >>> is_current(None, 1, 2, "x", Path("."))
    False
    """
    return (
        row is not None
        and row.status == "done"
        and (row.size, row.mtime_ns, row.pipeline_sha256) == (size, mtime_ns, pipeline_sha256)
        and (out_dir / f"{row.name}.jsonl").is_file()
    )


__all__ = ["COLUMNS", "INDEX_NAME", "STATUSES", "IndexAppender", "IndexRow", "is_current", "read_index", "write_index"]
