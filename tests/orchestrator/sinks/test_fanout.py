"""`SinkSet`: the events file first, then each sink; the summary carries the counts; the waits are bounded."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from orchestrator.errors import PipelineError
from orchestrator.events import JsonlSink
from orchestrator.sinks.fanout import HURRIED_FLUSH_S, SinkSet
from orchestrator.sinks.jsonl import JsonlFileSink
from orchestrator.sinks.queued import DeliveryError, Item, QueuedSink


class Away(QueuedSink):
    """An endpoint that is never there."""

    def connect(self) -> None:
        raise DeliveryError("connection refused")

    def deliver(self, batch: list[Item]) -> None:
        raise AssertionError("never connected")


@pytest.mark.parametrize(("status", "bound_s"), [("completed", 3.0), ("interrupted", HURRIED_FLUSH_S)])
def test_the_summary_waits_for_the_sinks_boundedly(tmp_path: Path, status: str, bound_s: float) -> None:
    away = Away(flush_timeout_s=3.0, max_delay_s=0.1)
    sinks = SinkSet(JsonlSink(str(tmp_path / "e.jsonl")), [("away", "away", away)])
    sinks.start()
    sinks.write({"type": "tracks", "seq": 0})
    started = time.monotonic()
    sinks.write({"type": "summary", "seq": 1, "status": status})
    waited = time.monotonic() - started
    assert bound_s - 0.2 < waited < bound_s + 0.5  # it waited for the sink, and no longer than its bound
    started = time.monotonic()
    sinks.close()
    # One bound for both waits: the close does not wait a second flush_timeout_s after the summary's.
    assert time.monotonic() - started < 0.5
    summary = json.loads((tmp_path / "e.jsonl").read_text().splitlines()[-1])
    counts = summary["sinks"]["away"]
    assert (counts["sent"], counts["dropped"], counts["queued"]) == (0, 0, 1)  # still waiting when written
    assert counts["errors"] >= 1 and counts["last_error"] == "connection refused"
    final = sinks.stats()["away"]
    assert (final.sent, final.dropped, final.queued) == (0, 2, 0)  # then given up, the summary too
    assert sinks.describe().startswith("away: 0 sent, ")


def test_no_sinks_leaves_the_summary_as_it_is(tmp_path: Path) -> None:
    sinks = SinkSet(JsonlSink(str(tmp_path / "e.jsonl")))
    sinks.write({"type": "summary", "seq": 0, "status": "completed"})
    sinks.close()
    assert json.loads((tmp_path / "e.jsonl").read_text()) == {"type": "summary", "seq": 0, "status": "completed"}
    assert sinks.describe() == ""


def test_a_sink_file_that_fails_stops_the_run(tmp_path: Path) -> None:
    full = JsonlFileSink("/dev/full")
    sinks = SinkSet(JsonlSink(str(tmp_path / "e.jsonl")), [("full", "jsonl", full)])
    with pytest.raises(PipelineError, match="/dev/full: cannot write events: No space left on device"):
        sinks.write({"type": "tracks", "seq": 0})
    sinks.close()
    assert (tmp_path / "e.jsonl").read_text() == '{"type":"tracks","seq":0}\n'  # the events file came first
