"""The ``hands.mediapipe.landmarks`` second stage: MediaPipe's 21 landmarks on another detector's hand boxes.

Declared in a pipeline with ``input:`` (for example on ``hands.egohands`` boxes); the runtime runs
it right after its input, on the same frame. For each input detection labelled ``hand`` it crops
an upright square around the box (its long side × ``box_scale``), runs the landmark model, turns
the crop to the hand's rotation found there and runs the model again (MediaPipe's own tracking
crop, `detectors.mediapipe.hands.landmarks_for_boxes`). The output keeps the input's boxes, scores
and labels and adds the 21 keypoints (`HAND_KEYPOINT_NAMES`; the third value is MediaPipe's
relative depth ``z``, in pixels) and the wearer's side; detections where the landmark model sees
no hand (presence at most ``min_presence_score``) are dropped, so the stage also removes the
input detector's false hands. Detections with other labels are dropped too: the input is a hand
detector, and the detections of one value share one keypoints array.

Example:
    >>> stage = LandmarkStage(box_scale=1.5)
    >>> stage.takes_input, stage.model_name, stage.box_scale
    (True, 'hands.mediapipe', 1.5)
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from detectors.detections import HAND_KEYPOINT_NAMES, Detections
from detectors.detector import Detector, Provenance
from detectors.errors import ModelError
from detectors.mediapipe.detector import with_side_prior
from detectors.mediapipe.hands import landmarks_for_boxes
from detectors.mediapipe.landmarks import HandLandmarker
from detectors.modelfiles import ModelFiles
from detectors.params import check_params

PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "model": {"enum": ["full", "lite"], "description": "landmark model: full (default) or lite"},
        "min_presence_score": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "hand presence the landmark model must see to keep a detection",
        },
        "box_scale": {
            "type": "number",
            "minimum": 1,
            "maximum": 4,
            "description": "the first crop's side, as a multiple of the input box's long side",
        },
        "mirrored": {"type": "boolean", "description": "frames are mirrored selfie images (default false)"},
        "side_prior_slope": {
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "description": "egocentric side prior, as for hands.mediapipe (0: MediaPipe's handedness alone)",
        },
        "num_threads": {"type": "integer", "minimum": 1, "description": "CPU threads of the LiteRT model"},
    },
}


class LandmarkStage(Detector):
    """Landmarks and sides on another detector's hand boxes (see the module doc).

    Raises `ParamsError` for bad parameters, `ModelError` from `load` without bound model files.
    """

    model_name: ClassVar[str] = "hands.mediapipe"
    labels: ClassVar[tuple[str, ...]] = ("hand",)
    input_size: ClassVar[tuple[int, int]] = (224, 224)
    params_schema: ClassVar[dict[str, Any]] = PARAMS_SCHEMA
    takes_input: ClassVar[bool] = True
    channel_order: ClassVar[str] = "bgr"  # crops are converted, never the whole frame

    def __init__(
        self,
        model: str = "full",
        min_presence_score: float = 0.5,
        box_scale: float = 1.5,
        mirrored: bool = False,
        num_threads: int = 2,
        side_prior_slope: float = 0.0,
    ) -> None:
        check_params(
            f"{self.model_name}.landmarks",
            self.params_schema,
            {
                "model": model,
                "min_presence_score": min_presence_score,
                "box_scale": box_scale,
                "mirrored": mirrored,
                "num_threads": num_threads,
                "side_prior_slope": side_prior_slope,
            },
        )
        self.side_prior_slope = float(side_prior_slope)
        self.model = model
        self.min_presence_score = float(min_presence_score)
        self.box_scale = float(box_scale)
        self.mirrored = mirrored
        self.num_threads = num_threads
        self._files: ModelFiles | None = None
        self._landmarker: HandLandmarker | None = None

    def bind_model_files(self, files: ModelFiles) -> None:
        """Take the installed model files (from the application's model store)."""
        if files.name != self.model_name:
            raise ModelError(f"{self.model_name}: given the files of model {files.name!r}")
        self._files = files

    def provenance(self) -> Provenance:
        """The bound files' package; the models are LiteRT float32 files, run as they are."""
        package = self._files.package if self._files is not None else ""
        return Provenance(package or None, "fp32", "litert")

    def load(self) -> None:
        """Open the landmark model."""
        if self._landmarker is None:
            if self._files is None:
                raise ModelError(f"{self.model_name}: no model files bound; the application binds them before load()")
            path = self._files.path_of(f"hand_landmark_{self.model}")
            self._landmarker = HandLandmarker(path, num_threads=self.num_threads, channel_order=self.channel_order)

    def detect(self, image: np.ndarray) -> Detections:
        """A stage has no boxes of its own: nothing without an input."""
        return Detections.empty()

    def detect_on(self, image: np.ndarray, detections: Detections) -> Detections:
        """The input's hand detections that the landmark model confirms, with keypoints and sides."""
        if self._landmarker is None:
            self.load()
        assert self._landmarker is not None
        hands = [i for i, label in enumerate(detections.labels) if label == "hand"]
        if not hands:
            return Detections.empty()
        found = landmarks_for_boxes(
            self._landmarker,
            image,
            detections.boxes[hands],
            self.min_presence_score,
            self.mirrored,
            self.box_scale,
        )
        kept = [(i, hand) for i, hand in zip(hands, found, strict=True) if hand is not None]
        if not kept:
            return Detections.empty()
        index = [i for i, _ in kept]
        width, slope = image.shape[1], self.side_prior_slope
        sides = [
            with_side_prior(hand.side, float(hand.side_score), float(hand.keypoints[0, 0]), width, slope)
            for _, hand in kept
        ]
        return Detections(
            detections.boxes[index],
            detections.scores[index],
            detections.class_ids[index],
            tuple(detections.labels[i] for i in index),
            keypoints=np.stack([hand.keypoints for _, hand in kept]),
            keypoint_names=HAND_KEYPOINT_NAMES,
            sides=tuple(side for side, _ in sides),
            side_scores=tuple(score for _, score in sides),
        )

    def close(self) -> None:
        """Release the model. Safe to call twice."""
        self._landmarker = None
