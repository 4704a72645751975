"""Merging the streams' records: a fixed order when deterministic, arrival order in realtime, bounded."""

from __future__ import annotations

import threading
import time

import pytest

from orchestrator.streams.merge import RecordMerger


def _feed(merger: RecordMerger, items: list[tuple[str, int]]) -> None:
    for name, frame in items:
        assert merger.put(name, {"frame": frame})


@pytest.mark.parametrize(
    ("ordered", "expected"),
    [
        # Progress (the highest frame so far) orders them; a record about an earlier frame (a
        # relation's onset) keeps its place after the frame it was emitted at.
        (True, [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("b", 0), ("a", 2)]),
        (False, [("b", 0), ("b", 1), ("a", 0), ("b", 0), ("a", 1), ("a", 2)]),
    ],
)
def test_order(ordered: bool, expected: list[tuple[str, int]]) -> None:
    merger = RecordMerger(["a", "b"], ordered=ordered)
    _feed(merger, [("b", 0), ("b", 1), ("a", 0), ("b", 0), ("a", 1), ("a", 2)])
    merger.end("a")
    merger.end("b")
    assert [(name, record["frame"]) for name, record in iter(merger.next, None)] == expected


def test_ordered_waits_for_every_live_stream_and_gives_up_when_told() -> None:
    merger = RecordMerger(["a", "b"], ordered=True)
    _feed(merger, [("a", 0)])
    started = time.monotonic()
    # b has nothing yet and has not ended: a's record cannot go first for sure.
    assert merger.next(give_up=lambda: time.monotonic() - started > 0.2) is None
    assert merger.open_streams == ["a", "b"]
    merger.end("b")
    assert merger.next() == ("a", {"frame": 0})


def test_a_full_queue_holds_its_stream_back_until_read_or_closed() -> None:
    merger = RecordMerger(["a"], ordered=False, capacity=2)
    _feed(merger, [("a", 0), ("a", 1)])
    results: list[bool] = []
    writer = threading.Thread(target=lambda: results.append(merger.put("a", {"frame": 2})))
    writer.start()
    time.sleep(0.15)
    assert writer.is_alive()  # waiting for room
    assert merger.next() == ("a", {"frame": 0})
    writer.join(1)
    assert results == [True]
    closer = threading.Thread(target=lambda: results.append(merger.put("a", {"frame": 3})))
    closer.start()
    time.sleep(0.1)
    merger.close()
    closer.join(1)
    assert results == [True, False]
