"""`QueuedSink`: retries, refusals, a full queue, a hung endpoint; every wait bounded, every record counted."""

from __future__ import annotations

import time
from typing import Any

import pytest

from orchestrator.sinks.queued import DeliveryError, Item, QueuedSink


class Scripted(QueuedSink):
    """Delivers per a script of outcomes, one per attempt: "ok", "fail", "fail:N" (N got through), "refuse"."""

    def __init__(self, outcomes: list[str], **queue: Any) -> None:
        super().__init__(**{"max_delay_s": 0.05, **queue})
        self.outcomes = list(outcomes)
        self.delivered: list[int] = []
        self.connects = 0

    def connect(self) -> None:
        self.connects += 1

    def deliver(self, batch: list[Item]) -> None:
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        seqs = [int(line.split('"seq":')[1].rstrip("}")) for _, line in batch]
        if outcome == "ok":
            self.delivered.extend(seqs)
            return
        if outcome == "refuse":
            raise DeliveryError("HTTP 400 Bad Request", permanent=True)
        through = int(outcome.split(":")[1]) if ":" in outcome else 0
        self.delivered.extend(seqs[:through])
        raise DeliveryError("connection lost", delivered=through)


def _fill(sink: QueuedSink, count: int) -> None:
    for seq in range(count):
        sink.write({"type": "x", "seq": seq})


@pytest.mark.parametrize(
    ("outcomes", "delivered", "counts"),
    [
        # (sent, retried, dropped, errors)
        (["ok"], list(range(5)), (5, 0, 0, 0)),
        (["fail", "fail", "ok"], list(range(5)), (5, 10, 0, 2)),
        (["fail:2", "ok"], list(range(5)), (5, 3, 0, 1)),
        (["refuse"], [], (0, 0, 5, 1)),
    ],
    ids=["delivered", "retried-twice", "partly-through", "refused"],
)
def test_outcomes_are_counted(outcomes: list[str], delivered: list[int], counts: tuple[int, ...]) -> None:
    sink = Scripted(outcomes)
    _fill(sink, 5)  # queued before the start: one batch
    sink.start()
    sink.close(timeout_s=5)
    stats = sink.stats()
    assert sink.delivered == delivered  # in order, none twice
    assert (stats.sent, stats.retried, stats.dropped, stats.errors) == counts
    assert stats.queued == 0
    assert sink.connects == 1 + sum(o.startswith("fail") for o in outcomes)  # a failure reconnects


def test_a_full_queue_drops_the_newest_and_never_blocks() -> None:
    sink = Scripted([], queue_size=3)
    started = time.monotonic()
    _fill(sink, 10)  # not started: nothing is taken off the queue
    assert time.monotonic() - started < 0.5
    assert (sink.stats().dropped, sink.stats().queued) == (7, 3)
    sink.start()
    sink.close(timeout_s=5)
    assert sink.delivered == [0, 1, 2]
    assert (sink.stats().sent, sink.stats().dropped, sink.stats().queued) == (3, 7, 0)


class Hung(QueuedSink):
    """An endpoint that never answers: each attempt waits until the sink is stopping."""

    def deliver(self, batch: list[Item]) -> None:
        while not self.stopping:
            time.sleep(0.01)
        raise DeliveryError("stopped while waiting for an answer")


def test_a_hung_endpoint_is_given_up_within_the_bound() -> None:
    sink = Hung(flush_timeout_s=0.3)
    sink.start()
    _fill(sink, 4)
    assert not sink.flush(0.2)  # bounded: False, records still waiting
    assert sink.stats().queued == 4
    started = time.monotonic()
    sink.close()
    assert time.monotonic() - started < 1.5
    assert (sink.stats().sent, sink.stats().dropped, sink.stats().queued) == (0, 4, 0)
    sink.write({"type": "x", "seq": 9})  # after close: counted, never raised
    assert sink.stats().dropped == 4  # final counts stay final


class Broken(QueuedSink):
    """A plugin with a bug: its unexpected exception is one failed attempt, not a dead worker."""

    def __init__(self) -> None:
        super().__init__(max_delay_s=0.05)
        self.calls = 0

    def deliver(self, batch: list[Item]) -> None:
        self.calls += 1
        if self.calls == 1:
            raise KeyError("oops")


def test_an_unexpected_error_is_a_failed_attempt() -> None:
    sink = Broken()
    sink.start()
    _fill(sink, 2)
    sink.close(timeout_s=5)
    stats = sink.stats()
    assert (stats.sent, stats.errors, stats.last_error) == (2, 1, "KeyError: 'oops'")


def test_close_on_a_sink_never_started_drops_what_it_holds() -> None:
    sink = Scripted([])
    _fill(sink, 2)
    sink.close(timeout_s=0.1)
    sink.close()  # twice is fine
    assert (sink.stats().sent, sink.stats().dropped) == (0, 2)
