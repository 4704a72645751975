"""Reading an events file (JSON Lines written by ``run --events``) back, checked line by line.

Each non-blank line must be one JSON object with a ``schema`` of this package's events schema
(``orchestrator.events/N``, ``N`` from 1 to the current version, `SCHEMA_ID`), a string ``type``,
an integer ``frame >= 0`` and a number ``time``. Anything else is a one-line `UserError` naming the
file and line: a file that is not an events file fails on its first line, not with a traceback.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.jsonl"
    >>> _ = path.write_text('{"schema":"orchestrator.events/2","seq":0,"type":"tracks","frame":0,"time":0.0}\\n')
    >>> events = read_events(path)
    >>> [r["type"] for r in events.records], len(events.of_type("tracks"))
    (['tracks'], 1)
    >>> events.require("detections", "outputs.records: [detections]")
    Traceback (most recent call last):
    ...
    orchestrator.errors.UserError: ...events.jsonl: no 'detections' records; the run must write them (...)
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.errors import UserError
from orchestrator.events import SCHEMA_ID

#: The schema name every record's ``schema`` starts with; the version follows the slash.
SCHEMA_NAME = SCHEMA_ID.split("/")[0]
#: The newest schema version this package writes (and so reads).
SCHEMA_VERSION = int(SCHEMA_ID.split("/")[1])
#: The ``schema`` values `read_events` accepts: every version up to the current one.
SUPPORTED_SCHEMAS: tuple[str, ...] = tuple(f"{SCHEMA_NAME}/{v}" for v in range(1, SCHEMA_VERSION + 1))

Record = dict[str, Any]


@dataclass(frozen=True)
class EventsFile:
    """The records of one events file, in file order.

    Attributes:
        path: the file read.
        records: every record, as a dict, in file order.
        cut_last_line: True when the file ended in a line cut short (no newline, not JSON: a run
            killed while writing it), which was left out.
    """

    path: Path
    records: tuple[Record, ...]
    cut_last_line: bool = False

    def of_type(self, kind: str) -> list[Record]:
        """The records whose ``type`` is ``kind``, in file order."""
        return [r for r in self.records if r["type"] == kind]

    def require(self, kind: str, how: str) -> list[Record]:
        """`of_type`, or a `UserError` when there is none; ``how`` says how a run writes them."""
        found = self.of_type(kind)
        if not found:
            raise UserError(f"{self.path}: no {kind!r} records; the run must write them ({how})")
        return found

    def field(self, record: Record, name: str, kind: type | tuple[type, ...]) -> Any:
        """``record[name]``, checked to be of ``kind``; a `UserError` naming the record otherwise."""
        value = record.get(name)
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            expected = " or ".join(t.__name__ for t in _as_tuple(kind))
            raise UserError(
                f"{self.path}: record seq {record.get('seq')} ({record['type']}, frame {record['frame']}): "
                f"field {name!r} must be {expected}, got {value!r}"
            )
        return value

    def select_detector(self, records: list[Record], detector: str | None, flag: str = "--detector") -> list[Record]:
        """The records of ``detector`` (their ``detector`` field); with ``None``, of the only detector there is.

        Raises `UserError` when ``detector`` wrote none of them, or when ``None`` is given and
        several detectors did (tracks of two trackers would mix their ids): it names them.
        """
        names = list(dict.fromkeys(str(r.get("detector", "")) for r in records))
        if detector is None:
            if len(names) > 1:
                raise UserError(
                    f"{self.path}: {records[0]['type']} records of several detectors ({', '.join(names)}); "
                    f"choose one with {flag}"
                )
            return records
        chosen = [r for r in records if r.get("detector") == detector]
        if not chosen:
            raise UserError(
                f"{self.path}: no {records[0]['type']} records of detector {detector!r}; there are: {', '.join(names)}"
            )
        return chosen


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _check(path: Path, line: int, value: Any) -> Record:
    where = f"{path}:{line}"
    if not isinstance(value, Mapping):
        raise UserError(f"{where}: not an events file: expected a JSON object per line, got {type(value).__name__}")
    schema = value.get("schema")
    if not isinstance(schema, str) or not schema.startswith(f"{SCHEMA_NAME}/"):
        raise UserError(f"{where}: not an events file: 'schema' is {schema!r}, expected {SCHEMA_ID!r}")
    if schema not in SUPPORTED_SCHEMAS:
        raise UserError(
            f"{where}: schema {schema!r} is not supported; this version reads {', '.join(SUPPORTED_SCHEMAS)}"
        )
    if not isinstance(value.get("type"), str):
        raise UserError(f"{where}: record without a 'type' string")
    frame = value.get("frame")
    if isinstance(frame, bool) or not isinstance(frame, int) or frame < 0:
        raise UserError(f"{where}: 'frame' must be an integer >= 0, got {frame!r}")
    time = value.get("time")
    if isinstance(time, bool) or not isinstance(time, numbers.Real):
        raise UserError(f"{where}: 'time' must be a number of seconds, got {time!r}")
    return dict(value)


def read_events(path: str | Path) -> EventsFile:
    """Read and check every record of the events file ``path`` (JSON Lines; blank lines skipped).

    Raises `UserError` for a file that cannot be read, a line that is not a JSON object of the
    events schema, a schema version this package does not read (`SUPPORTED_SCHEMAS`), a record
    without ``type``, ``frame`` or ``time``, or a file without records. A last line cut short
    (no newline and not JSON, as a run killed mid-write leaves it) is left out and flagged in
    ``cut_last_line``; the records before it are read.
    """
    path = Path(path)
    records: list[Record] = []
    cut = False
    try:
        with path.open(encoding="utf-8") as handle:
            for line, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as exc:
                    if records and not text.endswith("\n") and not handle.read(1):
                        cut = True  # the last line, cut short: a run killed mid-record (SIGKILL, power loss)
                        break
                    raise UserError(f"{path}:{line}: not an events file: the line is not JSON ({exc.msg})") from None
                records.append(_check(path, line, value))
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, expected an events file (JSON Lines from run --events)") from None
    except OSError as exc:
        raise UserError(f"cannot read events file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise UserError(f"{path}: not an events file: not UTF-8 text") from None
    if not records:
        raise UserError(f"{path}: no records; an events file holds one JSON record per line (run --events)")
    return EventsFile(path, tuple(records), cut_last_line=cut)
