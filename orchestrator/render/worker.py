"""`RenderWorker`: the render thread, drawing views and writing them to sinks and a display off the detection path.

::

    FrameView ─► RenderWorker.submit ─► (bounded queue) ─► render thread: render() ─► FrameSink.write
                                                                                  └► Display.show

Example:
    >>> with RenderWorker(sinks=[VideoOut("out.mp4", 30.0, (320, 240))]) as worker:  # doctest: +SKIP
    ...     worker.submit(view)
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from orchestrator.errors import PipelineError
from orchestrator.render.display import Display
from orchestrator.render.draw import render
from orchestrator.render.style import Style
from orchestrator.render.video import FrameSink
from orchestrator.render.view import FrameView

#: Render times kept for the percentiles: hours at 30 fps, bounded memory.
_TIMING_WINDOW = 100_000
#: A blocked `submit` re-checks ``should_stop`` this often (seconds).
_WAIT_SLICE_S = 0.1


class RenderWorker:
    """Renders views and writes them to sinks and/or a display in its own thread.

    The producer (the run's viewer) calls `submit`, which only enqueues (at most ``maxsize`` views wait):

    * ``drop_when_full=False`` (deterministic): `submit` blocks while the queue is full, so every
      frame is written;
    * ``drop_when_full=True`` (realtime): `submit` never waits; when the queue is full the oldest
      waiting view is dropped and counted in `dropped`.

    The worker owns the sinks and the display and closes them when it ends. A failure in the worker
    is raised as `PipelineError` naming the renderer from the next `submit` or from `close` (once).

    Example:
        >>> with RenderWorker(sinks=[VideoOut("out.mp4", 30.0, (320, 240))]) as worker:  # doctest: +SKIP
        ...     for view in views:
        ...         worker.submit(view)
        >>> worker.stats()["render_p95_ms"]  # doctest: +SKIP
        1.2
    """

    def __init__(
        self,
        sinks: Sequence[FrameSink] = (),
        display: Display | None = None,
        *,
        drop_when_full: bool = False,
        maxsize: int = 4,
        style: Style | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}")
        self.sinks = tuple(sinks)
        self.display = display
        self.drop_when_full = drop_when_full
        self.maxsize = maxsize
        self.style = style
        # Polled by a blocked `submit`: once the run is stopping, a full queue drops the view
        # instead of waiting for a renderer that may be stuck (a video writer on a hung disk).
        self._should_stop = should_stop or (lambda: False)
        #: Per rendered frame: milliseconds in `render`, and in the sinks plus the display.
        self.render_ms: deque[float] = deque(maxlen=_TIMING_WINDOW)
        self.output_ms: deque[float] = deque(maxlen=_TIMING_WINDOW)
        self.frames_rendered = 0
        self.dropped = 0
        self.peak_queued = 0
        self._pending: deque[FrameView] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._quit = False
        self._error: PipelineError | None = None
        self._error_reported = False
        self._thread = threading.Thread(target=self._run, name="renderer", daemon=True)
        self._thread.start()

    @property
    def quit_requested(self) -> bool:
        """True once the user closed the display (``q``, Esc or the window's close button)."""
        return self._quit

    def submit(self, view: FrameView) -> None:
        """Queue one view (blocking or dropping the oldest when full, by mode); raises the worker's failure."""
        with self._cond:
            if self._closing:
                raise RuntimeError("submit after close")
            self._raise_pending_error()
            while len(self._pending) >= self.maxsize:
                if self.drop_when_full:
                    self._pending.popleft()
                    self.dropped += 1
                elif self._should_stop():
                    self.dropped += 1  # stopping: this view is not worth waiting for
                    return
                else:
                    self._cond.wait(timeout=_WAIT_SLICE_S)
                    self._raise_pending_error()  # the worker died while we waited: never block forever
            self._pending.append(view)
            self.peak_queued = max(self.peak_queued, len(self._pending))
            self._cond.notify_all()

    def close(self, timeout_s: float = 60.0) -> None:
        """Render what is queued, close the sinks and the display, join the thread; raises a failure not yet raised.

        Waits at most ``timeout_s`` seconds for the renderer; one still busy then (a video writer or
        a display that hangs) is abandoned (a daemon thread) and reported as `PipelineError`.
        """
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout=timeout_s)
        if self._thread.is_alive():
            with self._cond:
                self._error_reported = True
            raise PipelineError(
                f"renderer: still busy after {timeout_s:g} s (a video writer or the display hangs); "
                "abandoned, the video may be incomplete"
            )
        with self._cond:
            self._raise_pending_error()

    def stats(self) -> dict[str, Any]:
        """Counts and the p50 / p95 of render and output times (ms; ``None`` before the first frame)."""
        with self._cond:
            render_ms = np.asarray(self.render_ms, np.float64)
            output_ms = np.asarray(self.output_ms, np.float64)
        stats: dict[str, Any] = {"frames": self.frames_rendered, "dropped": self.dropped}
        for name, values in (("render", render_ms), ("output", output_ms)):
            for q in (50, 95):
                stats[f"{name}_p{q}_ms"] = float(np.percentile(values, q)) if values.size else None
        return stats

    def __enter__(self) -> RenderWorker:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            # Already failing: finish cleanly but let the original exception through.
            with contextlib.suppress(PipelineError):
                self.close()

    def _raise_pending_error(self) -> None:
        # Called with the lock held. Raised once: a `close` in a `finally` after a failed `submit`
        # must not replace the first report with a second copy of it.
        if self._error is not None and not self._error_reported:
            self._error_reported = True
            raise self._error
        if self._error is not None and not self._closing:
            raise PipelineError(f"renderer stopped earlier: {self._error}")

    def _run(self) -> None:
        frame_index = -1
        try:
            while True:
                with self._cond:
                    while not self._pending and not self._closing:
                        self._cond.wait()
                    if not self._pending:
                        return  # closing and drained
                    view = self._pending.popleft()
                    self._cond.notify_all()  # a blocked submit may go on
                if self._quit and not self.sinks:
                    continue  # the window is closed and nothing else takes frames: skip the drawing
                frame_index = view.scene.frame_index
                started = time.perf_counter()
                bgr = render(view, self.style)
                rendered = time.perf_counter()
                for sink in self.sinks:
                    sink.write(bgr)
                if self.display is not None and not self._quit and not self.display.show(bgr):
                    self._quit = True
                    self.display.close()  # the user is done with it: do not leave a frozen window
                finished = time.perf_counter()
                with self._cond:
                    self.render_ms.append((rendered - started) * 1000.0)
                    self.output_ms.append((finished - rendered) * 1000.0)
                    self.frames_rendered += 1
        except Exception as exc:
            error = PipelineError(f"renderer failed on frame {frame_index}: {type(exc).__name__}: {exc}")
            error.__cause__ = exc
            with self._cond:
                self._error = error
                self._pending.clear()
                self._cond.notify_all()
        finally:
            self._close_outputs()

    def _close_outputs(self) -> None:
        for sink in self.sinks:
            try:
                sink.close()
            except Exception as exc:
                with self._cond:
                    if self._error is None:
                        # A sink's own report (a video file found incomplete) names its file: keep it as it is.
                        message = (
                            str(exc)
                            if isinstance(exc, PipelineError)
                            else f"renderer failed closing its output: {type(exc).__name__}: {exc}"
                        )
                        self._error = PipelineError(message)
                        self._error.__cause__ = exc
        if self.display is not None:
            with contextlib.suppress(Exception):  # a window that will not close must not fail the run
                self.display.close()
