"""Axis-aligned box geometry: the one place where IoU, areas, gaps, clipping and NMS are defined.

Every box is ``x1, y1, x2, y2`` in pixels of one frame (x right, y down), with ``x2 >= x1`` and
``y2 >= y1``. Two flavours, each where it is cheaper:

* array functions (`iou_matrix`, `clip_boxes`, `overlaps_frame_mask`, `nms`, `same_label_mask`) for many boxes at once
  (trackers, detectors' post-processing);
* scalar functions on one or two boxes as plain Python floats (`box_area`, `iou`, `box_gap`, `clip_box`...)
  for the relation engine, which evaluates a handful of pairs per frame, where array set-up
  would cost more than the arithmetic.

IoU is the Jaccard index, intersection area over union area; a pair whose union is empty (two
zero-area boxes) has IoU 0.

Example:
    >>> iou_matrix([[0, 0, 10, 10]], [[5, 0, 15, 10]]).round(4).tolist()
    [[0.3333]]
    >>> round(iou((0, 0, 10, 10), (5, 0, 15, 10)), 4)
    0.3333
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Box = tuple[float, float, float, float]


# --------------------------------------------------------------------------- arrays
def iou_matrix(
    boxes_a: np.ndarray | Sequence[Sequence[float]],
    boxes_b: np.ndarray | Sequence[Sequence[float]],
    dtype: type = np.float64,
) -> np.ndarray:
    """Pairwise IoU of ``boxes_a (N, 4)`` with ``boxes_b (M, 4)`` → ``(N, M)`` array of ``dtype``.

    The arithmetic runs in ``dtype``: float64 (the default) for trackers, whose gates compare
    IoUs of nearly equal boxes; float32 where a model's own post-processing (NMS) was defined
    in float32.

    Example:
        >>> iou_matrix([[0, 0, 10, 10]], [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]]).round(3).tolist()
        [[1.0, 0.333, 0.0]]
        >>> iou_matrix(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape
        (0, 1)
    """
    a = np.asarray(boxes_a, dtype=dtype).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=dtype).reshape(-1, 4)
    if a.shape[0] == 0 or b.shape[0] == 0:
        return np.zeros((a.shape[0], b.shape[0]), dtype=dtype)
    iw = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    ih = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def same_label_mask(labels_a: Sequence[str], labels_b: Sequence[str]) -> np.ndarray:
    """``(N, M)`` bool array: True where ``labels_a[i] == labels_b[j]`` (class-aware matching).

    Example:
        >>> same_label_mask(["hand", "cup"], ["cup"]).tolist()
        [[False], [True]]
    """
    return (
        np.asarray(labels_a, dtype=object).reshape(-1)[:, None]
        == np.asarray(labels_b, dtype=object).reshape(-1)[None, :]
    )


def clip_boxes(boxes: np.ndarray, width: float, height: float) -> np.ndarray:
    """A copy of ``boxes (N, 4)`` with x clipped to ``[0, width]`` and y to ``[0, height]``.

    Example:
        >>> clip_boxes(np.array([[-5.0, 2.0, 30.0, 40.0]]), 20, 30).tolist()
        [[0.0, 2.0, 20.0, 30.0]]
    """
    boxes = np.array(boxes, copy=True).reshape(-1, 4)
    boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width)
    boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height)
    return boxes


def overlaps_frame_mask(boxes: np.ndarray | Sequence[Sequence[float]], width: float, height: float) -> np.ndarray:
    """``(N,)`` bool: which of ``boxes (N, 4)`` have a part inside a ``width`` × ``height`` frame.

    A box is kept when it reaches into the frame's interior (``x1 < width``, ``x2 > 0``,
    ``y1 < height``, ``y2 > 0``): a box wholly outside, or one that only touches an edge from
    outside, is not; a box with a NaN coordinate is not either. The scalar twin is `overlaps_frame`.

    Example:
        >>> overlaps_frame_mask([[-30, 10, 5, 20], [-30, 10, 0, 20], [330, 0, 400, 10], [float("nan"), 0, 5, 5]],
        ...                     320, 240).tolist()
        [True, False, False, False]
    """
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    with np.errstate(invalid="ignore"):
        return (b[:, 0] < width) & (b[:, 2] > 0) & (b[:, 1] < height) & (b[:, 3] > 0)


def nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    iou_threshold: float,
    max_detections: int | None = None,
    class_ids: np.ndarray | None = None,
) -> np.ndarray:
    """Greedy non-maximum suppression; returns kept indices (intp), best score first.

    A box is dropped when its IoU (computed in float32) with a kept, higher-scoring box is above
    ``iou_threshold``. With ``class_ids``, boxes of different classes never suppress each other.

    Example:
        >>> b = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
        >>> nms(b, np.array([0.5, 0.9], np.float32), 0.5).tolist()
        [1]
        >>> nms(b, np.array([0.5, 0.9], np.float32), 0.5, class_ids=np.array([0, 1])).tolist()
        [1, 0]
    """
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    order = np.argsort(-np.asarray(scores, np.float32), kind="stable")
    if class_ids is not None and len(boxes):
        # Shift each class to its own region of the plane: one pass handles all classes.
        span = float(np.abs(boxes).max()) + 1.0
        boxes = boxes + (np.asarray(class_ids, np.float32) * 2 * span)[:, None]
    limit = len(order) if max_detections is None else max_detections
    keep: list[int] = []
    while order.size and len(keep) < limit:
        best, order = order[0], order[1:]
        keep.append(int(best))
        if order.size:
            order = order[iou_matrix(boxes[best], boxes[order], dtype=np.float32)[0] <= iou_threshold]
    return np.asarray(keep, dtype=np.intp)


# --------------------------------------------------------------------------- one or two boxes
def box_area(box: Sequence[float]) -> float:
    """Area of ``x1, y1, x2, y2`` (0 for an inverted box).

    >>> box_area((0, 0, 4, 3))
    12.0
    """
    return max(0.0, float(box[2]) - float(box[0])) * max(0.0, float(box[3]) - float(box[1]))


def intersection_area(a: Sequence[float], b: Sequence[float]) -> float:
    """Area of the intersection of two boxes.

    >>> intersection_area((0, 0, 10, 10), (5, 5, 20, 20))
    25.0
    """
    iw = min(float(a[2]), float(b[2])) - max(float(a[0]), float(b[0]))
    ih = min(float(a[3]), float(b[3])) - max(float(a[1]), float(b[1]))
    return max(0.0, iw) * max(0.0, ih)


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two boxes, the scalar twin of `iou_matrix` (0 for an empty union).

    >>> round(iou((0, 0, 10, 10), (5, 0, 15, 10)), 4)
    0.3333
    """
    inter = intersection_area(a, b)
    union = box_area(a) + box_area(b) - inter
    return inter / union if union > 0 else 0.0


def covered_share(cover: Sequence[float], box: Sequence[float]) -> float:
    """Share of ``box``'s area that lies inside ``cover``, in ``[0, 1]``.

    A zero-area ``box`` (a line or a point) has no area to share: it counts 1 when it lies
    wholly inside ``cover`` and 0 otherwise, so degenerate detections do not divide by zero.

    >>> covered_share((0, 0, 10, 10), (5, 0, 15, 10))
    0.5
    """
    area = box_area(box)
    if area <= 0:
        inside = cover[0] <= box[0] and cover[1] <= box[1] and box[2] <= cover[2] and box[3] <= cover[3]
        return 1.0 if inside else 0.0
    return min(1.0, intersection_area(cover, box) / area)


def overlaps_frame(box: Sequence[float], width: float, height: float) -> bool:
    """Whether ``box`` has a part inside a ``width`` × ``height`` frame (the rule of `overlaps_frame_mask`).

    >>> overlaps_frame((-24, 100, -14, 160), 320, 240), overlaps_frame((-6.4, 100, 40, 160), 320, 240)
    (False, True)
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    return x1 < width and x2 > 0 and y1 < height and y2 > 0


def clip_box(box: Sequence[float], width: float, height: float) -> Box:
    """``box`` with x clipped to ``[0, width]`` and y to ``[0, height]`` (the scalar twin of `clip_boxes`).

    >>> clip_box((-6.4, 100, 40, 260), 320, 240)
    (0.0, 100.0, 40.0, 240.0)
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = float(width), float(height)
    return min(max(x1, 0.0), w), min(max(y1, 0.0), h), min(max(x2, 0.0), w), min(max(y2, 0.0), h)


def diagonal(box: Sequence[float]) -> float:
    """Length of the box's diagonal in pixels (the relation engine's unit of distance).

    >>> diagonal((0, 0, 30, 40))
    50.0
    """
    return math.hypot(float(box[2]) - float(box[0]), float(box[3]) - float(box[1]))


def center(box: Sequence[float]) -> tuple[float, float]:
    """Centre ``(x, y)`` of a box.

    >>> center((0, 0, 10, 20))
    (5.0, 10.0)
    """
    return (float(box[0]) + float(box[2])) / 2.0, (float(box[1]) + float(box[3])) / 2.0


def box_gap(a: Sequence[float], b: Sequence[float]) -> float:
    """Shortest distance between two boxes in pixels; 0 when they touch or overlap.

    >>> box_gap((0, 0, 10, 10), (13, 14, 20, 20))   # 3 px right, 4 px down
    5.0
    """
    dx = max(0.0, float(b[0]) - float(a[2]), float(a[0]) - float(b[2]))
    dy = max(0.0, float(b[1]) - float(a[3]), float(a[1]) - float(b[3]))
    return math.hypot(dx, dy)
