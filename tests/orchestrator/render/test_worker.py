"""`RenderWorker`: order, drops, failures, the display's quit request."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.render_views import NO_HUD, frame, view

from orchestrator.errors import PipelineError
from orchestrator.render import (
    Display,
    FrameView,
    RenderWorker,
    VideoOut,
)


# --------------------------------------------------------------------------- RenderWorker
class SlowSink:
    """Records the frame index (encoded in pixel 0, 0) of each frame written; optionally slow or failing."""

    def __init__(self, delay_s: float = 0.0, fail_at: int | None = None) -> None:
        self.delay_s = delay_s
        self.fail_at = fail_at
        self.indices: list[int] = []
        self.closed = False

    def write(self, bgr: np.ndarray) -> None:
        if self.fail_at is not None and len(self.indices) == self.fail_at:
            raise OSError("disk full")
        time.sleep(self.delay_s)
        self.indices.append(int(bgr[0, 0, 0]))

    def close(self) -> None:
        self.closed = True


def numbered(i: int) -> FrameView:
    return view(frame(64, 48, rgb=(i, i, i)), i, i / 30.0)


def test_worker_blocking_mode_writes_every_frame_in_order() -> None:
    sink = SlowSink(delay_s=0.005)
    worker = RenderWorker(sinks=[sink], maxsize=2, style=NO_HUD)
    for i in range(12):
        worker.submit(numbered(i))
    worker.close()
    assert sink.indices == list(range(12))
    assert sink.closed
    assert worker.dropped == 0 and worker.peak_queued <= 2
    stats = worker.stats()
    assert stats["frames"] == 12 and stats["render_p50_ms"] is not None and stats["render_p95_ms"] >= 0


def test_worker_drop_mode_drops_the_oldest_and_counts() -> None:
    sink = SlowSink(delay_s=0.03)
    worker = RenderWorker(sinks=[sink], drop_when_full=True, maxsize=2, style=NO_HUD)
    for i in range(20):
        worker.submit(numbered(i))  # never waits
    worker.close()
    assert worker.dropped > 0
    assert len(sink.indices) + worker.dropped == 20
    assert sink.indices == sorted(sink.indices) and sink.indices[-1] == 19  # the newest is never dropped


def test_worker_failure_surfaces_from_submit() -> None:
    sink = SlowSink(fail_at=1)
    worker = RenderWorker(sinks=[sink], style=NO_HUD)
    with pytest.raises(PipelineError, match=r"renderer failed on frame 1: OSError: disk full"):
        for i in range(200):
            worker.submit(numbered(i))
            time.sleep(0.01)
    worker.close()  # already reported: not raised twice
    assert sink.closed


def test_worker_failure_surfaces_from_close() -> None:
    sink = SlowSink(fail_at=0)
    worker = RenderWorker(sinks=[sink], style=NO_HUD)
    worker.submit(numbered(0))
    with pytest.raises(PipelineError, match="renderer"):
        worker.close()
    with pytest.raises(RuntimeError, match="after close"):
        worker.submit(numbered(1))


def test_worker_writes_a_readable_video(tmp_path: Path) -> None:
    path = tmp_path / "overlay.avi"
    with RenderWorker(sinks=[VideoOut(path, 30.0, (64, 48))]) as worker:
        for i in range(5):
            worker.submit(numbered(i))
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    assert frames == 5


class FakeDisplay(Display):
    """Answers "quit" on the given call; records calls (no window)."""

    def __init__(self, quit_on: int) -> None:
        super().__init__()
        self.quit_on = quit_on
        self.calls = 0
        self.close_calls = 0
        self.thread: str | None = None

    def show(self, bgr: np.ndarray) -> bool:
        self.calls += 1
        self.thread = threading.current_thread().name
        return self.calls < self.quit_on

    def close(self) -> None:
        self.close_calls += 1


def test_worker_quit_requested_when_the_display_says_so() -> None:
    sink, display = SlowSink(), FakeDisplay(quit_on=2)
    worker = RenderWorker(sinks=[sink], display=display, style=NO_HUD)
    for i in range(5):
        worker.submit(numbered(i))
    worker.close()
    assert worker.quit_requested
    assert display.calls == 2 and display.close_calls >= 1
    assert display.thread == "renderer"  # GUI calls stay in the render thread
    assert sink.indices == list(range(5))  # the video still gets every frame


def test_a_hung_sink_never_holds_a_stopping_run() -> None:
    """A video writer that hangs: a blocked submit gives up once the run stops, close is bounded."""
    release = threading.Event()

    class HungSink(SlowSink):
        def write(self, bgr: np.ndarray) -> None:
            release.wait(30)

    stopping = threading.Event()
    worker = RenderWorker(sinks=[HungSink()], maxsize=1, style=NO_HUD, should_stop=stopping.is_set)
    worker.submit(numbered(0))  # taken by the renderer, which hangs in write
    time.sleep(0.2)
    worker.submit(numbered(1))  # queued: the queue is full now
    threading.Timer(0.3, stopping.set).start()
    started = time.monotonic()
    worker.submit(numbered(2))  # would wait forever for the hung renderer; returns once stopping
    assert time.monotonic() - started < 2.0 and worker.dropped == 1
    started = time.monotonic()
    with pytest.raises(PipelineError, match=r"renderer: still busy after 0.3 s .* abandoned"):
        worker.close(timeout_s=0.3)
    assert time.monotonic() - started < 2.0
    release.set()
