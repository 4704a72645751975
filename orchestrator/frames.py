"""Frames and the bounded store the reader, the detector workers and fusion share.

A `Frame` is decoded once, by the reader, kept in OpenCV's BGR order, and shared read-only by
every detector and by fusion; each detector gets it in its own `channel_order` (a conversion to
RGB happens at most once per frame, and only when something asks for RGB). The `FrameStore`
holds at most ``capacity`` frames:

* deterministic mode (``drop_oldest=False``): the reader blocks while the store is full;
  fusion removes a frame only after every detector scheduled on it has answered, so workers
  never miss a frame they are scheduled on;
* realtime mode (``drop_oldest=True``): the reader never waits; a new frame evicts the oldest
  one fusion has not taken yet, and the eviction is counted. Workers take the *newest* frame
  scheduled for them, so a slow detector skips stale frames instead of queueing them.

Every wait wakes on `close` (end of stream) or on the shared stop event, so no thread can
hang at shutdown.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import cv2
import numpy as np

from detectors.image import CHANNEL_ORDERS

#: How long a blocked call sleeps before re-checking the stop event (seconds). Waits are
#: also woken by notify; this only bounds the delay of noticing a stop set without notify.
_POLL_S = 0.05


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded frame.

    Attributes:
        index: 0-based position in the source.
        time_s: source time in seconds (file: index / fps; camera: since the run started).
        pixels: read-only ``uint8`` array ``(H, W, 3)`` in ``channel_order``.
        scheduled: names of the detectors whose schedule selects this frame.
        channel_order: ``"rgb"`` or ``"bgr"`` (the reader keeps OpenCV's BGR as decoded).

    `image` gives the frame in either order; the other order is converted once, on first use (under a
    per-frame lock, so workers asking at once share one conversion), and shared read-only.

    Example:
        >>> f = Frame(0, 0.0, np.array([[[1, 2, 3]]], np.uint8), channel_order="bgr")
        >>> f.rgb.tolist(), f.image("bgr").tolist()
        ([[[3, 2, 1]]], [[[1, 2, 3]]])
    """

    index: int
    time_s: float
    pixels: np.ndarray
    scheduled: frozenset[str] = field(default_factory=frozenset)
    channel_order: str = "rgb"
    _converted: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.index < 0:
            raise ValueError(f"frame index must be >= 0, got {self.index}")
        if self.pixels.ndim != 3 or self.pixels.shape[2] != 3 or self.pixels.dtype != np.uint8:
            raise ValueError(f"frame must be uint8 (H, W, 3), got {self.pixels.dtype} {self.pixels.shape}")
        if self.channel_order not in CHANNEL_ORDERS:
            raise ValueError(f"channel order must be one of {list(CHANNEL_ORDERS)}, got {self.channel_order!r}")
        if self.pixels.flags.writeable:
            self.pixels.setflags(write=False)

    def image(self, channel_order: str) -> np.ndarray:
        """The frame in ``channel_order`` (``"rgb"`` or ``"bgr"``), read-only ``uint8 (H, W, 3)``."""
        if channel_order == self.channel_order:
            return self.pixels
        if channel_order not in CHANNEL_ORDERS:
            raise ValueError(f"channel order must be one of {list(CHANNEL_ORDERS)}, got {channel_order!r}")
        with self._lock:
            converted = self._converted.get(channel_order)
            if converted is None:
                converted = cv2.cvtColor(self.pixels, cv2.COLOR_BGR2RGB)  # the swap is its own inverse
                converted.setflags(write=False)
                self._converted[channel_order] = converted
        return converted

    @property
    def rgb(self) -> np.ndarray:
        """The frame in RGB order (converted on first use when decoded as BGR)."""
        return self.image("rgb")

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def resize_source(bgr: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """A decoded frame at the pipeline's ``source.resize`` ``(width, height)``, or as it is when None."""
    if size is not None and (bgr.shape[1], bgr.shape[0]) != tuple(size):
        # INTER_AREA: the right filter for shrinking, which is what resizing a source is for.
        bgr = cv2.resize(bgr, tuple(size), interpolation=cv2.INTER_AREA)
    return bgr


def to_rgb(bgr: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """A decoded frame resized as `resize_source` does, then converted BGR → RGB."""
    return cv2.cvtColor(resize_source(bgr, size), cv2.COLOR_BGR2RGB)


class FrameStore:
    """A bounded, ordered store of frames; see the module docstring for the two policies.

    Example:
        >>> store = FrameStore(capacity=4, drop_oldest=True, stop=threading.Event())
        >>> store.put(Frame(0, 0.0, np.zeros((2, 2, 3), np.uint8)))
        True
        >>> store.take_oldest(remove=True).index
        0
    """

    def __init__(self, capacity: int, drop_oldest: bool, stop: threading.Event) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self.drop_oldest = drop_oldest
        self._stop = stop
        self._frames: OrderedDict[int, Frame] = OrderedDict()
        self._cond = threading.Condition()
        self._closed = False
        # Realtime: the newest frame scheduled for each detector, kept apart from the ordered
        # buffer so fusion taking a frame never hides it from a worker that is about to be free.
        self._latest: dict[str, Frame] = {}
        self.evicted = 0
        self.peak = 0

    # ------------------------------------------------------------------ reader side
    def put(self, frame: Frame) -> bool:
        """Add a frame; False if the run is stopping (the frame was not stored)."""
        with self._cond:
            if not self.drop_oldest:
                while len(self._frames) >= self.capacity and not self._stop.is_set():
                    self._cond.wait(_POLL_S)
                if self._stop.is_set():
                    return False
            while len(self._frames) >= self.capacity:
                self._frames.popitem(last=False)
                self.evicted += 1
            self._frames[frame.index] = frame
            if self.drop_oldest:
                for name in frame.scheduled:
                    self._latest[name] = frame
            self.peak = max(self.peak, len(self._frames))
            self._cond.notify_all()
            return True

    def close(self) -> None:
        """No more frames will come; wakes every waiter."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wake(self) -> None:
        """Wake every waiter so it re-checks the stop event."""
        with self._cond:
            self._cond.notify_all()

    # ------------------------------------------------------------------ worker side
    def next_scheduled(self, detector: str, after_index: int) -> Frame | None:
        """Deterministic: the first frame after ``after_index`` scheduled for ``detector``.

        Blocks until one arrives; None at end of stream or on stop.
        """
        with self._cond:
            while not self._stop.is_set():
                for index, frame in self._frames.items():
                    if index > after_index and detector in frame.scheduled:
                        return frame
                if self._closed:
                    return None
                self._cond.wait(_POLL_S)
            return None

    def newest_scheduled(self, detector: str, after_index: int) -> Frame | None:
        """Realtime: the newest frame after ``after_index`` scheduled for ``detector``.

        Older scheduled frames are skipped: the latest frame wins.
        """
        with self._cond:
            while not self._stop.is_set():
                frame = self._latest.get(detector)
                if frame is not None and frame.index > after_index:
                    return frame
                if self._closed:
                    return None
                self._cond.wait(_POLL_S)
            return None

    # ------------------------------------------------------------------ fusion side
    def take_oldest(self, remove: bool) -> Frame | None:
        """The oldest frame (removed if ``remove``); blocks; None at end of stream, or on stop once empty.

        Frames already held are handed out even after a stop: fusion decides whether their results
        are all there (a frame answered before a detector failed is still written).
        """
        with self._cond:
            while True:
                if self._frames:
                    index, frame = next(iter(self._frames.items()))
                    if remove:
                        del self._frames[index]
                        self._cond.notify_all()
                    return frame
                if self._closed or self._stop.is_set():
                    return None
                self._cond.wait(_POLL_S)

    def remove(self, index: int) -> None:
        """Fusion is done with frame ``index``; frees a slot for the reader."""
        with self._cond:
            self._frames.pop(index, None)
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._frames)
