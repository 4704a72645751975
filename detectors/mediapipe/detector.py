"""The ``hands.mediapipe`` detector plugin: MediaPipe Hands (palm detector + 21 landmarks) per video frame.

Wraps `MediaPipeHands` as a `Detector`: each frame gives one detection per hand, its box the extent
of the 21 landmarks (``x1, y1, x2, y2`` in source-frame pixels), its score the landmark model's
hand presence, its keypoints the 21 landmarks in MediaPipe's order (`HAND_KEYPOINT_NAMES`; the
third value is MediaPipe's relative depth ``z``, in the same pixel scale as ``x``, smaller is
nearer the camera), and its side (the wearer's own ``left``/``right``) with the handedness score.

Like MediaPipe's video mode, the plugin is stateful: the landmarks of one frame give the crops of
the next, and the palm detector runs only while fewer than ``max_hands`` hands are tracked. Frames
must therefore come in order, which is what the runtime does for each detector (one worker thread,
increasing frame indices; a skipped frame is just a longer step).

The model files (``palm_detection_{full,lite}.tflite``, ``hand_landmark_{full,lite}.tflite`` from
npm ``@mediapipe/hands``, Apache-2.0) are handed in by the application with `bind_model_files`.

Example:
    >>> detector = MediaPipeHandsDetector(max_hands=2, model="lite")
    >>> detector.model_name, detector.labels, detector.max_hands
    ('hands.mediapipe', ('hand',), 2)
    >>> MediaPipeHandsDetector(max_hands=0)
    Traceback (most recent call last):
    ...
    detectors.errors.ParamsError: hands.mediapipe: parameter max_hands: value 0 is out of range: must be >= 1
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from detectors.detections import HAND_KEYPOINT_NAMES, Detections
from detectors.detector import Detector, Provenance
from detectors.errors import ModelError
from detectors.mediapipe.hands import HandResult, MediaPipeHands
from detectors.modelfiles import ModelFiles
from detectors.params import check_params

#: The variants of the two models; ``full`` is what ``mediapipe`` calls model_complexity 1.
MODELS = ("full", "lite")

PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "model": {"enum": list(MODELS), "description": "full (MediaPipe's default, model_complexity 1) or lite"},
        "landmark_model": {
            "enum": list(MODELS),
            "description": "the landmark model's variant when it differs from `model` (the palm detector's): "
            "full or lite",
        },
        "max_hands": {"type": "integer", "minimum": 1, "maximum": 8, "description": "at most this many hands"},
        "min_detection_score": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "palm detector score threshold (MediaPipe's min_detection_confidence)",
        },
        "min_presence_score": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "hand presence threshold of the landmark model (MediaPipe's min_tracking_confidence)",
        },
        "mirrored": {
            "type": "boolean",
            "description": "frames are mirrored selfie images; false (the default) for ordinary and egocentric "
            "video, where MediaPipe's handedness is flipped to give the wearer's side",
        },
        "num_threads": {"type": "integer", "minimum": 1, "description": "CPU threads of each LiteRT model"},
        "palm_interval_frames": {
            "type": "integer",
            "minimum": 1,
            "maximum": 1000,
            "description": "while some but fewer than max_hands hands are tracked, run the palm detector only on "
            "every n-th frame (1, the default, is MediaPipe: every such frame); with no hand tracked, on every frame",
        },
        "landmark_interval_frames": {
            "type": "integer",
            "minimum": 1,
            "maximum": 30,
            "description": "adaptive landmark schedule: a still tracked hand may skip the landmark model for up to "
            "n-1 frames in a row, its last landmarks moved on at its last speed "
            "(1, the default, is MediaPipe: every frame)",
        },
        "still_motion": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "a hand is still (may skip the landmark model) when its ROI centre moved at most this many "
            "ROI sizes per frame between its last two landmark runs",
        },
        "side_prior_slope": {
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "description": "egocentric side prior: 0 (the default) trusts MediaPipe's handedness alone; s > 0 also "
            "weighs where the wrist is: odds of the wearer's right hand x exp(s (x/width - 1/2)) (with_side_prior)",
        },
        "static_images": {
            "type": "boolean",
            "description": "treat every frame as an unrelated image: run the palm detector on each and track "
            "nothing between frames (MediaPipe's static_image_mode; for photo collections such as `eval` sets)",
        },
    },
}


def with_side_prior(side: str, side_score: float, wrist_x_px: float, width_px: int, slope: float) -> tuple[str, float]:
    """A hand's side and score, weighing where its wrist is in the frame (a head-mounted camera's prior).

    On egocentric video the wearer's left hand is mostly in the left half of the frame and the
    right hand in the right half. MediaPipe's handedness model, trained mostly on other views,
    can be confidently wrong on a hand seen edge-on at the frame border. The prior is logistic
    in the wrist's horizontal position: the odds of "right" are the classifier's odds times
    ``exp(slope · (x / width − 1/2))``; ``slope`` 0 leaves the classifier's answer as it is.
    The slope shipped in the pipelines (12) was chosen on the three shared egodex clips, where
    it raises the per-frame side agreement of real MediaPipe's handedness on
    ``basic_pick_and_place_0`` from 0.34 to 0.97 and leaves the two others at 0.98 and 1.0.

    Example:
        >>> with_side_prior("right", 0.8, wrist_x_px=100, width_px=1000, slope=0)
        ('right', 0.8)
        >>> side, score = with_side_prior("right", 0.8, wrist_x_px=100, width_px=1000, slope=12)
        >>> side, round(score, 3)
        ('left', 0.968)
    """
    if slope <= 0:
        return side, side_score
    p_right = side_score if side == "right" else 1.0 - side_score
    p_right = min(max(p_right, 1e-6), 1.0 - 1e-6)
    logit = math.log(p_right / (1.0 - p_right)) + slope * (wrist_x_px / width_px - 0.5)
    p_right = 1.0 / (1.0 + math.exp(-logit))
    return ("right", p_right) if p_right >= 0.5 else ("left", 1.0 - p_right)


def to_detections(hands: Sequence[HandResult | None], width_px: int = 0, side_prior_slope: float = 0.0) -> Detections:
    """`HandResult` values (``None`` entries skipped) as one `Detections` with keypoints and sides.

    With ``side_prior_slope > 0`` each side is weighed by its wrist's position in a frame
    ``width_px`` wide (`with_side_prior`).

    Example:
        >>> len(to_detections([None]))
        0
    """
    found = [hand for hand in hands if hand is not None]
    if not found:
        return Detections.empty()
    sides = [
        with_side_prior(hand.side, float(hand.side_score), float(hand.keypoints[0, 0]), width_px, side_prior_slope)
        for hand in found
    ]
    return Detections(
        np.asarray([hand.box for hand in found], np.float32),
        np.asarray([hand.score for hand in found], np.float32),
        np.zeros(len(found), np.int32),
        ("hand",) * len(found),
        keypoints=np.stack([hand.keypoints for hand in found]),
        keypoint_names=HAND_KEYPOINT_NAMES,
        sides=tuple(side for side, _ in sides),
        side_scores=tuple(score for _, score in sides),
    )


class MediaPipeHandsDetector(Detector):
    """MediaPipe Hands on LiteRT (see the module doc). Parameters as in `PARAMS_SCHEMA`.

    Raises `ParamsError` for bad parameters on construction and `ModelError` from `load` when no
    model files were bound.
    """

    model_name: ClassVar[str] = "hands.mediapipe"
    labels: ClassVar[tuple[str, ...]] = ("hand",)
    input_size: ClassVar[tuple[int, int]] = (192, 192)  # the palm detector's; the landmark model takes 224×224 crops
    params_schema: ClassVar[dict[str, Any]] = PARAMS_SCHEMA
    # BGR in: only the palm detector's 192×192 letterbox and the 224×224 landmark crops are converted,
    # never the whole frame (0.8 ms of a 1080p frame's ~21 ms here), with the same tensors.
    channel_order: ClassVar[str] = "bgr"

    def __init__(
        self,
        model: str = "full",
        max_hands: int = 2,
        min_detection_score: float = 0.5,
        min_presence_score: float = 0.5,
        mirrored: bool = False,
        num_threads: int = 2,
        palm_interval_frames: int = 1,
        side_prior_slope: float = 0.0,
        static_images: bool = False,
        landmark_interval_frames: int = 1,
        still_motion: float = 0.0,
        landmark_model: str | None = None,
    ) -> None:
        check_params(
            self.model_name,
            self.params_schema,
            {
                "model": model,
                "max_hands": max_hands,
                "min_detection_score": min_detection_score,
                "min_presence_score": min_presence_score,
                "mirrored": mirrored,
                "num_threads": num_threads,
                "palm_interval_frames": palm_interval_frames,
                "side_prior_slope": side_prior_slope,
                "static_images": static_images,
                "landmark_interval_frames": landmark_interval_frames,
                "still_motion": still_motion,
                **({} if landmark_model is None else {"landmark_model": landmark_model}),
            },
        )
        self.landmark_model = model if landmark_model is None else landmark_model
        self.landmark_interval_frames = landmark_interval_frames
        self.still_motion = float(still_motion)
        self.palm_interval_frames = palm_interval_frames
        self.side_prior_slope = float(side_prior_slope)
        self.static_images = static_images
        self.model = model
        self.max_hands = max_hands
        self.min_detection_score = float(min_detection_score)
        self.min_presence_score = float(min_presence_score)
        self.mirrored = mirrored
        self.num_threads = num_threads
        self._files: ModelFiles | None = None
        self._hands: MediaPipeHands | None = None

    def bind_model_files(self, files: ModelFiles) -> None:
        """Take the installed model files (from the application's model store)."""
        if files.name != self.model_name:
            raise ModelError(f"{self.model_name}: given the files of model {files.name!r}")
        self._files = files

    def provenance(self) -> Provenance:
        """The bound files' package; the models are LiteRT float32 files, run as they are."""
        package = self._files.package if self._files is not None else ""
        return Provenance(package or None, "fp32", "litert")

    def model_paths(self) -> tuple[Any, Any]:
        """``(palm detector, landmark model)`` paths of the chosen variant; `ModelError` if unbound."""
        if self._files is None:
            raise ModelError(f"{self.model_name}: no model files bound; the application binds them before load()")
        files = self._files
        return files.path_of(f"palm_detection_{self.model}"), files.path_of(f"hand_landmark_{self.landmark_model}")

    def load(self) -> None:
        """Open both LiteRT models (about 10 MB; a few hundred ms)."""
        if self._hands is None:
            palm, landmark = self.model_paths()
            self._hands = MediaPipeHands(
                palm,
                landmark,
                max_hands=self.max_hands,
                min_detection_score=self.min_detection_score,
                min_presence_score=self.min_presence_score,
                mirrored=self.mirrored,
                num_threads=self.num_threads,
                palm_interval_frames=self.palm_interval_frames,
                channel_order=self.channel_order,
                landmark_interval_frames=self.landmark_interval_frames,
                still_motion=self.still_motion,
            )

    def detect(self, image: np.ndarray) -> Detections:
        """Hands on the next video frame (BGR uint8 ``(H, W, 3)``, see `channel_order`), tracking from the last."""
        if self._hands is None:
            self.load()
        assert self._hands is not None
        if self.static_images:
            self._hands.reset()
        return to_detections(self._hands.process(image), image.shape[1], self.side_prior_slope)

    def stream_state(self) -> Any:
        """The tracked hands the next frame starts from (None before `load`)."""
        return None if self._hands is None else self._hands.tracking_state()

    def restore_stream_state(self, state: Any) -> None:
        """Continue a stream from its `stream_state`; None starts afresh (the palm detector runs)."""
        if self._hands is None:
            self.load()
        assert self._hands is not None
        if state is None:
            self._hands.reset()
        else:
            self._hands.restore_tracking_state(state)

    def close(self) -> None:
        """Release the models. Safe to call twice."""
        self._hands = None
