"""Small numpy image and box operations shared by the model plugins.

Example:
    >>> import numpy as np
    >>> resize_bilinear(np.zeros((720, 1280, 3), np.uint8), (300, 300)).shape
    (300, 300, 3)
    >>> nms(np.array([[0, 0, 10, 10], [1, 1, 10, 10]], np.float32), np.array([0.9, 0.8], np.float32), 0.5)
    array([0])
"""

from __future__ import annotations

import numpy as np


def resize_bilinear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an ``(H, W, C)`` image to ``size = (width, height)`` as float32, like TensorFlow's
    ``ResizeBilinear`` with ``align_corners=False, half_pixel_centers=False`` (the TF1 and tfjs
    default, which these models were trained and exported with): source = destination × scale,
    no half-pixel offset, no antialiasing. The aspect ratio is not kept (stretch).

    ``cv2.resize`` would shift the image by half a source pixel (it uses pixel centres); an
    inverse affine warp with edge replication reproduces TensorFlow's sampling exactly.

    Example:
        >>> resize_bilinear(np.arange(4, dtype=np.uint8).reshape(1, 4, 1), (2, 1))[0, :]
        array([0., 2.], dtype=float32)
    """
    import cv2  # imported here: module import of the plugins must stay cheap

    width, height = size
    scale = np.array([[image.shape[1] / width, 0, 0], [0, image.shape[0] / height, 0]], np.float64)
    return cv2.warpAffine(
        np.asarray(image, np.float32),
        scale,
        (width, height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of ``x1, y1, x2, y2`` boxes ``a (N, 4)`` and ``b (M, 4)`` → ``(N, M)``."""
    a = np.asarray(a, np.float32).reshape(-1, 4)
    b = np.asarray(b, np.float32).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0).astype(np.float32)


def nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    iou_threshold: float,
    max_detections: int | None = None,
    class_ids: np.ndarray | None = None,
) -> np.ndarray:
    """Greedy non-maximum suppression; returns kept indices, best score first.

    A box is dropped when its IoU with a kept, higher-scoring box is above ``iou_threshold``.
    With ``class_ids``, boxes of different classes never suppress each other.

    Example:
        >>> b = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
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
            order = order[iou_matrix(boxes[best], boxes[order])[0] <= iou_threshold]
    return np.asarray(keep, dtype=np.intp)
