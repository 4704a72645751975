"""Per-frame results of a run: each processed frame's image and scene with that frame's records.

``orchestrator.run(..., with_frames=True)`` yields one `FrameResult` per processed frame, in
frame order, then one *end* result (``image`` and ``scene`` ``None``) with the records that
belong to no frame: the ends of the relations still active when the stream ended, late results
(realtime mode) and the summary, always last. Records that come before the first frame (a
stream header) come with the first frame's result (with the end result when no frame was
processed). Concatenating every result's ``records``
gives exactly the records of the plain iterator, in the same order.

How: the runtime calls its ``on_frame`` hook after a frame's records (fusion runs in the thread
iterating `Runtime.records`), but a frame with no records returns no control to the iterating
loop. So fusion runs in a helper thread that hands each frame over in lock step: it waits until
the caller asks for the next result, so at most one frame is held and the pipeline goes at the
caller's pace, as the plain iterator does. Every wait is bounded and a stop ends the run.

Example:
    >>> import numpy as np, orchestrator
    >>> frames = [np.zeros((48, 64, 3), np.uint8)] * 3
    >>> for result in orchestrator.run("pipelines/hands_only.yaml", source=frames, with_frames=True):  # doctest: +SKIP
    ...     print(result.frame_index, None if result.image is None else result.image.shape, len(result.records))
    0 (48, 64, 3) 0
    1 (48, 64, 3) 0
    2 (48, 64, 3) 0
    2 None 1
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from orchestrator.frames import Frame
from orchestrator.scene import Scene

Record = dict[str, Any]

#: How often a side waiting for the other re-checks that it is still there (seconds).
_WAIT_SLICE_S = 0.05
#: How long closing the iterator early waits for the fusion thread (the run's stop takes about a second).
_JOIN_TIMEOUT_S = 3.0


@dataclass(frozen=True, eq=False)
class FrameResult:
    """One processed frame of a run, or the run's end (see the module doc).

    Attributes:
        frame_index: 0-based index of the frame in the source; for the end result, the last
            processed frame's (``-1`` when none was).
        time_s: source time of the frame, seconds; for the end result the last frame's (``0.0`` when none).
        image: the frame as the detectors saw it (after ``source.resize``), read-only ``uint8 (H, W, 3)``
            RGB; ``None`` for the end result.
        scene: the frame's `Scene` (tracks, relations, raw detections, staleness); ``None`` for the end result.
        records: this frame's records in stream order (JSON-ready dicts, as the JSON Lines have
            them), possibly none; the end result's last record is the summary.

    Example:
        >>> end = FrameResult(-1, 0.0, None, None, ({"type": "summary"},))
        >>> end.is_end, end.records[-1]["type"]
        (True, 'summary')
    """

    frame_index: int
    time_s: float
    image: np.ndarray | None
    scene: Scene | None
    records: tuple[Record, ...]

    @property
    def is_end(self) -> bool:
        """True for the run's last result: no frame, the records after the last frame and the summary."""
        return self.image is None


class _Handoff:
    """One item at a time from the fusion thread to the caller, in lock step.

    The producer hands an item over when the caller asks for one, then waits until the caller
    asks for the next before it goes on: fusion runs only while the caller waits, as a
    generator would.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._wanted = False
        self._full = False
        self._item: Any = None
        self._closed = False

    def put(self, item: Any, wait_for_next: bool = True) -> bool:
        """Producer: hand ``item`` over when asked (then wait for the next ask); False once the caller went away."""
        with self._cond:
            while not self._wanted and not self._closed:
                self._cond.wait(_WAIT_SLICE_S)
            if self._closed:
                return False
            self._item, self._full, self._wanted = item, True, False
            self._cond.notify_all()
            while wait_for_next and not self._wanted and not self._closed:
                self._cond.wait(_WAIT_SLICE_S)
            return not self._closed

    def get(self, producer: threading.Thread) -> Any:
        """Caller: ask for the next item and wait for it; RuntimeError if the producer ended without one."""
        with self._cond:
            self._wanted = True
            self._cond.notify_all()
            while not self._full:
                if not producer.is_alive():
                    raise RuntimeError("the run's fusion thread ended without its last result")
                self._cond.wait(_WAIT_SLICE_S)
            item, self._item, self._full = self._item, None, False
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class _Failed:
    """The exception the run ended with, carried to the caller's thread to be raised there."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def frame_results(runtime: Any) -> Iterator[FrameResult]:
    """Run ``runtime`` (an unstarted `Runtime`), yielding a `FrameResult` per processed frame, then the end one.

    Takes the runtime's ``on_frame`` hook (raises ValueError when it already has one). Errors
    are raised as `Runtime.records` raises them: a failed run's `PipelineError` after the end
    result, which carries the summary. Closing the iterator early (``break``) stops the run and
    waits for its fusion thread (at most ``_JOIN_TIMEOUT_S``).
    """
    if runtime.on_frame is not None:
        raise ValueError("with_frames needs the runtime's on_frame hook, which is already set")
    handoff = _Handoff()
    pending: list[Record] = []

    def on_frame(frame: Frame, scene: Scene) -> None:
        result = FrameResult(frame.index, frame.time_s, frame.rgb, scene, tuple(pending))
        pending.clear()
        if not handoff.put(result):
            runtime.stop()  # the caller stopped iterating

    def fuse() -> None:
        # After the end result: None (done) or the run's exception, for the caller's next ask.
        records = runtime.records()
        outcome: _Failed | None = None
        try:
            for record in records:
                pending.append(record)
        except BaseException as exc:  # carried over: raised in the caller's thread
            outcome = _Failed(exc)
        finally:
            records.close()
        if pending and pending[-1].get("type") == "summary" and not handoff.put(_end_result(pending)):
            return
        handoff.put(outcome, wait_for_next=False)

    runtime.on_frame = on_frame
    thread = threading.Thread(target=fuse, name="fusion", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get(thread)
            if item is None:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        handoff.close()
        runtime.stop()  # a no-op after the end; otherwise (break, Ctrl-C) it ends the run
        # Bounded: a stop ends the run within about a second (threads stuck in a plugin are
        # abandoned by the runtime itself); a fusion thread still alive after this is a daemon.
        thread.join(_JOIN_TIMEOUT_S)


def _end_result(records: list[Record]) -> FrameResult:
    summary = records[-1] if records else {}
    frame, time_s = summary.get("frame", -1), summary.get("time", 0.0)
    return FrameResult(int(frame), float(time_s), None, None, tuple(records))
