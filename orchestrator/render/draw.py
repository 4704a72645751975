"""Pure drawing: `render` turns one `FrameView` into a new BGR image with the overlays.

The source frame is never modified. The legend (see `orchestrator.render` for all of it): hand
and object tracks as boxes in their track colour (solid when observed on this frame, dashed and
thinner when predicted), hand skeletons from keypoints (solid when observed, faint when moved
with a predicted box), the side in a hand's label (``hand #3 L``), raw detections of untracked
detectors in a colour per label, relations as a line between box centres labelled with the
relation names, and the HUD (`hud_lines`: frame, time, the pipeline's fps, and per detector how
many frames ago its last result came). Labels never overlap:
each takes the first free slot next to where it belongs.

Example:
    >>> from orchestrator.scene import Scene
    >>> rgb = np.zeros((240, 320, 3), np.uint8)
    >>> bgr = render(FrameView(Scene(0, 0.0, (320, 240)), rgb))
    >>> bgr.shape, bgr.dtype
    ((240, 320, 3), dtype('uint8'))
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from detectors.detections import HAND_CONNECTIONS
from orchestrator.render.colors import label_color, text_color, track_color
from orchestrator.render.style import DEFAULT_STYLE, FONT, Color, Metrics, Style, metrics
from orchestrator.render.view import FrameView
from orchestrator.scene import ActiveRelation
from trackers.track import Track


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


Rect = tuple[int, int, int, int]


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


class _Labels:
    """The labels of one image: each new one goes to the first slot that overlaps none placed before.

    Slots are the label's own place, then one label height lower, higher, two lower, two higher...
    (inside the image). When every slot is taken (a crowded frame), the label keeps its own place.
    Labels are placed as the boxes are drawn but painted by `paint`, after every box, skeleton and
    relation line, so no outline runs across a label's text.
    """

    def __init__(self) -> None:
        self.placed: list[Rect] = []
        self._queued: list[tuple[str, Rect, int, int, Color, Metrics]] = []

    def draw(self, img: np.ndarray, text: str, x: int, y: int, color: Color, m: Metrics, above: bool = True) -> Rect:
        """Place a filled label with its bottom-left at ``(x, y)`` (above) or top-left (below), moved to a free slot.

        Returns the label's rectangle ``x0, y0, x1, y1`` (inclusive pixels); `paint` draws it.
        """
        (tw, th), baseline = cv2.getTextSize(text, FONT, m.font_scale, m.font_thickness)
        w, h = tw + 2 * m.pad, th + baseline + 2 * m.pad
        height, width = img.shape[:2]
        x0 = min(max(x, 0), max(0, width - w))
        y0 = y - h if above else y
        if y0 < 0:  # no room above (box at the top of the frame): put it inside, under the edge
            y0 = y if above else 0
        y0 = min(y0, max(0, height - h))
        y0 = self._free_slot(x0, y0, w, h, height)
        rect = (x0, y0, x0 + w - 1, y0 + h - 1)
        self.placed.append(rect)
        self._queued.append((text, rect, th, baseline, color, m))
        return rect

    def paint(self, img: np.ndarray) -> None:
        """Paint the labels placed so far, in placement order, on top of what is drawn."""
        for text, (x0, y0, x1, y1), th, _, color, m in self._queued:
            cv2.rectangle(img, (x0, y0), (x1, y1), color, cv2.FILLED)
            cv2.putText(
                img,
                text,
                (x0 + m.pad, y0 + m.pad + th),
                FONT,
                m.font_scale,
                text_color(color),
                m.font_thickness,
                cv2.LINE_AA,
            )
        self._queued.clear()

    def _free_slot(self, x0: int, y0: int, w: int, h: int, height: int) -> int:
        last = max(0, height - h)
        for step in range(2 * (height // h + 1) + 1):
            # 0, +1, -1, +2, -2, ... label heights: the nearest free slot, below first.
            shift = (step + 1) // 2 * (1 if step % 2 else -1) * h
            y = y0 + shift
            if not 0 <= y <= last:
                continue
            if not any(_overlaps((x0, y, x0 + w - 1, y + h - 1), rect) for rect in self.placed):
                return y
        return y0


def _points(keypoints: Sequence[Sequence[float]], width: int, height: int) -> list[tuple[int, int]]:
    limit = 4 * max(width, height)  # clip before int32: a wild prediction must not overflow OpenCV's coordinates
    return [(round(min(max(p[0], -limit), limit)), round(min(max(p[1], -limit), limit))) for p in keypoints]


def _draw_skeleton(
    img: np.ndarray, keypoints: Sequence[Sequence[float]], color: Color, faint: bool, style: Style, m: Metrics
) -> None:
    """Bones (21 hand keypoints, MediaPipe's order: `HAND_CONNECTIONS`) and joints; only joints for other K.

    Observed keypoints are drawn solid; predicted ones (``faint``) blended at `Style.predicted_skeleton_alpha`
    over the frame, only within the skeleton's bounding rectangle (cheap, and the rest stays exact).
    """
    height, width = img.shape[:2]
    points = _points(keypoints, width, height)
    if not points:
        return
    joint = max(1, m.thin)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    margin = joint + m.thin + 1
    x0, y0 = max(0, min(xs) - margin), max(0, min(ys) - margin)
    x1, y1 = min(width, max(xs) + margin + 1), min(height, max(ys) + margin + 1)
    if x0 >= x1 or y0 >= y1:  # wholly outside the frame
        return
    target = img[y0:y1, x0:x1]
    canvas = target.copy() if faint else target
    shifted = [(x - x0, y - y0) for x, y in points]
    if len(points) == 21:
        bones = [np.array([shifted[a], shifted[b]], np.int32) for a, b in HAND_CONNECTIONS]
        cv2.polylines(canvas, bones, False, color, m.thin, cv2.LINE_8)
    for point in shifted:
        cv2.circle(canvas, point, joint, color, cv2.FILLED, cv2.LINE_8)
    if faint:
        alpha = style.predicted_skeleton_alpha
        cv2.addWeighted(canvas, alpha, target, 1.0 - alpha, 0.0, dst=target)


def _draw_box(
    img: np.ndarray,
    box: Sequence[float],
    color: Color,
    text: str,
    predicted: bool,
    m: Metrics,
    size: tuple[int, int],
    labels: _Labels,
) -> None:
    width, height = size
    x1, y1, x2, y2 = _int_box(box, width, height, 2 * m.thickness + 1)
    if predicted:
        _dashed_rectangle(img, (x1, y1), (x2, y2), color, m.thin, m.dash)
    else:
        # LINE_8, not LINE_AA: exact colours on the outline (and cheaper); text alone is antialiased.
        cv2.rectangle(img, (x1, y1), (x2, y2), color, m.thickness, cv2.LINE_8)
    labels.draw(img, text, x1 - m.thickness // 2, y1 - m.thickness // 2, color, m)


def _track_text(track: Track, name: str, with_score: bool) -> str:
    text = f"{name} #{track.track_id}"
    if track.side is not None:
        text += " L" if track.side == "left" else " R"
    if with_score:
        text += f" {track.score:.2f}"
    if track.box_source == "predicted":
        text += f" pred {track.frames_since_observed}"
    return text


def _centre(box: Sequence[float]) -> tuple[float, float]:
    return (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0


def _draw_relation(
    img: np.ndarray,
    name: str,
    hand_box: Sequence[float],
    object_box: Sequence[float],
    style: Style,
    m: Metrics,
    labels: _Labels,
) -> None:
    height, width = img.shape[:2]
    limit = 4 * max(width, height)  # clip before int32: a wild box must not overflow OpenCV's coordinates
    hx, hy = (min(max(v, -limit), limit) for v in _centre(hand_box))
    ox, oy = (min(max(v, -limit), limit) for v in _centre(object_box))
    p, q = (round(hx), round(hy)), (round(ox), round(oy))
    cv2.line(img, p, q, style.relation_color, m.thickness, cv2.LINE_8)
    cv2.circle(img, p, m.radius, style.relation_color, cv2.FILLED, cv2.LINE_8)
    cv2.circle(img, q, m.radius, style.relation_color, cv2.FILLED, cv2.LINE_8)
    # Beside the midpoint, up and to the right, so the midpoint itself stays visibly on the line.
    mx, my = round((hx + ox) / 2), round((hy + oy) / 2)
    gap = m.thickness + m.radius
    labels.draw(img, name, mx + gap, my - gap, style.relation_color, m)


def hud_lines(view: FrameView, style: Style | None = None) -> list[tuple[str, Color]]:
    """The HUD's lines, each with its colour: the frame and its time, the pipeline's rate, then one per detector.

    Every figure is labelled with its unit: ``frame 12 at 0.40 s``, ``pipeline 28.4 fps`` (or
    ``pipeline fps: measuring`` while `FrameView.fps` is None), ``hands: last result 0 frames ago``
    (``no result yet`` before its first); a detector whose last result is `Style.stale_frames`
    frames old or older is in `Style.hud_stale_color`.

    Example:
        >>> from orchestrator.scene import Scene
        >>> scene = Scene(12, 0.4, (64, 48), staleness_frames={"hands": 0, "objects": 1, "faces": 13})
        >>> for text, _ in hud_lines(FrameView(scene, np.zeros((48, 64, 3), np.uint8), fps=28.43)):
        ...     print(text)
        frame 12 at 0.40 s
        pipeline 28.4 fps
        hands: last result 0 frames ago
        objects: last result 1 frame ago
        faces: no result yet
    """
    style = DEFAULT_STYLE if style is None else style
    scene = view.scene
    rate = "pipeline fps: measuring" if view.fps is None else f"pipeline {view.fps:.1f} fps"
    lines: list[tuple[str, Color]] = [
        (f"frame {scene.frame_index} at {scene.time_s:.2f} s", style.hud_color),
        (rate, style.hud_color),
    ]
    for name, stale in scene.staleness_frames.items():
        if stale > scene.frame_index:  # frame_index + 1: not one result since the start
            text = f"{name}: no result yet"
        else:
            text = f"{name}: last result {stale} frame{'' if stale == 1 else 's'} ago"
        lines.append((text, style.hud_stale_color if stale >= style.stale_frames else style.hud_color))
    return lines


def _draw_hud(img: np.ndarray, view: FrameView, style: Style, m: Metrics) -> None:
    lines = hud_lines(view, style)
    sizes = [cv2.getTextSize(text, FONT, m.font_scale, m.font_thickness) for text, _ in lines]
    line_h = max(th + base for (_, th), base in sizes) + m.pad
    box_w = max(tw for (tw, _), _ in sizes) + 2 * m.pad
    box_h = line_h * len(lines) + m.pad
    height, width = img.shape[:2]
    roi = img[0 : min(box_h, height), 0 : min(box_w, width)]
    # Halve the patch behind the text (a shift, not a blend of the whole frame): legible on any scene.
    np.right_shift(roi, 1, out=roi)
    for i, ((text, color), ((_, th), _)) in enumerate(zip(lines, sizes, strict=True)):
        y = m.pad + i * line_h + th
        cv2.putText(img, text, (m.pad, y), FONT, m.font_scale, color, m.font_thickness, cv2.LINE_AA)


def render(view: FrameView, style: Style | None = None) -> np.ndarray:
    """Draw `view`'s overlays on a copy of its frame; returns a new BGR ``uint8 (H, W, 3)`` image.

    ``view.rgb`` is never modified. Drawing order, bottom to top: raw detections, object tracks,
    hand tracks (skeleton, then box), relations, then every label (placed in that order, each in
    the first slot free of the labels before it), then the HUD.

    Example:
        >>> from orchestrator.scene import Scene
        >>> rgb = np.zeros((240, 320, 3), np.uint8)
        >>> rgb[0, 0] = (255, 0, 0)                                    # red, in RGB
        >>> view = FrameView(Scene(0, 0.0, (320, 240)), rgb)
        >>> render(view, Style(show_hud=False))[0, 0].tolist()         # red, in BGR
        [0, 0, 255]
    """
    style = DEFAULT_STYLE if style is None else style
    scene = view.scene
    # The one copy of the frame, fused with the RGB → BGR swap that the output needs anyway.
    img = cv2.cvtColor(view.rgb, cv2.COLOR_RGB2BGR)
    height, width = img.shape[:2]
    size = (width, height)
    m = metrics(style, width, height)
    labels = _Labels()
    for name, dets in scene.detections.items():
        if name in view.tracked_detectors:
            continue
        for i, (box, score, label) in enumerate(
            zip(dets.boxes.tolist(), dets.scores.tolist(), dets.labels, strict=True)
        ):
            color = label_color(label, style)
            if dets.keypoints is not None:
                _draw_skeleton(img, dets.keypoints[i].tolist(), color, False, style, m)
            side = {"left": " L", "right": " R"}.get(dets.sides[i] or "", "")
            _draw_box(img, box, color, f"{label}{side} {score:.2f}", False, m, size, labels)
    for track in scene.objects:
        color = track_color(track.track_id, "object", style)
        text = _track_text(track, track.label, with_score=True)
        _draw_box(img, track.box, color, text, track.box_source == "predicted", m, size, labels)
    for track in scene.hands:
        color = track_color(track.track_id, "hand", style)
        if track.keypoints is not None:
            _draw_skeleton(img, track.keypoints, color, track.keypoints_source == "predicted", style, m)
        text = _track_text(track, "hand", False)
        _draw_box(img, track.box, color, text, track.box_source == "predicted", m, size, labels)
    # Several relations on one hand-object pair share one line and one label ("holding, near"):
    # drawn one by one, their labels would cover each other.
    pairs: dict[tuple[int, int], list[ActiveRelation]] = {}
    for relation in scene.relations:
        pairs.setdefault((relation.hand_id, relation.object_id), []).append(relation)
    for group in pairs.values():
        first = group[0]
        name = ", ".join(r.name for r in group)
        _draw_relation(img, name, first.hand_track.box, first.object_track.box, style, m, labels)
    labels.paint(img)  # on top of every outline and skeleton: no line runs across a label
    if style.show_hud:
        _draw_hud(img, view, style, m)
    return img
