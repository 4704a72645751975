"""Drawing what the pipeline sees: overlays on frames, a video file, a window, and a render thread.

::

    fusion ─► FrameView ─► RenderWorker.submit ─► (bounded queue) ─► render thread:
                                                                       render() ─► VideoOut.write
                                                                                 └► Display.show

`render` turns one `FrameView` into a new BGR image (what ``cv2.imshow`` and ``cv2.VideoWriter``
take); the source frame is never modified. The legend:

* hand tracks: a box in the track's colour (deterministic per track id) labelled ``hand #3``.
  An *observed* box (a detection matched on this very frame) is a **solid** line; a *predicted*
  box (the tracker's estimate while the detector did not see the hand) is a **dashed**, thinner
  line and its label says for how long: ``hand #3 pred 2``.
* object tracks: the same, labelled ``cup #2 0.42`` (label, id, score of the last detection).
* raw detections of detectors whose results are not already drawn as tracks (a detector that no
  tracker follows): a solid box in a colour per label, labelled ``cup 0.42``.
* relations: a line from the hand box centre to the object box centre, labelled with the
  relation name beside the line's midpoint (the midpoint itself stays on the line).
* the HUD (top-left, on a darkened patch): frame index, source time and fps, then one line per
  detector with the frames since its last result (``objects: 3 fr``); stale detectors in orange.

Line widths and fonts scale with the image's shorter side, so 320x240 and 1920x1080 both read well.
`RenderWorker` runs drawing and output off the detection path: fusion only enqueues a view.

Example:
    >>> import numpy as np
    >>> from trackers.base import Track
    >>> hand = Track(1, (40, 60, 120, 200), 0.9, "hand", 0)
    >>> view = FrameView(0, 0.0, np.zeros((240, 320, 3), np.uint8), hands=(hand,))
    >>> bgr = render(view)
    >>> bgr.shape, bgr.dtype
    ((240, 320, 3), dtype('uint8'))
"""

from __future__ import annotations

import colorsys
import contextlib
import functools
import math
import numbers
import os
import re
import socket
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

import cv2
import numpy as np

from detectors.base import Detections
from orchestrator.errors import PipelineError, UserError
from trackers.base import Track

Box = tuple[float, float, float, float]
#: A colour in OpenCV's channel order: blue, green, red.
Color = tuple[int, int, int]

_FONT = cv2.FONT_HERSHEY_SIMPLEX
#: 1 / golden ratio: consecutive ids get hues far apart, so neighbouring tracks never look alike.
_GOLDEN = 0.618033988749895
#: Render times kept for the percentiles: hours at 30 fps, bounded memory.
_TIMING_WINDOW = 100_000
_T = TypeVar("_T")


# --------------------------------------------------------------------------- values
@dataclass(frozen=True)
class ActiveRelation:
    """A relation that holds on this frame between a hand track and an object track.

    Example:
        >>> ActiveRelation("holding", 1, 7, (10, 10, 50, 50), (40, 40, 90, 90)).name
        'holding'
    """

    name: str
    hand_id: int
    object_id: int
    hand_box: Box
    object_box: Box

    def __post_init__(self) -> None:
        object.__setattr__(self, "hand_box", tuple(map(float, self.hand_box)))
        object.__setattr__(self, "object_box", tuple(map(float, self.object_box)))


@dataclass(frozen=True, eq=False)
class FrameView:
    """What one output frame shows. Immutable; built by fusion, drawn by `render`.

    Attributes:
        frame_index: 0-based frame index in the source.
        time_s: source time in seconds.
        rgb: the source frame, ``uint8 (H, W, 3)`` RGB; stored as a read-only view (the caller's
            array and its flags are left alone).
        hands: hand tracks on this frame.
        objects: object tracks on this frame (drawn with label and score).
        detections: raw detections of the detectors that answered on this frame, by detector name.
        tracked_detectors: names of detectors whose results are already drawn as tracks
            (``hands`` / ``objects``); their raw detections are not drawn again. Every other
            detector's raw detections are drawn (for example an object detector no tracker follows).
        relations: relations active on this frame.
        fps: the pipeline's current processing rate, or ``None`` when not known yet.
        staleness_frames: per detector, frames since its last result (0: answered on this frame).

    Example:
        >>> view = FrameView(3, 0.1, np.zeros((4, 4, 3), np.uint8), fps=30.0, staleness_frames={"hands": 0})
        >>> view.rgb.flags.writeable
        False
    """

    frame_index: int
    time_s: float
    rgb: np.ndarray
    hands: tuple[Track, ...] = ()
    objects: tuple[Track, ...] = ()
    detections: Mapping[str, Detections] = field(default_factory=dict)
    relations: tuple[ActiveRelation, ...] = ()
    fps: float | None = None
    staleness_frames: Mapping[str, int] = field(default_factory=dict)
    tracked_detectors: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        rgb = self.rgb
        if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            shape = getattr(rgb, "shape", None)
            raise ValueError(f"rgb must be a uint8 (H, W, 3) array, got {getattr(rgb, 'dtype', type(rgb))} {shape}")
        # A read-only view: nothing downstream can write into the shared source frame by accident,
        # and the caller's own array keeps its flags.
        view = rgb.view()
        view.setflags(write=False)
        object.__setattr__(self, "rgb", view)
        object.__setattr__(self, "hands", tuple(self.hands))
        object.__setattr__(self, "objects", tuple(self.objects))
        object.__setattr__(self, "relations", tuple(self.relations))
        object.__setattr__(self, "detections", MappingProxyType(dict(self.detections)))
        object.__setattr__(self, "staleness_frames", MappingProxyType(dict(self.staleness_frames)))
        object.__setattr__(self, "tracked_detectors", frozenset(self.tracked_detectors))

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the frame, the order `VideoOut` takes."""
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])


@dataclass(frozen=True)
class Style:
    """Colours (BGR), widths and font sizes. Sizes are for a ``reference_size``-pixel shorter side
    and scale with the image, so a 320x240 and a 1920x1080 frame look alike.

    Example:
        >>> bgr = render(FrameView(0, 0.0, np.zeros((240, 320, 3), np.uint8)), Style(show_hud=False))
    """

    #: Box and line width in pixels at the reference size (never below 1 px).
    line_width: float = 2.0
    #: Hershey font scale at the reference size.
    font_scale: float = 0.55
    #: Smallest font scale: below this the Hershey font stops being legible.
    min_font_scale: float = 0.33
    #: Shorter image side the sizes above are for.
    reference_size: int = 720
    #: Dash and gap length of predicted boxes, pixels at the reference size.
    dash_length: float = 10.0
    #: Colour of relation lines and their labels.
    relation_color: Color = (0, 215, 255)
    #: HUD text colour, and the colour of a detector whose result is `stale_frames` old or older.
    hud_color: Color = (255, 255, 255)
    hud_stale_color: Color = (0, 165, 255)
    stale_frames: int = 15
    show_hud: bool = True
    #: Saturation and value of the per-id colours (hue is picked per id).
    saturation: float = 0.85
    value: float = 0.95

    def __post_init__(self) -> None:
        if self.line_width <= 0 or self.font_scale <= 0 or self.reference_size <= 0 or self.dash_length <= 0:
            raise ValueError("line_width, font_scale, reference_size and dash_length must be > 0")


DEFAULT_STYLE = Style()


@dataclass(frozen=True)
class _Metrics:
    """Pixel sizes of a `Style` on one image size (cached: computed once per size)."""

    thickness: int
    thin: int
    font_scale: float
    font_thickness: int
    pad: int
    dash: int
    radius: int


@functools.lru_cache(maxsize=64)
def _metrics(style: Style, width: int, height: int) -> _Metrics:
    scale = min(width, height) / style.reference_size
    thickness = max(1, round(style.line_width * scale))
    font_scale = max(style.min_font_scale, style.font_scale * scale)
    return _Metrics(
        thickness=thickness,
        # Predicted boxes are thinner as well as dashed, so they read as "less certain" at a glance.
        thin=max(1, thickness - 1),
        font_scale=font_scale,
        font_thickness=max(1, round(font_scale * 1.6)),
        pad=max(1, round(3 * scale)),
        dash=max(3, round(style.dash_length * scale)),
        radius=max(2, round(3 * style.line_width * scale)),
    )


# --------------------------------------------------------------------------- colours
@functools.lru_cache(maxsize=4096)
def track_color(track_id: int, kind: str = "hand", style: Style = DEFAULT_STYLE) -> Color:
    """The BGR colour of a track: deterministic per id (and kind), spread around the hue circle.

    Hands and objects have separate id spaces, so object hues are offset by half a turn.

    Example:
        >>> track_color(1) == track_color(1), track_color(1) != track_color(2)
        (True, True)
    """
    hue = (track_id * _GOLDEN + (0.5 if kind != "hand" else 0.0)) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, style.saturation, style.value)
    return round(b * 255), round(g * 255), round(r * 255)


@functools.lru_cache(maxsize=1024)
def label_color(label: str, style: Style = DEFAULT_STYLE) -> Color:
    """The BGR colour of raw detections with this label (crc32: stable across runs, unlike ``hash``)."""
    hue = (zlib.crc32(label.encode("utf-8")) & 0xFFFFFFFF) / 2**32
    r, g, b = colorsys.hsv_to_rgb(hue, style.saturation, style.value)
    return round(b * 255), round(g * 255), round(r * 255)


def _text_color(background: Color) -> Color:
    # Black on light backgrounds, white on dark ones (Rec. 601 luma of a BGR colour).
    b, g, r = background
    return (0, 0, 0) if 0.114 * b + 0.587 * g + 0.299 * r > 140 else (255, 255, 255)


# --------------------------------------------------------------------------- drawing
def _int_box(box: Sequence[float], width: int, height: int, margin: int) -> tuple[int, int, int, int]:
    # Clip first: OpenCV takes int32 coordinates, and a wild predicted box must not overflow them.
    # The margin keeps an edge that lies outside the frame outside (it is not drawn on the border).
    x1, y1, x2, y2 = box
    lo_x, hi_x, lo_y, hi_y = -margin, width - 1 + margin, -margin, height - 1 + margin
    return (
        round(min(max(x1, lo_x), hi_x)),
        round(min(max(y1, lo_y), hi_y)),
        round(min(max(x2, lo_x), hi_x)),
        round(min(max(y2, lo_y), hi_y)),
    )


def _dashed_rectangle(
    img: np.ndarray, p1: tuple[int, int], p2: tuple[int, int], color: Color, thickness: int, dash: int
) -> None:
    """A dashed rectangle in one `cv2.polylines` call (one call per dash would cost ~100 calls per box)."""
    x1, y1 = p1
    x2, y2 = p2
    segments: list[np.ndarray] = []
    step = 2 * dash
    for (ax, ay), (bx, by) in (((x1, y1), (x2, y1)), ((x2, y1), (x2, y2)), ((x2, y2), (x1, y2)), ((x1, y2), (x1, y1))):
        length = max(abs(bx - ax), abs(by - ay))
        if length == 0:
            continue
        starts = np.arange(0, length, step, dtype=np.float64)
        ends = np.minimum(starts + dash, length)
        dx, dy = (bx - ax) / length, (by - ay) / length
        seg = np.empty((starts.size, 2, 2), np.int32)
        seg[:, 0, 0] = np.rint(ax + dx * starts)
        seg[:, 0, 1] = np.rint(ay + dy * starts)
        seg[:, 1, 0] = np.rint(ax + dx * ends)
        seg[:, 1, 1] = np.rint(ay + dy * ends)
        segments.extend(seg)
    if segments:
        cv2.polylines(img, segments, False, color, thickness, cv2.LINE_8)


def _label(
    img: np.ndarray, text: str, x: int, y: int, color: Color, m: _Metrics, above: bool = True
) -> tuple[int, int, int, int]:
    """A filled label with its bottom-left at ``(x, y)`` (above) or top-left (below); kept inside the image.

    Returns the label's rectangle ``x0, y0, x1, y1``.
    """
    (tw, th), baseline = cv2.getTextSize(text, _FONT, m.font_scale, m.font_thickness)
    w, h = tw + 2 * m.pad, th + baseline + 2 * m.pad
    height, width = img.shape[:2]
    x0 = min(max(x, 0), max(0, width - w))
    y0 = y - h if above else y
    if y0 < 0:  # no room above (box at the top of the frame): put it inside, under the edge
        y0 = y if above else 0
    y0 = min(y0, max(0, height - h))
    cv2.rectangle(img, (x0, y0), (x0 + w - 1, y0 + h - 1), color, cv2.FILLED)
    cv2.putText(
        img, text, (x0 + m.pad, y0 + m.pad + th), _FONT, m.font_scale, _text_color(color), m.font_thickness, cv2.LINE_AA
    )
    return x0, y0, x0 + w - 1, y0 + h - 1


def _draw_box(
    img: np.ndarray, box: Sequence[float], color: Color, text: str, predicted: bool, m: _Metrics, size: tuple[int, int]
) -> None:
    width, height = size
    x1, y1, x2, y2 = _int_box(box, width, height, 2 * m.thickness + 1)
    if predicted:
        _dashed_rectangle(img, (x1, y1), (x2, y2), color, m.thin, m.dash)
    else:
        # LINE_8, not LINE_AA: exact colours on the outline (and cheaper); text alone is antialiased.
        cv2.rectangle(img, (x1, y1), (x2, y2), color, m.thickness, cv2.LINE_8)
    _label(img, text, x1 - m.thickness // 2, y1 - m.thickness // 2, color, m)


def _track_text(track: Track, name: str, with_score: bool) -> str:
    text = f"{name} #{track.track_id}"
    if with_score:
        text += f" {track.score:.2f}"
    if track.box_source == "predicted":
        text += f" pred {track.frames_since_observed}"
    return text


def _centre(box: Sequence[float]) -> tuple[float, float]:
    return (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0


def _draw_relation(img: np.ndarray, relation: ActiveRelation, style: Style, m: _Metrics) -> None:
    height, width = img.shape[:2]
    limit = 4 * max(width, height)  # clip before int32: a wild box must not overflow OpenCV's coordinates
    hx, hy = (min(max(v, -limit), limit) for v in _centre(relation.hand_box))
    ox, oy = (min(max(v, -limit), limit) for v in _centre(relation.object_box))
    p, q = (round(hx), round(hy)), (round(ox), round(oy))
    cv2.line(img, p, q, style.relation_color, m.thickness, cv2.LINE_8)
    cv2.circle(img, p, m.radius, style.relation_color, cv2.FILLED, cv2.LINE_8)
    cv2.circle(img, q, m.radius, style.relation_color, cv2.FILLED, cv2.LINE_8)
    # Beside the midpoint, up and to the right, so the midpoint itself stays visibly on the line.
    mx, my = round((hx + ox) / 2), round((hy + oy) / 2)
    gap = m.thickness + m.radius
    _label(img, relation.name, mx + gap, my - gap, style.relation_color, m)


def _draw_hud(img: np.ndarray, view: FrameView, style: Style, m: _Metrics) -> None:
    fps = "-- fps" if view.fps is None else f"{view.fps:.1f} fps"
    lines: list[tuple[str, Color]] = [(f"frame {view.frame_index}  {view.time_s:.2f}s  {fps}", style.hud_color)]
    for name, stale in view.staleness_frames.items():
        lines.append((f"{name}: {stale} fr", style.hud_stale_color if stale >= style.stale_frames else style.hud_color))
    sizes = [cv2.getTextSize(text, _FONT, m.font_scale, m.font_thickness) for text, _ in lines]
    line_h = max(th + base for (_, th), base in sizes) + m.pad
    box_w = max(tw for (tw, _), _ in sizes) + 2 * m.pad
    box_h = line_h * len(lines) + m.pad
    height, width = img.shape[:2]
    roi = img[0 : min(box_h, height), 0 : min(box_w, width)]
    # Halve the patch behind the text (a shift, not a blend of the whole frame): legible on any scene.
    np.right_shift(roi, 1, out=roi)
    for i, ((text, color), ((_, th), _)) in enumerate(zip(lines, sizes, strict=True)):
        y = m.pad + i * line_h + th
        cv2.putText(img, text, (m.pad, y), _FONT, m.font_scale, color, m.font_thickness, cv2.LINE_AA)


def render(view: FrameView, style: Style | None = None) -> np.ndarray:
    """Draw `view`'s overlays on a copy of its frame; returns a new BGR ``uint8`` image.

    ``view.rgb`` is never modified. Drawing order, bottom to top: raw detections, object tracks,
    hand tracks, relations, HUD.

    Example:
        >>> rgb = np.zeros((240, 320, 3), np.uint8)
        >>> rgb[0, 0] = (255, 0, 0)                                    # red, in RGB
        >>> render(FrameView(0, 0.0, rgb), Style(show_hud=False))[0, 0].tolist()  # red, in BGR
        [0, 0, 255]
    """
    style = DEFAULT_STYLE if style is None else style
    # The one copy of the frame, fused with the RGB → BGR swap that the output needs anyway.
    img = cv2.cvtColor(view.rgb, cv2.COLOR_RGB2BGR)
    height, width = img.shape[:2]
    size = (width, height)
    m = _metrics(style, width, height)
    for name, dets in view.detections.items():
        if name in view.tracked_detectors:
            continue
        for box, score, label in zip(dets.boxes.tolist(), dets.scores.tolist(), dets.labels, strict=True):
            _draw_box(img, box, label_color(label, style), f"{label} {score:.2f}", False, m, size)
    for track in view.objects:
        color = track_color(track.track_id, "object", style)
        text = _track_text(track, track.label, with_score=True)
        _draw_box(img, track.box, color, text, track.box_source == "predicted", m, size)
    for track in view.hands:
        color = track_color(track.track_id, "hand", style)
        _draw_box(img, track.box, color, _track_text(track, "hand", False), track.box_source == "predicted", m, size)
    # Several relations on one hand-object pair share one line and one label ("holding, near"):
    # drawn one by one, their labels would cover each other.
    pairs: dict[tuple[int, int], list[ActiveRelation]] = {}
    for relation in view.relations:
        pairs.setdefault((relation.hand_id, relation.object_id), []).append(relation)
    for group in pairs.values():
        _draw_relation(img, replace(group[0], name=", ".join(r.name for r in group)), style, m)
    if style.show_hud:
        _draw_hud(img, view, style, m)
    return img


# --------------------------------------------------------------------------- outputs
class FrameSink(Protocol):
    """Anything `RenderWorker` can write rendered frames to (`VideoOut`, or a test double)."""

    def write(self, bgr: np.ndarray) -> None: ...

    def close(self) -> None: ...


class VideoOut:
    """A video file written frame by frame, one output frame per source frame.

    The codec follows the suffix: ``.mp4`` → ``mp4v``, ``.avi`` → ``MJPG``. ``size`` is
    ``(width, height)``; every frame written must have exactly that size (OpenCV would drop a
    frame of another size silently, so `write` refuses it).

    Example:
        >>> with VideoOut("out.avi", 30.0, (320, 240)) as video:  # doctest: +SKIP
        ...     video.write(np.zeros((240, 320, 3), np.uint8))
    """

    FOURCC_BY_SUFFIX: Mapping[str, str] = MappingProxyType({".mp4": "mp4v", ".avi": "MJPG"})

    def __init__(self, path: str | os.PathLike[str], fps: float, size: tuple[int, int]) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in self.FOURCC_BY_SUFFIX:
            supported = ", ".join(self.FOURCC_BY_SUFFIX)
            raise UserError(f"{path}: cannot write video with suffix {suffix or '(none)'!r}; use one of {supported}")
        if not self.path.parent.is_dir():
            raise UserError(f"{path}: cannot write video: folder {self.path.parent} does not exist")
        if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not (math.isfinite(fps) and fps > 0):
            raise UserError(f"{path}: video fps must be a number > 0, got {fps!r}")
        width, height = (int(v) for v in size)
        if width <= 0 or height <= 0:
            raise UserError(f"{path}: video size must be positive (width, height), got {size!r}")
        self.fps = float(fps)
        self.size = (width, height)
        self.fourcc = self.FOURCC_BY_SUFFIX[suffix]
        self.frames_written = 0
        self._writer: cv2.VideoWriter | None = cv2.VideoWriter(
            str(self.path), cv2.VideoWriter_fourcc(*self.fourcc), self.fps, self.size
        )
        if not self._writer.isOpened():
            self._writer.release()
            self._writer = None
            raise UserError(f"{path}: cannot open for writing ({self.fourcc} video, {width}x{height} at {fps:g} fps)")

    def write(self, bgr: np.ndarray) -> None:
        """Append one BGR ``uint8 (H, W, 3)`` frame of the writer's size."""
        if self._writer is None:
            raise ValueError(f"{self.path}: write after close")
        width, height = self.size
        if bgr.dtype != np.uint8 or bgr.shape != (height, width, 3):
            raise ValueError(f"{self.path}: frame must be uint8 ({height}, {width}, 3), got {bgr.dtype} {bgr.shape}")
        self._writer.write(bgr)
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file. Safe to call twice."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> VideoOut:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _gui_backend_built() -> bool:
    """Whether this OpenCV build has a window backend (``opencv-python-headless`` has none)."""
    info = cv2.getBuildInformation()
    return re.search(r"^\s*(GTK\+?\d*|QT\d*|Win32 UI|Cocoa|Wayland)\s*:\s*YES", info, re.MULTILINE) is not None


def _display_server_reachable() -> bool:
    """Whether the X (or Wayland) server named by the environment accepts a connection.

    Checked with a plain socket *before* OpenCV touches the GUI: Qt aborts the whole process
    (no exception to catch) when ``DISPLAY`` names a server that is not there.
    """
    if sys.platform == "win32" or sys.platform == "darwin":
        return True  # native window systems: nothing to connect to
    display = os.environ.get("DISPLAY", "")
    match = re.fullmatch(r"(?:unix)?(?P<host>[^:]*):(?P<num>\d+)(?:\.\d+)?", display)
    if match:
        host, num = match["host"], int(match["num"])
        try:
            if host in ("", "unix"):
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.settimeout(1.0)
                    sock.connect(f"/tmp/.X11-unix/X{num}")
            else:
                with socket.create_connection((host, 6000 + num), timeout=1.0):
                    pass
            return True
        except OSError:
            pass
    wayland = os.environ.get("WAYLAND_DISPLAY", "")
    if wayland:
        runtime_dir = os.environ.get("XDG_RUNTIME_DIR", "")
        path = wayland if os.path.isabs(wayland) else os.path.join(runtime_dir, wayland)
        return os.path.exists(path)
    return False


# All highgui calls go through one long-lived thread. OpenCV's Qt backend binds the GUI to the thread
# of the first GUI call and marshals calls from any other thread to it with a *blocking* queued call:
# probing in the main thread and then showing from the render thread deadlocks (the main thread,
# joining the render thread, never pumps Qt events). One GUI thread, whoever calls, avoids that.
_GUI_LOCK = threading.Lock()
_GUI_EXECUTOR: ThreadPoolExecutor | None = None
#: How long `display_available` waits for its probe window before answering False.
_PROBE_TIMEOUT_S = 10.0


def _on_gui_thread(fn: Callable[..., _T], *args: Any, timeout: float | None = None) -> _T:
    """Run ``fn(*args)`` on the GUI thread and return its result (or raise its exception)."""
    global _GUI_EXECUTOR
    with _GUI_LOCK:
        if _GUI_EXECUTOR is None:
            # max_workers=1: one thread, started on first use and kept (idle workers never exit).
            _GUI_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="orchestrator-gui")
        executor = _GUI_EXECUTOR
    return executor.submit(fn, *args).result(timeout=timeout)


def _probe_window() -> None:
    name = "orchestrator-display-probe"
    cv2.namedWindow(name, cv2.WINDOW_AUTOSIZE)
    cv2.waitKey(1)
    cv2.destroyWindow(name)
    cv2.waitKey(1)


def display_available() -> bool:
    """Whether a window can be opened: a reachable display, a GUI-enabled OpenCV, and a probe window.

    The probe opens and destroys a tiny window on the GUI thread (see `Display`); a ``cv2.error``
    or a probe that does not finish within 10 s answers False.

    Example:
        >>> display = Display() if display_available() else None  # doctest: +SKIP
    """
    if not _display_server_reachable() or not _gui_backend_built():
        return False
    try:
        _on_gui_thread(_probe_window, timeout=_PROBE_TIMEOUT_S)
    except (cv2.error, FuturesTimeout):
        return False
    return True


class Display:
    """A window showing rendered frames; `show` says whether the user wants to go on.

    Every OpenCV GUI call runs on one module-wide GUI thread, whichever thread calls `show` or
    `close` (GUI toolkits bind windows to one thread; see `_on_gui_thread`). The window is created
    on the first `show`. Linux (X11/Wayland) and Windows; macOS wants GUI calls on the main thread.

    Example:
        >>> display = Display("hands")  # doctest: +SKIP
        >>> while display.show(bgr):    # doctest: +SKIP
        ...     bgr = next_frame()
        >>> display.close()             # doctest: +SKIP
    """

    #: Keys that end the display: ``q`` and Esc.
    QUIT_KEYS = frozenset({ord("q"), ord("Q"), 27})

    def __init__(self, window_name: str = "orchestrator") -> None:
        self.window_name = window_name
        self._opened = False
        self._check_visible = True
        self.frames_shown = 0

    def show(self, bgr: np.ndarray) -> bool:
        """Show one BGR frame; ``False`` when the user pressed ``q`` or Esc, or closed the window."""
        return _on_gui_thread(self._show, bgr)

    def close(self) -> None:
        """Destroy the window. Safe to call twice."""
        if self._opened:
            _on_gui_thread(self._close)

    def _show(self, bgr: np.ndarray) -> bool:
        if not self._opened:
            cv2.namedWindow(self.window_name, cv2.WINDOW_AUTOSIZE)
            self._opened = True
        cv2.imshow(self.window_name, bgr)
        key = cv2.waitKey(1)
        self.frames_shown += 1
        if key != -1 and (key & 0xFF) in self.QUIT_KEYS:
            return False
        try:
            visible = cv2.getWindowProperty(self.window_name, cv2.WND_PROP_VISIBLE)
        except cv2.error:
            return False  # the window is gone: closed by the user
        if self.frames_shown == 1 and visible < 1:
            # A backend that does not report visibility answers < 1 for a window it just showed:
            # do not take that for "closed" on every frame.
            self._check_visible = False
        return not (self._check_visible and visible < 1)

    def _close(self) -> None:
        if self._opened:
            self._opened = False
            with contextlib.suppress(cv2.error):  # already closed by the user
                cv2.destroyWindow(self.window_name)
                cv2.waitKey(1)  # let the toolkit process the destroy event


# --------------------------------------------------------------------------- the render thread
class RenderWorker:
    """Renders views and writes them to sinks and/or a display in its own thread.

    Fusion calls `submit`, which only enqueues (at most ``maxsize`` views wait):

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
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}")
        self.sinks = tuple(sinks)
        self.display = display
        self.drop_when_full = drop_when_full
        self.maxsize = maxsize
        self.style = style
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
                else:
                    self._cond.wait()
                    self._raise_pending_error()  # the worker died while we waited: never block forever
            self._pending.append(view)
            self.peak_queued = max(self.peak_queued, len(self._pending))
            self._cond.notify_all()

    def close(self) -> None:
        """Render what is queued, close the sinks and the display, join the thread; raises a failure not yet raised."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()
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
                frame_index = view.frame_index
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
                        self._error = PipelineError(f"renderer failed closing its output: {type(exc).__name__}: {exc}")
                        self._error.__cause__ = exc
        if self.display is not None:
            with contextlib.suppress(Exception):  # a window that will not close must not fail the run
                self.display.close()
