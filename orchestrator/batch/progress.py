"""The progress line of a batch, over inputs, with an estimate of the time left, on stderr.

On a terminal the line is redrawn in place; otherwise (a log file, a pipe) one line is written
per finished input, so logs stay readable. The estimate is the mean wall time per finished
input of this run (inputs finish in parallel, so it already counts the workers) times the inputs
left; skipped inputs (already done) count as finished but not in the estimate.

Example:
    >>> import io
    >>> clock = iter([0.0, 10.0, 20.0]).__next__
    >>> out = io.StringIO()
    >>> progress = Progress(total=4, skipped=1, stream=out, clock=clock)
    >>> progress.finished("done", frames=300)
    >>> out.getvalue().strip()
    'batch: 2/4 inputs (1 done, 0 failed, 1 skipped), 300 frames, 30.0 frames/s, 0:00:10 elapsed, ETA 0:00:20'
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def clock_text(seconds: float) -> str:
    """``H:MM:SS``.

    >>> clock_text(3725.4)
    '1:02:05'
    """
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class Progress:
    """Counts finished inputs of ``total`` (``skipped`` of them already done) and draws the line."""

    def __init__(
        self,
        total: int,
        skipped: int = 0,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        enabled: bool = True,
    ) -> None:
        self.total = total
        self.skipped = skipped
        self.done = 0
        self.failed = 0
        self.frames = 0
        self.stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self._start = clock()
        self.enabled = enabled
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._drawn = False

    @property
    def finished_count(self) -> int:
        return self.done + self.failed + self.skipped

    def line(self, now: float) -> str:
        elapsed = now - self._start
        ran = self.done + self.failed
        left = self.total - self.finished_count
        eta = clock_text(elapsed / ran * left) if ran else "?"
        rate = f", {self.frames / elapsed:.1f} frames/s" if elapsed > 0 else ""
        return (
            f"batch: {self.finished_count}/{self.total} inputs ({self.done} done, {self.failed} failed, "
            f"{self.skipped} skipped), {self.frames} frames{rate}, {clock_text(elapsed)} elapsed, ETA {eta}"
        )

    def finished(self, status: str, frames: int = 0) -> None:
        """Count one input that ended with ``status`` (``done`` or ``failed``) and redraw."""
        if status == "done":
            self.done += 1
            self.frames += frames
        else:
            self.failed += 1
        self._draw()

    def message(self, text: str) -> None:
        """A line of its own (a failure), above the progress line on a terminal."""
        if self._tty and self._drawn:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self._drawn = False
        self.stream.flush()

    def _draw(self) -> None:
        if not self.enabled:
            return
        text = self.line(self._clock())
        self.stream.write(("\r\033[K" + text) if self._tty else text + "\n")
        self._drawn = self._tty
        self.stream.flush()

    def close(self) -> None:
        """End the line on a terminal."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
