"""`QueuedSink`: a network sink's bounded queue and worker thread, with back-off, reconnect and drop counting.

The reading thread only serialises a record and puts it in a bounded queue (`Sink.write` never
blocks: a record that finds the queue full is dropped and counted). One worker thread takes
batches off the queue and hands them to the subclass's `QueuedSink.deliver`; a failed attempt
(`DeliveryError`) disconnects, waits (0.2 s, doubling up to ``max_delay_s``), reconnects and
tries the undelivered rest of the batch again, counting it as retried, for as long as the run
goes on. A refusal that a retry cannot mend (``permanent``, such as HTTP 400) drops the batch.
`QueuedSink.close` waits a bounded time for the queue to drain; what is left is dropped.

Subclasses implement `QueuedSink.connect`, `QueuedSink.deliver`, `QueuedSink.disconnect` and,
for a connection that needs keeping alive, `QueuedSink.idle`; all of them run on the worker
thread only, and should poll `QueuedSink.stopping` in any wait longer than a fraction of a second.

Example:
    >>> class Listed(QueuedSink):
    ...     def __init__(self) -> None:
    ...         super().__init__(queue_size=2)
    ...         self.got: list[str] = []
    ...     def deliver(self, batch: list[Item]) -> None:
    ...         self.got.extend(line for _, line in batch)
    >>> sink = Listed()
    >>> for seq in range(3):
    ...     sink.write({"type": "x", "seq": seq})   # not started: the third finds the queue full
    >>> sink.start(); sink.close(timeout_s=5); sink.got, sink.stats().sent, sink.stats().dropped
    (['{"type":"x","seq":0}', '{"type":"x","seq":1}'], 2, 1)
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from orchestrator.events import dumps
from orchestrator.sinks.base import Sink, SinkStats

#: One queued record: its ``type`` (for topics) and its canonical JSON text, without the newline.
Item = tuple[str, str]

#: The first wait after a failed attempt; it doubles up to the sink's ``max_delay_s``.
FIRST_DELAY_S = 0.2
#: How long the worker waits for a record before it services the connection (`QueuedSink.idle`).
_POLL_S = 0.1
#: The longest `close` waits for the worker to leave an attempt in progress (a connect or an HTTP
#: request that does not poll `stopping`): a stop is not held up longer; the thread is a daemon.
_JOIN_S = 0.5

#: The JSON Schema of the keys every queued sink has (merged into each one's ``params_schema``).
QUEUE_PARAMS: dict[str, Any] = {
    "queue_size": {
        "type": "integer",
        "minimum": 1,
        "maximum": 1_000_000,
        "description": "Records held while the endpoint is slow or away (default 10000); more are dropped, counted.",
    },
    "flush_timeout_s": {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 600,
        "description": "Seconds the end of a run waits for queued records (default 5; 0.5 after Ctrl-C).",
    },
    "max_delay_s": {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 300,
        "description": "Longest wait between reconnection attempts (default 5); waits double from 0.2 s.",
    },
}


class DeliveryError(Exception):
    """An attempt that failed: ``delivered`` records at the start of the batch did get through;
    ``permanent`` when trying again cannot help (the rest of the batch is dropped)."""

    def __init__(self, message: str, delivered: int = 0, permanent: bool = False) -> None:
        super().__init__(message)
        self.delivered = delivered
        self.permanent = permanent


class QueuedSink(Sink):
    """Base of the network sinks: a bounded queue, one worker thread, back-off and reconnect.

    Args:
        queue_size: records held before new ones are dropped.
        flush_timeout_s: the longest `close` waits for the queue to drain (the CLI waits less after a stop).
        max_delay_s: the longest wait between attempts.
        batch_size: the most records handed to one `deliver`.
    """

    #: Parameters every queued sink takes.
    queue_params: ClassVar[dict[str, Any]] = QUEUE_PARAMS

    def __init__(
        self, queue_size: int = 10_000, flush_timeout_s: float = 5.0, max_delay_s: float = 5.0, batch_size: int = 100
    ) -> None:
        if queue_size < 1 or batch_size < 1:
            raise ValueError(f"queue_size and batch_size must be >= 1, got {queue_size} and {batch_size}")
        if not flush_timeout_s > 0 or not max_delay_s > 0:
            raise ValueError(f"flush_timeout_s and max_delay_s must be > 0, got {flush_timeout_s} and {max_delay_s}")
        self.flush_timeout_s = float(flush_timeout_s)
        self.max_delay_s = float(max_delay_s)
        self.batch_size = int(batch_size)
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=queue_size)
        self._lock = threading.Condition()
        self._accepted = 0
        self._sent = 0
        self._retried = 0
        self._dropped = 0  # given up after it was queued
        self._refused = 0  # no room in the queue (or written after close)
        self._errors = 0
        self._last_error: str | None = None
        self._final: SinkStats | None = None
        self._closing = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ the reading thread's side
    def start(self) -> None:
        if self._thread is None and self._final is None:
            self._thread = threading.Thread(target=self._run, name=f"sink:{type(self).__name__}", daemon=True)
            self._thread.start()

    def write(self, record: Mapping[str, Any]) -> None:
        item = (str(record.get("type", "")), dumps(record)[:-1])
        with self._lock:
            if self._final is not None or self._closing.is_set():
                self._refused += 1
                return
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                self._refused += 1
                return
            self._accepted += 1

    def _pending(self) -> int:
        return self._accepted - self._sent - self._dropped

    def flush(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + max(0.0, timeout_s)
        with self._lock:
            while self._pending() > 0 and self._thread is not None and self._thread.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(min(left, _POLL_S))
            return self._pending() == 0

    def close(self, timeout_s: float | None = None) -> None:
        if self._final is not None:
            return
        self._closing.set()
        self.flush(self.flush_timeout_s if timeout_s is None else timeout_s)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(_JOIN_S)
        with self._lock:
            # What the worker did not deliver in time (queued, or in an attempt it was stopped in) is dropped.
            self._dropped += self._pending()
            self._final = self._snapshot()

    def stats(self) -> SinkStats:
        with self._lock:
            return self._final if self._final is not None else self._snapshot()

    def _snapshot(self) -> SinkStats:
        dropped = self._dropped + self._refused
        return SinkStats(self._sent, self._retried, dropped, self._pending(), self._errors, self._last_error)

    # ------------------------------------------------------------ the worker's side
    @property
    def stopping(self) -> bool:
        """True once `close` stopped waiting: an attempt in progress should give up (raise `DeliveryError`)."""
        return self._stop.is_set()

    def connect(self) -> None:
        """Open the connection (worker thread); raise `DeliveryError` when it cannot be opened."""

    def deliver(self, batch: list[Item]) -> None:
        """Deliver ``batch`` in order (worker thread); raise `DeliveryError` saying how many got through."""
        raise NotImplementedError

    def idle(self) -> None:
        """Keep an open connection alive while no record waits (worker thread); raise `DeliveryError` if lost."""

    def disconnect(self) -> None:
        """Close the connection (worker thread); never raises."""

    def _count(self, sent: int = 0, retried: int = 0, dropped: int = 0, error: str | None = None) -> None:
        with self._lock:
            if self._final is not None:
                return  # `close` gave up on this worker: its counts are final
            self._sent += sent
            self._retried += retried
            self._dropped += dropped
            if error is not None:
                self._errors += 1
                self._last_error = error
            self._lock.notify_all()

    def _take(self) -> list[Item]:
        try:
            batch = [self._queue.get(timeout=_POLL_S)]
        except queue.Empty:
            return []
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        connected = False
        delay_s = FIRST_DELAY_S
        batch: list[Item] = []
        try:
            while not self._stop.is_set():
                if not batch:
                    batch = self._take()
                    if not batch:
                        if self._closing.is_set() and self._queue.empty():
                            return
                        if connected:
                            try:
                                self.idle()
                            except Exception as exc:
                                self._count(error=_describe(exc))
                                self.disconnect()
                                connected = False
                        continue
                try:
                    if not connected:
                        self.connect()
                        connected = True
                    self.deliver(batch)
                except Exception as raised:  # a plugin's unexpected error is one failed attempt, not a dead worker
                    exc = raised if isinstance(raised, DeliveryError) else DeliveryError(_describe(raised))
                    self._count(sent=exc.delivered, error=str(exc))
                    batch = batch[exc.delivered :]
                    if exc.permanent:
                        self._count(dropped=len(batch))
                        batch = []
                        continue
                    self.disconnect()
                    connected = False
                    if self._stop.wait(delay_s):
                        return
                    delay_s = min(delay_s * 2, self.max_delay_s)
                    self._count(retried=len(batch))
                    continue
                self._count(sent=len(batch))
                batch = []
                delay_s = FIRST_DELAY_S
        finally:
            if connected:
                self.disconnect()


def _describe(exc: BaseException) -> str:
    """An error's one-line message (its type's name when it has none; `DeliveryError` as it is)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {text}" if text else type(exc).__name__
