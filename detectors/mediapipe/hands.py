"""MediaPipe Hands (legacy solution, video mode): palm detector + landmark tracker on LiteRT.

Re-implements ``mediapipe/modules/hand_landmark/hand_landmark_tracking_cpu.pbtxt`` (Apache-2.0) as
MediaPipe 0.10.21's ``mp.solutions.hands.Hands(static_image_mode=False)`` runs it:

1. The palm detector runs on the whole frame only when fewer than ``max_hands`` hands were tracked
   on the previous frame; its detections (best first) are cut to ``max_hands`` and turned into hand ROIs.
2. ``AssociationNormRectCalculator`` (``min_similarity_threshold 0.5``) merges the palm ROIs with the
   ROIs carried over from the previous frame's landmarks: rectangles are added in order (palm ROIs,
   then tracked ROIs) and each new one removes every earlier one whose axis-aligned IoU exceeds 0.5,
   so a tracked hand wins over a palm detection of the same hand and overlapping hands collapse to one.
3. The landmark model runs on each ROI (all ROIs of a frame in one batched call); a hand is kept
   when its presence score is above ``min_presence_score`` (``ThresholdingCalculator``, strict ``>``),
   and its landmarks give the next frame's ROI (``hand_landmark_landmarks_to_roi.pbtxt``).

``palm_interval_frames`` (default 1, MediaPipe's behaviour) departs from step 1 for speed: while at
least one hand but fewer than ``max_hands`` are tracked, the palm detector runs only on every n-th
frame (counted from its last run); with no hand tracked it still runs on every frame. A new hand may
then be found up to n − 1 frames later; hands already tracked are unaffected.

``landmark_interval_frames`` (default 1, MediaPipe's behaviour) is the adaptive landmark schedule:
a tracked hand that is still may skip the landmark model for up to n − 1 frames in a row. A hand is
still when its ROI centre moved at most ``still_motion`` ROI sizes per frame between its last two
landmark runs; on a skipped frame its last landmarks, box and ROI are moved on by that per-frame
motion (constant velocity) and reported with the last presence and side scores. A hand that moves,
a hand just found, and every hand at least every n-th frame run the model as MediaPipe does.

Handedness: the model's score is the probability of MediaPipe's "Left", which assumes a mirrored
(selfie) image. With ``mirrored=False`` (ordinary or egocentric video) the wearer's own side is the
opposite label, so MediaPipe's "Left" is reported as ``side='right'``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from detectors.errors import MediaPipeError
from detectors.mediapipe.crops import NormRect, box_roi, landmarks_roi, palm_roi, rect_iou
from detectors.mediapipe.landmarks import HandLandmarker, LandmarkOutput
from detectors.mediapipe.palm import PalmDetector, check_rgb

MODELS = ("full", "lite")
ASSOCIATION_IOU = 0.5


@dataclass(frozen=True, eq=False)
class HandResult:
    """One hand in one frame.

    ``keypoints``: (21, 3) float32, read-only: ``x, y`` in source-frame pixels (continuous
    coordinates, pixel edges at integers as in MediaPipe's normalised output × size) and ``z``,
    MediaPipe's relative depth (wrist ≈ 0, negative towards the camera) in the same pixel scale as
    ``x``. ``box``: ``(x1, y1, x2, y2)`` pixels, the extent of the 21 landmarks' ``x, y``.
    ``score``: hand presence in [0, 1]. ``side``: ``'left'`` or ``'right'``, the wearer's own hand;
    ``side_score``: its probability in [0.5, 1].
    """

    keypoints: np.ndarray
    box: tuple[float, float, float, float]
    score: float
    side: str
    side_score: float


@dataclass(frozen=True)
class _TrackedHand:
    """A hand carried to the next frame: its ROI, what was last reported, and how it moves.

    ``roi`` is where the next frame looks (moved on at ``velocity`` while the hand skips the model);
    ``model_roi`` the ROI its last landmark run gave. ``velocity``: the ROI centre's motion per frame
    (normalised x, y) between the last two landmark runs, None until the hand has two; ``skipped``:
    frames in a row reported without the model.
    """

    roi: NormRect
    result: HandResult
    velocity: tuple[float, float] | None = None
    skipped: int = 0
    model_roi: NormRect | None = None

    def __post_init__(self) -> None:
        if self.model_roi is None:
            object.__setattr__(self, "model_roi", self.roi)


def _moved(hand: HandResult, dx_px: float, dy_px: float) -> HandResult:
    """``hand`` translated by ``(dx_px, dy_px)`` pixels (keypoints and box; scores kept)."""
    points = hand.keypoints.copy()
    points[:, 0] += dx_px
    points[:, 1] += dy_px
    points.setflags(write=False)
    x1, y1, x2, y2 = hand.box
    return replace(hand, keypoints=points, box=(x1 + dx_px, y1 + dy_px, x2 + dx_px, y2 + dy_px))


def model_files(folder: str | os.PathLike[str], model: str = "full") -> tuple[Path, Path]:
    """``(palm, landmark)`` model paths in ``folder`` by MediaPipe's file names, for ``model`` ``full`` or ``lite``.

    Only names the files (``palm_detection_<model>.tflite``, ``hand_landmark_<model>.tflite``); the
    caller decides the folder. Raises `MediaPipeError` for another model name.

    >>> [p.name for p in model_files("models", "lite")]
    ['palm_detection_lite.tflite', 'hand_landmark_lite.tflite']
    """
    if model not in MODELS:
        raise MediaPipeError(f"model must be one of {list(MODELS)}, got {model!r}")
    folder = Path(folder)
    return folder / f"palm_detection_{model}.tflite", folder / f"hand_landmark_{model}.tflite"


def associate_rects(
    palm_rects: Sequence[NormRect], tracked_rects: Sequence[NormRect], threshold: float = ASSOCIATION_IOU
) -> list[NormRect]:
    """MediaPipe's ``AssociationNormRectCalculator``: merge palm ROIs and tracked ROIs without duplicates.

    Rectangles are added in order (``palm_rects`` then ``tracked_rects``); each one removes every
    rectangle already kept whose axis-aligned IoU with it is above ``threshold``, then is appended.

    >>> a, b = NormRect(0.3, 0.5, 0.2, 0.2), NormRect(0.31, 0.5, 0.2, 0.2)
    >>> associate_rects([a], [b]) == [b], associate_rects([a], [NormRect(0.7, 0.5, 0.2, 0.2)])[0] == a
    (True, True)
    """
    kept: list[NormRect] = []
    for rect in [*palm_rects, *tracked_rects]:
        kept = [other for other in kept if rect_iou(rect, other) <= threshold]
        kept.append(rect)
    return kept


def hand_result(output: LandmarkOutput, image_size: tuple[int, int], mirrored: bool) -> HandResult:
    """A `HandResult` in pixels from one `LandmarkOutput` on a ``(width, height)`` frame."""
    w, h = image_size
    points = np.empty((output.landmarks.shape[0], 3), dtype=np.float32)
    points[:, 0] = output.landmarks[:, 0] * w
    points[:, 1] = output.landmarks[:, 1] * h
    points[:, 2] = output.landmarks[:, 2] * w
    points.setflags(write=False)
    box = (
        float(points[:, 0].min()),
        float(points[:, 1].min()),
        float(points[:, 0].max()),
        float(points[:, 1].max()),
    )
    mp_left = output.left_score > 0.5  # TensorsToClassificationCalculator, binary, top-1
    side_score = output.left_score if mp_left else 1.0 - output.left_score
    wearer_left = mp_left if mirrored else not mp_left
    return HandResult(points, box, float(output.presence), "left" if wearer_left else "right", float(side_score))


def _check_threshold(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise MediaPipeError(f"{name} must be in [0, 1], got {value}")
    return value


def landmarks_for_boxes(
    landmarker: HandLandmarker,
    rgb: np.ndarray,
    boxes: Sequence[Sequence[float]],
    min_presence_score: float = 0.5,
    mirrored: bool = False,
    box_scale: float = 1.5,
) -> list[HandResult | None]:
    """Landmarks for hand boxes found by another detector ("landmarks as a second stage").

    For each pixel box ``(x1, y1, x2, y2)`` on the RGB uint8 ``(H, W, 3)`` frame: an upright square
    crop of the box's long side × ``box_scale`` around its centre; the landmarks found there give a
    rotated ROI (as in tracking) and the model runs again on it. Returns one entry per box, in order:
    the second pass's `HandResult`, or the first pass's if only that one is above
    ``min_presence_score``, or None when no hand is found. Raises `MediaPipeError` for a bad image or box.
    """
    rgb = check_rgb(rgb)
    threshold = _check_threshold("min_presence_score", min_presence_score)
    size = (rgb.shape[1], rgb.shape[0])
    firsts = landmarker.run_many(rgb, [box_roi(box, size, box_scale) for box in boxes])
    found = [i for i, first in enumerate(firsts) if first.presence > threshold]
    seconds = landmarker.run_many(rgb, [landmarks_roi(firsts[i].landmarks, size) for i in found])
    results: list[HandResult | None] = [None] * len(firsts)
    for i, second in zip(found, seconds, strict=True):
        best = second if second.presence > threshold else firsts[i]
        results[i] = hand_result(best, size, mirrored)
    return results


class MediaPipeHands:
    """MediaPipe Hands tracking on LiteRT: ``process(rgb)`` per video frame → list of `HandResult`.

    ``palm_model_path`` / ``landmark_model_path``: ``palm_detection_{full,lite}.tflite`` and
    ``hand_landmark_{full,lite}.tflite`` (see `model_files`); ``max_hands`` ≥ 1;
    ``min_detection_score``: palm score threshold (MediaPipe's ``min_detection_confidence``);
    ``min_presence_score``: landmark presence threshold (``min_tracking_confidence``); ``mirrored``:
    whether frames are mirrored selfie images (see the module doc for the side rule);
    ``num_threads``: LiteRT threads per model; ``channel_order``: ``"rgb"`` or ``"bgr"``, the order of
    the frames given to `process` (BGR frames are converted only in the models' small inputs).
    Raises `MediaPipeError` for bad options or model files.
    """

    def __init__(
        self,
        palm_model_path: str | os.PathLike[str],
        landmark_model_path: str | os.PathLike[str],
        max_hands: int = 2,
        min_detection_score: float = 0.5,
        min_presence_score: float = 0.5,
        mirrored: bool = False,
        num_threads: int = 2,
        palm_interval_frames: int = 1,
        channel_order: str = "rgb",
        landmark_interval_frames: int = 1,
        still_motion: float = 0.0,
    ) -> None:
        if isinstance(max_hands, bool) or not isinstance(max_hands, int | np.integer) or max_hands < 1:
            raise MediaPipeError(f"max_hands must be an integer >= 1, got {max_hands!r}")
        interval = palm_interval_frames
        if isinstance(interval, bool) or not isinstance(interval, int | np.integer) or interval < 1:
            raise MediaPipeError(f"palm_interval_frames must be an integer >= 1, got {interval!r}")
        self.palm_interval_frames = int(interval)
        interval = landmark_interval_frames
        if isinstance(interval, bool) or not isinstance(interval, int | np.integer) or interval < 1:
            raise MediaPipeError(f"landmark_interval_frames must be an integer >= 1, got {interval!r}")
        self.landmark_interval_frames = int(interval)
        if not (isinstance(still_motion, int | float) and 0.0 <= float(still_motion) <= 1.0):
            raise MediaPipeError(f"still_motion must be a number in [0, 1] (ROI sizes per frame), got {still_motion!r}")
        self.still_motion = float(still_motion)
        self.max_hands = int(max_hands)
        self.min_detection_score = _check_threshold("min_detection_score", min_detection_score)
        self.min_presence_score = _check_threshold("min_presence_score", min_presence_score)
        self.mirrored = bool(mirrored)
        self.palm = PalmDetector(
            palm_model_path, num_threads=num_threads, min_score=self.min_detection_score, channel_order=channel_order
        )
        self.landmarker = HandLandmarker(landmark_model_path, num_threads=num_threads, channel_order=channel_order)
        self.channel_order = channel_order
        self._tracked: list[_TrackedHand] = []
        self._frames_since_palm = 0  # frames processed since the palm detector last ran
        self.palm_runs = 0  # how many frames ran the palm detector (for diagnostics)
        self.landmark_runs = 0  # hands given to the landmark model (for diagnostics)
        self.landmark_skips = 0  # hands reported without it (still, under landmark_interval_frames)

    @classmethod
    def from_folder(cls, folder: str | os.PathLike[str], model: str = "full", **options: object) -> MediaPipeHands:
        """Build from the two files `model_files` names in ``folder``; ``options`` as for the constructor."""
        palm, landmark = model_files(folder, model)
        return cls(palm, landmark, **options)  # type: ignore[arg-type]

    def reset(self) -> None:
        """Forget the tracked hands: the next frame starts with the palm detector (e.g. after a cut)."""
        self._tracked = []
        self._frames_since_palm = 0

    def tracking_state(self) -> tuple[tuple[_TrackedHand, ...], int]:
        """What the next frame starts from: ``(tracked hands, frames since the palm detector ran)``.

        A tracked hand holds its ROI, last result, speed and skipped frames (the adaptive landmark
        schedule's state), all immutable: the state can be kept and restored as it is.
        """
        return tuple(self._tracked), self._frames_since_palm

    def restore_tracking_state(self, state: tuple[tuple[_TrackedHand, ...], int]) -> None:
        """Continue from a `tracking_state` (another stream's frames ran in between)."""
        tracked, frames_since_palm = state
        self._tracked, self._frames_since_palm = list(tracked), int(frames_since_palm)

    @property
    def tracked_rects(self) -> list[NormRect]:
        """The ROIs the next frame will start from (from this frame's landmarks)."""
        return [hand.roi for hand in self._tracked]

    def process(self, rgb: np.ndarray) -> list[HandResult]:
        """Hands in the next video frame, RGB uint8 ``(H, W, 3)``; raises `MediaPipeError` for another image.

        Order follows MediaPipe: hands newly found by the palm detector first, then tracked hands.
        """
        rgb = check_rgb(rgb)
        size = (rgb.shape[1], rgb.shape[0])
        palm_rects: list[NormRect] = []
        self._frames_since_palm += 1
        due = not self._tracked or self._frames_since_palm >= self.palm_interval_frames
        if len(self._tracked) < self.max_hands and due:
            self._frames_since_palm = 0
            self.palm_runs += 1
            palms = self.palm.detect(rgb, max_results=self.max_hands)
            palm_rects = [palm_roi(p.box, p.keypoints, size) for p in palms]
        rects = associate_rects(palm_rects, [hand.roi for hand in self._tracked])
        by_roi = {id(hand.roi): hand for hand in self._tracked}
        run: list[tuple[NormRect, _TrackedHand | None]] = []
        kept: dict[int, tuple[HandResult, _TrackedHand]] = {}  # position in rects -> a hand reported without the model
        for position, rect in enumerate(rects):
            hand = by_roi.get(id(rect))
            if hand is not None and self._may_skip(hand, size):
                assert hand.velocity is not None
                vx, vy = hand.velocity
                roi = replace(hand.roi, x_center=hand.roi.x_center + vx, y_center=hand.roi.y_center + vy)
                result = _moved(hand.result, vx * size[0], vy * size[1])
                kept[position] = (result, replace(hand, roi=roi, result=result, skipped=hand.skipped + 1))
            else:
                run.append((rect, hand))
        self.landmark_runs += len(run)
        self.landmark_skips += len(kept)
        outputs = iter(self.landmarker.run_many(rgb, [rect for rect, _ in run]))
        previous = iter(hand for _, hand in run)
        results: list[HandResult] = []
        tracked: list[_TrackedHand] = []
        for position in range(len(rects)):
            if position in kept:
                result, hand = kept[position]
                results.append(result)
                tracked.append(hand)
                continue
            output, before = next(outputs), next(previous)
            if not output.presence > self.min_presence_score:
                continue
            result = hand_result(output, size, self.mirrored)
            roi = landmarks_roi(output.landmarks, size)
            velocity = None
            if before is not None:
                steps = before.skipped + 1  # frames since its ROI came from the model
                start = before.model_roi
                assert start is not None
                velocity = ((roi.x_center - start.x_center) / steps, (roi.y_center - start.y_center) / steps)
            results.append(result)
            tracked.append(_TrackedHand(roi, result, velocity))
        self._tracked = tracked
        return results

    def _may_skip(self, hand: _TrackedHand, size: tuple[int, int]) -> bool:
        """Whether a tracked hand may be reported without the landmark model on this frame."""
        if self.landmark_interval_frames <= 1 or hand.velocity is None:
            return False
        if hand.skipped + 1 >= self.landmark_interval_frames:
            return False
        w, h = size
        speed_px = math.hypot(hand.velocity[0] * w, hand.velocity[1] * h)
        roi_px = max(hand.roi.width * w, hand.roi.height * h)
        return speed_px <= self.still_motion * roi_px

    def landmarks_for_boxes(
        self, rgb: np.ndarray, boxes: Sequence[Sequence[float]], box_scale: float = 1.5
    ) -> list[HandResult | None]:
        """`landmarks_for_boxes` with this tracker's landmark model, threshold and side rule.

        Stateless: the tracked hands of `process` are neither used nor changed.
        """
        return landmarks_for_boxes(self.landmarker, rgb, boxes, self.min_presence_score, self.mirrored, box_scale)
