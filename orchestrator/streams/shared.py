"""One loaded detector serving several streams: `SharedModel` and its per-stream `StreamDetector`.

Each stream's runtime has its own worker thread per detector; with several streams those workers
call a `StreamDetector`, which hands the frame to the model's single dispatcher thread and waits
for the answer. The dispatcher alone calls the plugin, so a plugin never sees two threads, and
its weights and runtime are loaded once whatever the number of streams.

::

    stream a: worker ─┐                        ┌─► detect_frame(a's frame)
    stream b: worker ─┼─► requests (bounded) ─►│   or detect_batch([a's, b's, ...])  (max_batch > 1)
    stream c: worker ─┘      dispatcher thread └─► detect_on(...) for a second stage

Requests are served in arrival order. A plugin with ``max_batch > 1`` gets the pending frames of
several streams in one `Detector.detect_batch` call (up to ``max_batch``); the others get one
`Detector.detect_frame` call per frame. A stateful plugin (`Detector.stream_state`) has its state
saved and restored around each switch of stream, so every stream sees its own frames in order.

Example:
    >>> import numpy as np
    >>> from detectors.testing import NoopDetector
    >>> model = SharedModel("noop", NoopDetector(), streams=2)
    >>> model.start()
    >>> left, right = model.for_stream("left"), model.for_stream("right")
    >>> len(left.detect_frame(np.zeros((8, 8, 3), np.uint8), 0, 0.0)), model.calls
    (0, 1)
    >>> model.close()
    True
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detectors.detections import Detections
from detectors.detector import Detector, Provenance
from orchestrator.errors import PipelineError

#: How often a waiting caller or the idle dispatcher looks whether the model was closed.
_POLL_S = 0.05
#: Model call latencies kept for the summary's percentiles.
_LATENCY_WINDOW = 100_000


class ModelClosed(PipelineError):
    """The shared model was closed while a stream still waited for it (only after a stop)."""


@dataclass
class _Request:
    """One frame of one stream waiting for the model; ``done`` is set once ``result`` or ``error`` is."""

    stream: str
    image: np.ndarray
    frame_index: int
    time_s: float
    #: The input detector's result, for a second stage (`Detector.detect_on`); None for `detect_frame`.
    detections: Detections | None = None
    result: Detections | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class SharedModel:
    """A loaded ``detector`` called from one dispatcher thread on behalf of several streams.

    Args:
        name: the pipeline's name of the detector (the thread is ``model:NAME``).
        detector: loaded; the caller keeps owning it (`close` does not close it).
        streams: how many streams call it; each has at most one request pending (its worker waits
            for the answer), so the request queue holds at most this many.

    Figures, read after `close`: ``calls`` (model calls), ``frames`` (frames answered),
    ``batch_sizes`` (frames per call -> calls), ``latencies_ms`` (per call).
    """

    def __init__(self, name: str, detector: Detector, streams: int) -> None:
        if streams < 1:
            raise ValueError(f"streams must be >= 1, got {streams}")
        self.name = name
        self.detector = detector
        self.capacity = streams
        self.max_batch = max(1, int(getattr(detector, "max_batch", 1)))
        self._pending: deque[_Request] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name=f"model:{name}", daemon=True)
        #: Stream whose state the plugin holds now, and the saved states of the others.
        self._current: str | None = None
        self._initial_state = detector.stream_state()
        self._states: dict[str, Any] = {}
        self.calls = 0
        self.frames = 0
        self.batch_sizes: dict[int, int] = {}
        self.latencies_ms: deque[float] = deque(maxlen=_LATENCY_WINDOW)

    def start(self) -> None:
        """Start the dispatcher thread."""
        self._thread.start()

    def for_stream(self, stream: str) -> StreamDetector:
        """The detector stream ``stream``'s runtime calls (one per stream; all share this model)."""
        return StreamDetector(self, stream)

    @property
    def busy(self) -> bool:
        """True while the dispatcher thread runs (after `close`: it is stuck in the plugin)."""
        return self._thread.is_alive()

    def close(self, timeout_s: float = 0.4) -> bool:
        """Stop the dispatcher; requests still pending fail with `ModelClosed`.

        Returns True once the thread has ended, False if it is still inside the plugin after
        ``timeout_s`` (it is a daemon: it is abandoned, and the plugin must not be closed under it).
        """
        with self._cond:
            self._closed = True
            while self._pending:
                request = self._pending.popleft()
                request.error = ModelClosed(f"detector '{self.name}': the run ended before this frame's turn")
                request.done.set()
            self._cond.notify_all()
        if self._thread.ident is not None:
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    # ------------------------------------------------------------------ callers (stream workers)
    def submit(self, request: _Request) -> Detections:
        """Queue ``request`` and wait for its answer; raises what the plugin raised, or `ModelClosed`.

        Each wait is a bounded poll: a closed model wakes every caller within `_POLL_S`.
        """
        with self._cond:
            while len(self._pending) >= self.capacity and not self._closed:
                self._cond.wait(_POLL_S)
            if self._closed:
                raise ModelClosed(f"detector '{self.name}': the run ended before this frame's turn")
            self._pending.append(request)
            self._cond.notify_all()
        while not request.done.wait(_POLL_S):
            if self._closed and not self._thread.is_alive():
                raise ModelClosed(f"detector '{self.name}': the run ended before this frame's turn")
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    # ------------------------------------------------------------------ the dispatcher thread
    def _serve(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait(_POLL_S)
                if self._closed:
                    return
                batch = self._take()
                self._cond.notify_all()  # room in the queue
            self._run(batch)

    def _take(self) -> list[_Request]:
        """The next request, and, for a batching plugin, the frames of other streams waiting behind it."""
        first = self._pending.popleft()
        batch = [first]
        if self.max_batch > 1 and first.detections is None:
            for request in list(self._pending):
                if len(batch) >= self.max_batch:
                    break
                if request.detections is None:
                    self._pending.remove(request)
                    batch.append(request)
        return batch

    def _run(self, batch: list[_Request]) -> None:
        started = time.perf_counter()
        try:
            if len(batch) > 1:
                results = self.detector.detect_batch([request.image for request in batch])
                if not isinstance(results, Sequence) or len(results) != len(batch):
                    raise TypeError(f"detect_batch returned {_count(results)} results for {len(batch)} frames")
                for request, result in zip(batch, results, strict=True):
                    request.result = result
            else:
                (request,) = batch
                self._switch(request.stream)
                if request.detections is None:
                    request.result = self.detector.detect_frame(request.image, request.frame_index, request.time_s)
                else:
                    request.result = self.detector.detect_on(request.image, request.detections)
        except Exception as exc:  # the stream's worker reports it, as it would the plugin's own call
            for request in batch:
                request.error = exc
        self.latencies_ms.append((time.perf_counter() - started) * 1000.0)
        self.calls += 1
        self.frames += len(batch)
        self.batch_sizes[len(batch)] = self.batch_sizes.get(len(batch), 0) + 1
        for request in batch:
            request.done.set()

    def _switch(self, stream: str) -> None:
        """Give the plugin ``stream``'s state (a stateless plugin's is None, and this costs nothing)."""
        if stream == self._current:
            return
        if self._current is not None:
            self._states[self._current] = self.detector.stream_state()
        self.detector.restore_stream_state(self._states.get(stream, self._initial_state))
        self._current = stream


def _count(results: Any) -> str:
    return str(len(results)) if isinstance(results, Sequence) else type(results).__name__


class StreamDetector(Detector):
    """What one stream's runtime runs as a detector: the shared model's calls for that stream.

    Labels, input size and channel order are the shared plugin's; `close` does nothing (the shared
    model's owner closes the plugin once every stream is done).
    """

    def __init__(self, model: SharedModel, stream: str) -> None:
        self.model = model
        self.stream = stream
        plugin = model.detector
        # Instance attributes shadow the class-level declarations with the plugin's own.
        self.labels = plugin.labels  # type: ignore[misc]
        self.input_size = plugin.input_size  # type: ignore[misc]
        self.channel_order = plugin.channel_order  # type: ignore[misc]
        self.takes_input = plugin.takes_input  # type: ignore[misc]

    def detect(self, image: np.ndarray) -> Detections:
        """`detect_frame` on a frame without an index (frame 0, time 0)."""
        return self.detect_frame(image, 0, 0.0)

    def detect_frame(self, image: np.ndarray, frame_index: int, time_s: float) -> Detections:
        return self.model.submit(_Request(self.stream, image, frame_index, time_s))

    def detect_on(self, image: np.ndarray, detections: Detections) -> Detections:
        return self.model.submit(_Request(self.stream, image, -1, 0.0, detections=detections))

    def provenance(self) -> Provenance:
        """The shared plugin's (model package, precision, runtime): each stream's header names what runs."""
        return self.model.detector.provenance()

    def close(self) -> None:
        """Nothing: the plugin is shared, and its owner closes it."""
