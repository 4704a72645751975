"""``jsonl``: write records to one more JSON Lines file, synchronously, as ``outputs.events`` does.

A file is the record of truth: it is written on the reading thread, each record complete and
flushed, and it never drops a record; a write error stops the run (`PipelineError`, the file
cut back to its last whole record), exactly as the events file (`orchestrator.events.JsonlSink`,
whose code this sink uses). The file is opened at the first record, so a run that cannot start
leaves it as it was.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "copy.jsonl"
    >>> sink = JsonlFileSink(str(path))
    >>> sink.write({"type": "summary", "seq": 0}); sink.close(1.0)
    >>> path.read_text(), sink.stats().sent
    ('{"type":"summary","seq":0}\\n', 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from orchestrator.events import JsonlSink
from orchestrator.sinks.base import Sink, SinkStats


class JsonlFileSink(Sink):
    """Writes each record to the file ``path`` (appending with ``append``); raises what `JsonlSink` raises."""

    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["path"],
        "properties": {
            "path": {
                "type": "string",
                "minLength": 1,
                "description": "A JSON Lines file (relative paths: to the pipeline).",
            },
            "append": {"type": "boolean", "description": "Append instead of replacing the file (default false)."},
        },
    }
    output_path_params: ClassVar[tuple[str, ...]] = ("path",)

    def __init__(self, path: str, append: bool = False) -> None:
        if path == "-":
            raise ValueError("path: a jsonl sink writes a file; stdout is outputs.events: -")
        self.path = path
        self._file = JsonlSink(path, append=append)

    def write(self, record: Mapping[str, Any]) -> None:
        self._file.write(record)

    def abandon(self) -> None:
        """For an exit at once: drop a half-written record (see `JsonlSink.abandon`)."""
        self._file.abandon()

    def close(self, timeout_s: float | None = None) -> None:
        self._file.close()

    def stats(self) -> SinkStats:
        return SinkStats(sent=self._file.written)
