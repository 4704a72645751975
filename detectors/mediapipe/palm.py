"""MediaPipe's palm detector: letterbox to 192×192, decode 2016 anchors, sigmoid scores, weighted NMS.

Re-implements ``mediapipe/modules/palm_detection/palm_detection_cpu.pbtxt`` (Apache-2.0):
``ImageToTensorCalculator`` (whole frame, aspect kept, black border, RGB in [0, 1]),
``TensorsToDetectionsCalculator`` (box ``x, y, w, h`` and 7 keypoints ``x, y`` per anchor, divided by
192 and added to the anchor centre; anchors have unit size; ``sigmoid(clip(logit, ±100))``;
``min_score_thresh 0.5``), ``NonMaxSuppressionCalculator`` (WEIGHTED, IoU, ``min_suppression_threshold
0.3``) and ``DetectionLetterboxRemovalCalculator``.

Palm keypoints (MediaPipe's order): 0 wrist centre, 1 index MCP, 2 middle MCP, 3 ring MCP, 4 pinky MCP,
5 thumb CMC, 6 thumb MCP (approximately).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from detectors.errors import MediaPipeError
from detectors.mediapipe.anchors import PALM_INPUT_SIZE, palm_anchors
from detectors.mediapipe.crops import crop_matrix, pad_to_aspect, to_pixels, warp_crop
from detectors.mediapipe.interpreter import load_model

NUM_ANCHORS = 2016
NUM_KEYPOINTS = 7
SCORE_CLIP = 100.0


@dataclass(frozen=True, eq=False)
class PalmDetection:
    """One palm: ``score`` in [0, 1]; ``box`` ``(xmin, ymin, width, height)`` and ``keypoints`` (7, 2)
    float64 ``(x, y)``, both as fractions of the source image width/height."""

    score: float
    box: tuple[float, float, float, float]
    keypoints: np.ndarray


def check_channel_order(channel_order: str) -> str:
    """``channel_order`` if it is ``"rgb"`` or ``"bgr"``; raises `MediaPipeError` otherwise."""
    if channel_order not in ("rgb", "bgr"):
        raise MediaPipeError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
    return channel_order


def check_rgb(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` as a C-contiguous uint8 ``(H, W, 3)`` array; raises `MediaPipeError` otherwise."""
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        desc = f"{rgb.dtype} {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise MediaPipeError(f"image must be uint8 RGB (H, W, 3), got {desc}")
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise MediaPipeError(f"image is empty: {rgb.shape}")
    return np.ascontiguousarray(rgb)


def letterbox(rgb: np.ndarray, size: int = PALM_INPUT_SIZE) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """The whole frame fitted into ``size × size`` with a black border, as uint8 ``(size, size, 3)``.

    Returns the image and the padding ``(left, top, right, bottom)`` as fractions of ``size``. A source
    pixel ``(x, y)`` (pixel-edge coordinates) lands at ``((x - cx) · s + size/2, (y - cy) · s + size/2)``
    with ``s = size / max(W, H)``.
    """
    h, w = rgb.shape[:2]
    roi, padding = pad_to_aspect(to_pixels(None, (w, h)), size, size)
    return warp_crop(rgb, crop_matrix(roi, size, size), size, size, border="zero"), padding


def decode_palms(
    raw_boxes: np.ndarray,
    raw_scores: np.ndarray,
    anchors: np.ndarray,
    min_score: float = 0.5,
    scale: float = PALM_INPUT_SIZE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode the raw palm tensors; keeps boxes with ``score >= min_score`` and non-negative size.

    ``raw_boxes`` ``(2016, 18)``, ``raw_scores`` ``(2016,)`` logits, ``anchors`` ``(2016, 2)`` centres.
    Returns ``scores`` (K,), ``boxes`` (K, 4) ``xmin, ymin, xmax, ymax`` and ``keypoints`` (K, 7, 2),
    float32, as fractions of the (letterboxed) model input, in anchor order.
    """
    raw_boxes = np.asarray(raw_boxes, dtype=np.float32).reshape(len(anchors), -1)
    logits = np.clip(np.asarray(raw_scores, dtype=np.float32).reshape(-1), -SCORE_CLIP, SCORE_CLIP)
    scores = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
    keep = scores >= np.float32(min_score)
    raw, anc, scores = raw_boxes[keep], anchors[keep], scores[keep]
    s = np.float32(scale)
    cx = raw[:, 0] / s + anc[:, 0]
    cy = raw[:, 1] / s + anc[:, 1]
    w = raw[:, 2] / s
    h = raw[:, 3] / s
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    kps = raw[:, 4 : 4 + 2 * NUM_KEYPOINTS].reshape(-1, NUM_KEYPOINTS, 2) / s + anc[:, None, :]
    ok = (w >= 0) & (h >= 0) & ~np.isnan(w) & ~np.isnan(h)
    return scores[ok], boxes[ok], kps[ok]


def weighted_nms(
    scores: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray, threshold: float = 0.3
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """MediaPipe's WEIGHTED non-maximum suppression.

    Repeatedly takes the best remaining box; every remaining box whose IoU with it is above
    ``threshold`` (itself included) is removed and averaged, weighted by score, into its box and
    keypoints; the result keeps the best box's score. ``boxes`` are ``(K, 4)`` ``xmin, ymin, xmax, ymax``.
    Returns ``[(score, box (4,), keypoints (7, 2)), ...]`` best first, float64.

    >>> b = np.array([[0, 0, 1, 1], [0, 0, 1, 1.2], [2, 2, 3, 3]], float)
    >>> found = weighted_nms(np.array([0.9, 0.6, 0.7]), b, np.zeros((3, 7, 2)))
    >>> [(round(s, 2), np.round(bx, 2).tolist()) for s, bx, _ in found]
    [(0.9, [0.0, 0.0, 1.0, 1.08]), (0.7, [2.0, 2.0, 3.0, 3.0])]
    """
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    scores = np.asarray(scores, dtype=np.float64)[order]
    boxes = np.asarray(boxes, dtype=np.float64)[order]
    keypoints = np.asarray(keypoints, dtype=np.float64)[order]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    remaining = np.arange(len(scores))
    out: list[tuple[float, np.ndarray, np.ndarray]] = []
    while remaining.size:
        top = remaining[0]
        rest = boxes[remaining]
        iw = np.minimum(rest[:, 2], boxes[top, 2]) - np.maximum(rest[:, 0], boxes[top, 0])
        ih = np.minimum(rest[:, 3], boxes[top, 3]) - np.maximum(rest[:, 1], boxes[top, 1])
        inter = np.where((iw >= 0) & (ih >= 0), iw * ih, 0.0)
        union = areas[remaining] + areas[top] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        close = iou > threshold
        members = remaining[close]
        if members.size == 0:  # a degenerate (zero-area) top box: keep it alone
            members = remaining[:1]
            close = np.zeros(remaining.size, bool)
            close[0] = True
        weights = scores[members]
        total = weights.sum()
        box = (boxes[members] * weights[:, None]).sum(axis=0) / total
        kps = (keypoints[members] * weights[:, None, None]).sum(axis=0) / total
        out.append((float(scores[top]), box, kps))
        remaining = remaining[~close]
    return out


class PalmDetector:
    """MediaPipe's palm detector on LiteRT.

    ``model_path``: ``palm_detection_full.tflite`` or ``palm_detection_lite.tflite`` (input
    ``[1, 192, 192, 3]`` float RGB in [0, 1]; outputs ``[1, 2016, 18]`` and ``[1, 2016, 1]``).
    ``channel_order``: ``"rgb"`` or ``"bgr"``, the order of the frames given to `detect` and `raw`; a BGR
    frame is converted after letterboxing (192 × 192), which gives the same tensor as converting the
    whole frame first (resampling works on each channel alone).
    Raises `MediaPipeError` for a missing file, other tensor shapes or scores outside [0, 1].
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        num_threads: int = 2,
        min_score: float = 0.5,
        nms_threshold: float = 0.3,
        channel_order: str = "rgb",
    ) -> None:
        self.channel_order = check_channel_order(channel_order)
        if not 0.0 <= float(min_score) <= 1.0 or not 0.0 <= float(nms_threshold) <= 1.0:
            raise MediaPipeError(f"min_score and nms_threshold must be in [0, 1], got {min_score}, {nms_threshold}")
        self.min_score = float(min_score)
        self.nms_threshold = float(nms_threshold)
        self._interpreter, self._input, outs = load_model(
            model_path,
            num_threads,
            (1, PALM_INPUT_SIZE, PALM_INPUT_SIZE, 3),
            [(1, NUM_ANCHORS, 4 + 2 * NUM_KEYPOINTS), (1, NUM_ANCHORS, 1)],
        )
        self._boxes_out, self._scores_out = outs
        self._anchors = palm_anchors()

    def raw(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float, float]]:
        """Run the model on the letterboxed frame: ``(raw boxes (2016, 18), logits (2016,), padding)``."""
        image, padding = letterbox(check_rgb(rgb))
        if self.channel_order == "bgr":
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        tensor = image.astype(np.float32)[None] * np.float32(1.0 / 255.0)
        self._interpreter.set_tensor(self._input, tensor)
        self._interpreter.invoke()
        raw_boxes = self._interpreter.get_tensor(self._boxes_out)[0]
        logits = self._interpreter.get_tensor(self._scores_out)[0, :, 0]
        return raw_boxes, logits, padding

    def detect(self, rgb: np.ndarray, max_results: int | None = None) -> list[PalmDetection]:
        """Palms in an RGB uint8 ``(H, W, 3)`` frame, best first (at most ``max_results`` if given).

        Coordinates are fractions of the frame's width and height (letterbox removed).
        """
        raw_boxes, logits, (left, top, right, bottom) = self.raw(rgb)
        scores, boxes, kps = decode_palms(raw_boxes, logits, self._anchors, self.min_score)
        found = weighted_nms(scores, boxes, kps, self.nms_threshold)
        if max_results is not None:
            found = found[: max(0, int(max_results))]
        sx, sy = 1.0 - left - right, 1.0 - top - bottom
        out = []
        for score, (x1, y1, x2, y2), points in found:
            xmin, ymin = (x1 - left) / sx, (y1 - top) / sy
            box = (float(xmin), float(ymin), float((x2 - x1) / sx), float((y2 - y1) / sy))
            points = np.stack([(points[:, 0] - left) / sx, (points[:, 1] - top) / sy], axis=1)
            points.setflags(write=False)
            out.append(PalmDetection(score, box, points))
        return out
