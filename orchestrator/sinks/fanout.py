"""`SinkSet`: one run's events file and its ``outputs.sinks``, fed every record in order.

The events file (``outputs.events`` / ``--events``) is written first and synchronously: its
errors stop the run as they always did. Then each sink of ``outputs.sinks`` takes the record (a
network sink only queues it). When the ``summary`` record comes, the set waits, boundedly, for
the network sinks to deliver what they hold (each up to its ``flush_timeout_s``; after Ctrl-C
or an error, all the waits together end within 0.5 s), and adds their counts to the summary as
``sinks``: that is the state just before the summary itself was sent. `SinkSet.close` then
delivers the summary within the same bounds, and `SinkSet.stats` has the final counts (the CLI
prints them).

Example:
    >>> import io, json, pathlib, tempfile
    >>> from orchestrator.events import JsonlSink
    >>> from orchestrator.sinks.jsonl import JsonlFileSink
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> sinks = SinkSet(JsonlSink(str(folder / "e.jsonl")), [("copy", "jsonl", JsonlFileSink(str(folder / "c.jsonl")))])
    >>> sinks.start(); sinks.write({"type": "x", "seq": 0}); sinks.write({"type": "summary", "seq": 1})
    >>> sinks.close()
    >>> json.loads((folder / "e.jsonl").read_text().splitlines()[-1])["sinks"]
    {'copy': {'type': 'jsonl', 'sent': 1, 'retried': 0, 'dropped': 0, 'queued': 0, 'errors': 0}}
    >>> sinks.stats()["copy"].sent
    2
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.events import JsonlSink
from orchestrator.sinks.base import Sink, SinkStats

#: The longest a stopped or failed run waits for its network sinks, all together (a Ctrl-C stops in about a second).
HURRIED_FLUSH_S = 0.5


class SinkSet:
    """The events file ``events`` and the named sinks ``(name, type, sink)`` of one run."""

    def __init__(self, events: JsonlSink, sinks: Sequence[tuple[str, str, Sink]] = ()) -> None:
        self.events = events
        self.sinks = list(sinks)
        #: Once a stop is asked (or the run failed): when every wait for the sinks ends, together.
        self._hurry_until: float | None = None
        #: When the summary's wait for the sinks began: the close's wait shares its bound.
        self._waits_started: float | None = None
        self._closed = False

    def start(self) -> None:
        """Start every sink (network sinks connect in the background)."""
        for _, _, sink in self.sinks:
            sink.start()

    def hurry(self) -> None:
        """A stop was asked, or the run failed: from now on, all waits for the sinks together end within
        `HURRIED_FLUSH_S` (the summary's wait and the close's)."""
        if self._hurry_until is None:
            self._hurry_until = time.monotonic() + HURRIED_FLUSH_S

    def _deadline(self, start: float, sink: Sink) -> float:
        own = start + float(getattr(sink, "flush_timeout_s", 0.0))
        return own if self._hurry_until is None else min(own, self._hurry_until)

    def write(self, record: Mapping[str, Any]) -> None:
        """Write ``record`` to the events file, then to each sink; a summary gets the sinks' counts first."""
        if record.get("type") == "summary" and self.sinks:
            if record.get("status") in ("interrupted", "error"):
                self.hurry()
            self._flush()
            record = {**record, "sinks": self.counts()}
        self.events.write(record)
        for _, _, sink in self.sinks:
            sink.write(record)

    def _flush(self) -> None:
        start = self._waits_started = time.monotonic()
        for _, _, sink in self.sinks:  # they drain in parallel: each waits out what is left of its own bound
            sink.flush(max(0.0, self._deadline(start, sink) - time.monotonic()))

    def counts(self) -> dict[str, dict[str, Any]]:
        """Each sink's counts now, as the summary's ``sinks`` field has them."""
        return {name: {"type": kind, **sink.stats().to_json()} for name, kind, sink in self.sinks}

    def stats(self) -> dict[str, SinkStats]:
        """Each sink's counts now (final after `close`)."""
        return {name: sink.stats() for name, _, sink in self.sinks}

    def abandon(self) -> None:
        """For an exit at once: cut each file back to its last whole record; network sinks are left as they are."""
        self.events.abandon()
        for _, _, sink in self.sinks:
            abandon = getattr(sink, "abandon", None)
            if callable(abandon):
                abandon()

    def close(self) -> None:
        """Close the events file, then every sink within its bound (together, not one after another)."""
        if self._closed:
            return
        self._closed = True
        self.events.close()
        # One bound for both waits: the summary's and the close's share each sink's flush_timeout_s
        # (a sink that could not drain before the summary does not get a second full wait).
        start = self._waits_started if self._waits_started is not None else time.monotonic()
        for _, _, sink in self.sinks:
            sink.close(max(0.0, self._deadline(start, sink) - time.monotonic()))

    def describe(self) -> str:
        """One line of final counts for the end of a run ('' without sinks)."""
        return "; ".join(f"{name}: {stats.describe()}" for name, stats in self.stats().items())
