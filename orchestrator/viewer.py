"""What ``run`` shows people: the live window, the annotated video and the progress bar.

`Viewer` is the runtime's ``on_frame`` hook. For each processed frame it pairs the frame's `Scene`
with its image and the pipeline's rate (a `FrameView`; the rate from a `RateMeter`, "measuring"
for the first half second) and submits it to a `RenderWorker` thread, which draws it and
writes it to the outputs, off the detection path. In deterministic mode every frame is drawn (the submit waits
when the render queue is full, so ``--video-out`` has one frame per source frame); in realtime
mode a frame is dropped from the display rather than slowing the pipeline down.

Example:
    >>> viewer = Viewer(runtime, video_out="out.mp4", display=False, progress=True)   # doctest: +SKIP
    >>> runtime.on_frame = viewer                                                     # doctest: +SKIP
"""

from __future__ import annotations

import sys
import time
from typing import Any

from orchestrator.errors import UserError
from orchestrator.frames import Frame
from orchestrator.render import Display, FrameView, RenderWorker, VideoOut, check_video_out, display_available
from orchestrator.render.rate import RateMeter
from orchestrator.render.screen import configured_limit
from orchestrator.scene import Scene

#: Seconds `Viewer.close` waits for the renderer to write what is queued: after a stop, and otherwise.
CLOSE_AFTER_STOP_S = 1.0
CLOSE_TIMEOUT_S = 60.0


class Viewer:
    """The ``on_frame`` hook of `Runtime` for ``--display``, ``--video-out`` and the progress bar."""

    def __init__(self, runtime: Any, video_out: str | None, display: bool, progress: bool) -> None:
        self.runtime = runtime
        self._video_path = video_out
        self._want_display = display
        self._progress_wanted = progress
        self._worker: RenderWorker | None = None
        self._bar: Any = None
        self._frames = 0
        #: The pipeline's rate for the HUD: "measuring" until it means something (not from 1-2 frames).
        self._rate = RateMeter()
        self._tracked = runtime.config.tracked_detectors
        self._window_limit: tuple[int, int] | None = None
        if display:
            self._window_limit = configured_limit()  # a bad ORCHESTRATOR_DISPLAY_SIZE: one line, before the run
            if not display_available():
                raise UserError("--display: no display available (is DISPLAY set, and OpenCV built with GTK or Qt?)")
        if video_out:
            check_video_out(video_out)  # before anything runs: a bad path is one line, no records written

    def _open(self, frame: Frame) -> None:
        source = self.runtime.source
        realtime = self.runtime.mode == "realtime"
        if self._video_path or self._want_display:
            sinks = [VideoOut(self._video_path, source.fps, (frame.width, frame.height))] if self._video_path else []
            self._worker = RenderWorker(
                sinks,
                display=Display(max_size=self._window_limit) if self._want_display else None,
                drop_when_full=realtime,
                should_stop=lambda: self.runtime.stopping,
            )
        if self._progress_wanted and not source.live:
            from tqdm import tqdm

            total = source.frame_count
            if self.runtime.max_frames is not None:
                total = min(total, self.runtime.max_frames) if total else self.runtime.max_frames
            # stderr only (stdout may carry the records), and only on a terminal (disable=None).
            self._bar = tqdm(total=total, unit="frame", file=sys.stderr, dynamic_ncols=True, leave=False, disable=None)

    def __call__(self, frame: Frame, scene: Scene) -> None:
        if self._frames == 0:
            self._open(frame)
        self._frames += 1
        if self._bar is not None:
            self._bar.update(1)
        fps = self._rate.tick(time.perf_counter())
        if self._worker is not None:
            self._worker.submit(FrameView(scene, frame.rgb, fps=fps, tracked_detectors=self._tracked))
            if self._worker.quit_requested:
                self.runtime.stop()

    @property
    def quit_requested(self) -> bool:
        return self._worker is not None and self._worker.quit_requested

    def close(self) -> dict[str, Any]:
        """Flush and close everything; returns the renderer's figures (frames, drops, ms per frame)."""
        if self._bar is not None:
            self._bar.close()
        if self._worker is None:
            return {}
        # A stopped run ends within about a second: a renderer stuck then is abandoned and reported.
        self._worker.close(timeout_s=CLOSE_AFTER_STOP_S if self.runtime.stopping else CLOSE_TIMEOUT_S)
        return self._worker.stats()
