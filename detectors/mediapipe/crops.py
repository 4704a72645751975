"""Rotated rectangles: palm → hand ROI, landmarks → next ROI, box → ROI, the warp crop and its inverse.

Two rectangle forms, as in MediaPipe:

* `NormRect` (MediaPipe's ``NormalizedRect``): centre and size as fractions of the image width and
  height, ``rotation`` in radians. A positive rotation turns the crop clockwise on screen (image
  ``y`` grows downwards); 0 means the hand points up.
* `PixelRect` (MediaPipe's ``RotatedRect``): the same in source pixels.

Formulas follow MediaPipe's calculators (Apache-2.0), re-implemented here:
``DetectionsToRectsCalculator`` and ``RectTransformationCalculator`` (``mediapipe/calculators/util/``),
``HandLandmarksToRectCalculator`` (``mediapipe/modules/hand_landmark/calculators/``), with the options of
``palm_detection_detection_to_roi.pbtxt`` (rotation from palm keypoint 0 to 2, scale 2.6, shift_y -0.5,
square long side) and ``hand_landmark_landmarks_to_roi.pbtxt`` (scale 2.0, shift_y -0.1, square long
side); ``image_to_tensor_utils.cc`` (``GetRoi``, ``PadRoi``) and ``image_to_tensor_converter_opencv.cc``
(the crop is ``cv2.warpPerspective`` from ``cv2.boxPoints`` of the rectangle onto the tensor corners,
bilinear, uint8, then scaled to float); ``LandmarkLetterboxRemovalCalculator`` and
``LandmarkProjectionCalculator`` for the way back.

Pixel convention: a crop of ``out_w × out_h`` maps the rectangle's corners onto the tensor's outer
edges ``0`` and ``out_w`` (not onto pixel centres), exactly as MediaPipe does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from detectors.errors import MediaPipeError

# HandLandmarksToRectCalculator uses 12 of the 21 landmarks: wrist, thumb CMC/MCP/IP, and MCP + PIP of each finger.
PARTIAL_LANDMARKS = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)
PALM_ROI = {"scale": 2.6, "shift_y": -0.5}
LANDMARKS_ROI = {"scale": 2.0, "shift_y": -0.1}
BORDERS = {"zero": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE}


@dataclass(frozen=True)
class NormRect:
    """A rotated rectangle in normalised image coordinates (MediaPipe's ``NormalizedRect``).

    ``x_center``, ``width`` are fractions of the image width; ``y_center``, ``height`` of its height;
    ``rotation`` is in radians, clockwise on screen.
    """

    x_center: float
    y_center: float
    width: float
    height: float
    rotation: float = 0.0

    def axis_aligned(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the unrotated rectangle, normalised (what MediaPipe's IoU uses)."""
        return (
            self.x_center - self.width / 2,
            self.y_center - self.height / 2,
            self.x_center + self.width / 2,
            self.y_center + self.height / 2,
        )


@dataclass(frozen=True)
class PixelRect:
    """A rotated rectangle in source pixels (MediaPipe's ``RotatedRect``); ``rotation`` radians, clockwise."""

    x_center: float
    y_center: float
    width: float
    height: float
    rotation: float = 0.0


def normalize_radians(angle: float) -> float:
    """``angle`` wrapped into ``[-pi, pi)``.

    >>> round(normalize_radians(3 * math.pi / 2), 6), normalize_radians(0.5)
    (-1.570796, 0.5)
    """
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def rotation_from_points(x0: float, y0: float, x1: float, y1: float, target: float = math.pi / 2) -> float:
    """Rotation (radians) that turns the pixel vector ``(x0, y0) → (x1, y1)`` to point at ``target``.

    ``target`` is measured counter-clockwise on screen from the +x axis, so the default ``pi/2`` means "up".

    >>> rotation_from_points(0, 10, 0, 0)  # already pointing up
    0.0
    >>> round(rotation_from_points(0, 0, 10, 0), 6)  # pointing right: turn the crop by +90°
    1.570796
    """
    return normalize_radians(target - math.atan2(-(y1 - y0), x1 - x0))


def transform_rect(
    rect: NormRect,
    image_size: tuple[int, int],
    scale: float,
    shift_x: float = 0.0,
    shift_y: float = 0.0,
    square_long: bool = True,
) -> NormRect:
    """MediaPipe's ``RectTransformationCalculator`` on a `NormRect`.

    The centre moves by ``(shift_x·width, shift_y·height)`` in the rectangle's own rotated frame,
    then the size becomes square on its long side in *pixels* (``square_long``), then scales.
    ``image_size`` is ``(width, height)`` in pixels.

    >>> transform_rect(NormRect(0.5, 0.5, 0.1, 0.2), (200, 100), scale=2.0, shift_y=-0.5)
    NormRect(x_center=0.5, y_center=0.4, width=0.2, height=0.4, rotation=0.0)
    """
    w_img, h_img = image_size
    width, height, rotation = rect.width, rect.height, rect.rotation
    if rotation == 0.0:
        x_center = rect.x_center + width * shift_x
        y_center = rect.y_center + height * shift_y
    else:
        cos, sin = math.cos(rotation), math.sin(rotation)
        x_shift = (w_img * width * shift_x * cos - h_img * height * shift_y * sin) / w_img
        y_shift = (w_img * width * shift_x * sin + h_img * height * shift_y * cos) / h_img
        x_center = rect.x_center + x_shift
        y_center = rect.y_center + y_shift
    if square_long:
        long_side = max(width * w_img, height * h_img)
        width, height = long_side / w_img, long_side / h_img
    return NormRect(x_center, y_center, width * scale, height * scale, rotation)


def palm_roi(box: Sequence[float], keypoints: np.ndarray, image_size: tuple[int, int]) -> NormRect:
    """Hand ROI from one palm detection (``palm_detection_detection_to_roi.pbtxt``).

    ``box`` is ``(xmin, ymin, width, height)`` and ``keypoints`` ``(7, 2)`` ``(x, y)``, both normalised
    to the image; ``image_size`` is ``(width, height)`` pixels. Rotation comes from keypoint 0 (wrist
    centre) to keypoint 2 (middle-finger MCP); the box is shifted by half its height towards the
    fingers, squared on its long side and scaled by 2.6.

    >>> kps = np.array([[0.5, 0.6], [0, 0], [0.5, 0.4], [0, 0], [0, 0], [0, 0], [0, 0]])
    >>> palm_roi((0.4, 0.4, 0.2, 0.2), kps, (100, 100))
    NormRect(x_center=0.5, y_center=0.4, width=0.52, height=0.52, rotation=0.0)
    """
    w_img, h_img = image_size
    xmin, ymin, width, height = (float(v) for v in box)
    rotation = rotation_from_points(
        float(keypoints[0][0]) * w_img,
        float(keypoints[0][1]) * h_img,
        float(keypoints[2][0]) * w_img,
        float(keypoints[2][1]) * h_img,
    )
    raw = NormRect(xmin + width / 2, ymin + height / 2, width, height, rotation)
    return transform_rect(raw, image_size, scale=PALM_ROI["scale"], shift_y=PALM_ROI["shift_y"])


def landmarks_rect(landmarks: np.ndarray, image_size: tuple[int, int]) -> NormRect:
    """The tight rotated rectangle around hand landmarks (``HandLandmarksToRectCalculator``), not yet enlarged.

    ``landmarks`` is ``(21, 2+)`` normalised ``(x, y, ...)``; only the 12 `PARTIAL_LANDMARKS` (wrist,
    thumb base, finger MCP and PIP joints) count. Rotation points from the wrist to the mean of the
    middle-finger MCP and the midpoint of the index and ring MCPs. Raises `MediaPipeError` unless 21 landmarks.
    """
    points = np.asarray(landmarks, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] != 21 or points.shape[1] < 2:
        raise MediaPipeError(f"landmarks must be (21, 2+), got {points.shape}")
    part = points[list(PARTIAL_LANDMARKS), :2]
    w_img, h_img = image_size
    x0, y0 = part[0, 0] * w_img, part[0, 1] * h_img
    x1 = ((part[4, 0] + part[8, 0]) / 2 + part[6, 0]) / 2 * w_img  # partial 4, 6, 8 = MCPs 5, 9, 13
    y1 = ((part[4, 1] + part[8, 1]) / 2 + part[6, 1]) / 2 * h_img
    rotation = rotation_from_points(x0, y0, x1, y1)
    reverse = normalize_radians(-rotation)
    # MediaPipe starts its maxima at FLT_MIN (the smallest positive float), not at -FLT_MAX.
    tiny = float(np.finfo(np.float32).tiny)
    center_x = (max(part[:, 0].max(), tiny) + part[:, 0].min()) / 2
    center_y = (max(part[:, 1].max(), tiny) + part[:, 1].min()) / 2
    ox = (part[:, 0] - center_x) * w_img
    oy = (part[:, 1] - center_y) * h_img
    px = ox * math.cos(reverse) - oy * math.sin(reverse)
    py = ox * math.sin(reverse) + oy * math.cos(reverse)
    max_x, min_x = max(px.max(), tiny), px.min()
    max_y, min_y = max(py.max(), tiny), py.min()
    pcx, pcy = (max_x + min_x) / 2, (max_y + min_y) / 2
    cx = pcx * math.cos(rotation) - pcy * math.sin(rotation) + w_img * center_x
    cy = pcx * math.sin(rotation) + pcy * math.cos(rotation) + h_img * center_y
    return NormRect(cx / w_img, cy / h_img, (max_x - min_x) / w_img, (max_y - min_y) / h_img, rotation)


def landmarks_roi(landmarks: np.ndarray, image_size: tuple[int, int]) -> NormRect:
    """Next frame's hand ROI from this frame's landmarks (``hand_landmark_landmarks_to_roi.pbtxt``).

    `landmarks_rect`, shifted by 0.1 of its height towards the fingers, squared on its long side, scaled 2.0.
    """
    rect = landmarks_rect(landmarks, image_size)
    return transform_rect(rect, image_size, scale=LANDMARKS_ROI["scale"], shift_y=LANDMARKS_ROI["shift_y"])


def box_roi(box: Sequence[float], image_size: tuple[int, int], scale: float = 1.5) -> NormRect:
    """An upright square ROI around a pixel box ``(x1, y1, x2, y2)``: its centre, long side × ``scale``.

    Raises `MediaPipeError` for a box with non-positive width or height.

    >>> box_roi((10, 20, 30, 60), (100, 200), scale=1.0)
    NormRect(x_center=0.2, y_center=0.2, width=0.4, height=0.2, rotation=0.0)
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    if not (x2 > x1 and y2 > y1):
        raise MediaPipeError(f"box must have x2 > x1 and y2 > y1, got {[x1, y1, x2, y2]}")
    w_img, h_img = image_size
    side = max(x2 - x1, y2 - y1) * scale
    return NormRect((x1 + x2) / 2 / w_img, (y1 + y2) / 2 / h_img, side / w_img, side / h_img, 0.0)


def to_pixels(rect: NormRect | None, image_size: tuple[int, int]) -> PixelRect:
    """MediaPipe's ``GetRoi``: a `NormRect` in pixels, or the whole image when ``rect`` is None.

    >>> to_pixels(None, (1920, 1080))
    PixelRect(x_center=960.0, y_center=540.0, width=1920.0, height=1080.0, rotation=0.0)
    """
    w_img, h_img = image_size
    if rect is None:
        return PixelRect(0.5 * w_img, 0.5 * h_img, float(w_img), float(h_img), 0.0)
    return PixelRect(
        rect.x_center * w_img, rect.y_center * h_img, rect.width * w_img, rect.height * h_img, rect.rotation
    )


def pad_to_aspect(roi: PixelRect, out_w: int, out_h: int) -> tuple[PixelRect, tuple[float, float, float, float]]:
    """MediaPipe's ``PadRoi`` (keep aspect ratio): grow ``roi`` to the tensor's aspect ratio.

    Returns the grown rectangle and the padding ``(left, top, right, bottom)`` as fractions of the
    tensor. Raises `MediaPipeError` for a non-positive ROI or tensor size.

    >>> pad_to_aspect(PixelRect(960, 540, 1920, 1080), 192, 192)
    (PixelRect(x_center=960, y_center=540, width=1920, height=1920.0, rotation=0.0), (0.0, 0.21875, 0.0, 0.21875))
    """
    if out_w <= 0 or out_h <= 0 or not (roi.width > 0 and roi.height > 0):
        raise MediaPipeError(f"cannot crop a {roi.width}x{roi.height} ROI into a {out_w}x{out_h} tensor")
    tensor_aspect = out_h / out_w
    roi_aspect = roi.height / roi.width
    if tensor_aspect > roi_aspect:
        vertical = (1.0 - roi_aspect / tensor_aspect) / 2.0
        grown = PixelRect(roi.x_center, roi.y_center, roi.width, roi.width * tensor_aspect, roi.rotation)
        return grown, (0.0, vertical, 0.0, vertical)
    horizontal = (1.0 - tensor_aspect / roi_aspect) / 2.0
    grown = PixelRect(roi.x_center, roi.y_center, roi.height / tensor_aspect, roi.height, roi.rotation)
    return grown, (horizontal, 0.0, horizontal, 0.0)


def crop_matrix(roi: PixelRect, out_w: int, out_h: int) -> np.ndarray:
    """The 3×3 perspective matrix (float64) taking source pixels into the ``out_w × out_h`` crop of ``roi``.

    Built as MediaPipe does: ``cv2.boxPoints`` of the rotated rectangle (bottom-left, top-left,
    top-right, bottom-right) onto the tensor corners ``(0, H), (0, 0), (W, 0), (W, H)``.

    >>> m = crop_matrix(PixelRect(50, 50, 100, 100), 10, 10)
    >>> (np.round(m, 6) + 0.0).tolist()
    [[0.1, 0.0, 0.0], [0.0, 0.1, 0.0], [0.0, 0.0, 1.0]]
    """
    box = (
        (float(roi.x_center), float(roi.y_center)),
        (float(roi.width), float(roi.height)),
        math.degrees(roi.rotation),
    )
    src = cv2.boxPoints(box).astype(np.float32)
    dst = np.array([[0, out_h], [0, 0], [out_w, 0], [out_w, out_h]], dtype=np.float32)
    return cv2.getPerspectiveTransform(src, dst)


def warp_crop(image: np.ndarray, matrix: np.ndarray, out_w: int, out_h: int, border: str = "replicate") -> np.ndarray:
    """Crop ``image`` (H, W, C) through ``matrix`` (from `crop_matrix`) into ``(out_h, out_w, C)``, same dtype.

    Bilinear (``cv2.INTER_LINEAR``); ``border`` is ``"zero"`` (black, the palm detector's letterbox)
    or ``"replicate"`` (edge repeat, the landmark crop). Raises `MediaPipeError` for another border.
    """
    if border not in BORDERS:
        raise MediaPipeError(f"border must be one of {sorted(BORDERS)}, got {border!r}")
    return cv2.warpPerspective(
        image, matrix, (int(out_w), int(out_h)), flags=cv2.INTER_LINEAR, borderMode=BORDERS[border], borderValue=0
    )


def map_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 3×3 perspective ``matrix`` to ``(N, 2)`` points; returns ``(N, 2)`` float64.

    Use ``np.linalg.inv(matrix)`` to go from crop pixels back to source pixels.

    >>> map_points(np.array([[5.0, 5.0]]), np.diag([2.0, 3.0, 1.0])).tolist()
    [[10.0, 15.0]]
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    homog = np.concatenate([pts, np.ones((len(pts), 1))], axis=1) @ np.asarray(matrix, dtype=np.float64).T
    return homog[:, :2] / homog[:, 2:3]


def remove_padding(points: np.ndarray, padding: Sequence[float]) -> np.ndarray:
    """MediaPipe's letterbox removal on normalised ``(N, 2+)`` points: tensor fractions → ROI fractions.

    ``x' = (x - left) / (1 - left - right)``, likewise ``y``; a third column (z) is divided by the
    horizontal factor ("scaled as x"). Returns a float64 copy.

    >>> remove_padding(np.array([[0.5, 0.25, 0.1]]), (0.0, 0.25, 0.0, 0.25)).tolist()
    [[0.5, 0.0, 0.1]]
    """
    left, top, right, bottom = (float(v) for v in padding)
    out = np.array(points, dtype=np.float64, copy=True)
    out[:, 0] = (out[:, 0] - left) / (1.0 - left - right)
    out[:, 1] = (out[:, 1] - top) / (1.0 - top - bottom)
    if out.shape[1] > 2:
        out[:, 2] = out[:, 2] / (1.0 - left - right)
    return out


def project_to_image(points: np.ndarray, rect: NormRect) -> np.ndarray:
    """MediaPipe's ``LandmarkProjectionCalculator``: ROI fractions ``(N, 2+)`` → image fractions.

    ``(x, y)`` are taken relative to the ROI centre, rotated by ``rect.rotation`` and scaled by the
    ROI size; z (third column, if any) is multiplied by ``rect.width``. Returns float64.

    >>> project_to_image(np.array([[1.0, 0.5, 0.2]]), NormRect(0.5, 0.5, 0.2, 0.2)).tolist()
    [[0.6, 0.5, 0.04000000000000001]]
    """
    pts = np.asarray(points, dtype=np.float64)
    x, y = pts[:, 0] - 0.5, pts[:, 1] - 0.5
    cos, sin = math.cos(rect.rotation), math.sin(rect.rotation)
    out = np.array(pts, dtype=np.float64, copy=True)
    out[:, 0] = (cos * x - sin * y) * rect.width + rect.x_center
    out[:, 1] = (sin * x + cos * y) * rect.height + rect.y_center
    if pts.shape[1] > 2:
        out[:, 2] = pts[:, 2] * rect.width
    return out


def rect_iou(a: NormRect, b: NormRect) -> float:
    """IoU of the axis-aligned (unrotated) extents of two `NormRect` (MediaPipe's association similarity).

    >>> round(rect_iou(NormRect(0.5, 0.5, 0.2, 0.2), NormRect(0.6, 0.5, 0.2, 0.2)), 6)
    0.333333
    """
    ax1, ay1, ax2, ay2 = a.axis_aligned()
    bx1, by1, bx2, by2 = b.axis_aligned()
    iw = min(ax2, bx2) - max(ax1, bx1)
    ih = min(ay2, by2) - max(ay1, by1)
    if iw < 0 or ih < 0:
        return 0.0
    inter = iw * ih
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0
