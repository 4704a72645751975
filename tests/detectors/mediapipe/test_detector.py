"""The ``hands.mediapipe`` plugin and the ``hands.mediapipe.landmarks`` stage on real models and clips."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import shared_path

from detectors.detections import HAND_KEYPOINT_NAMES
from detectors.egohands import EgoHandsDetector
from detectors.errors import MediaPipeError, ModelError, ParamsError
from detectors.image import in_channel_order
from detectors.mediapipe import MediaPipeHands
from detectors.mediapipe.detector import MediaPipeHandsDetector
from detectors.mediapipe.stage import LandmarkStage
from orchestrator.modelstore import ModelStore, bind_model_files

CLIP = "data/egodex/add_remove_lid_0.mp4"


def frames(count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(shared_path(CLIP)))
    images = []
    while len(images) < count:
        ok, bgr = capture.read()
        assert ok
        images.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    capture.release()
    return images


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model": "heavy"}, "hands.mediapipe: parameter model: expected one of full, lite; got 'heavy'"),
        ({"max_hands": 0}, "hands.mediapipe: parameter max_hands: value 0 is out of range: must be >= 1"),
        ({"mirrored": "no"}, "hands.mediapipe: parameter mirrored: expected boolean, got a string 'no'"),
        (
            {"landmark_model": "heavy"},
            "hands.mediapipe: parameter landmark_model: expected one of full, lite; got 'heavy'",
        ),
    ],
)
def test_bad_parameters(params: dict, message: str) -> None:
    with pytest.raises(ParamsError) as info:
        MediaPipeHandsDetector(**params)
    assert str(info.value) == message


def test_load_without_files_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="no model files bound"):
        MediaPipeHandsDetector().load()
    with pytest.raises(ModelError, match="no model files bound"):
        LandmarkStage().load()


def test_plugin_gives_the_tracker_results_as_detections(real_models: Path) -> None:
    """The plugin takes BGR frames (its `channel_order`) and gives exactly what the tracker gives on RGB."""
    assert MediaPipeHandsDetector.channel_order == "bgr"
    images = frames(6)
    detector = bind_model_files(MediaPipeHandsDetector(), ModelStore(real_models))
    files = ModelStore(real_models).installed("hands.mediapipe").model_files()
    reference = MediaPipeHands(files.path_of("palm_detection_full"), files.path_of("hand_landmark_full"))
    with detector:
        for image in images:
            dets, hands = detector.detect(in_channel_order(image, "bgr")), reference.process(image)
            assert len(dets) == len(hands) >= 1
            assert dets.keypoint_names == HAND_KEYPOINT_NAMES and dets.keypoints.shape == (len(hands), 21, 3)
            np.testing.assert_array_equal(dets.keypoints, np.stack([h.keypoints for h in hands]))
            assert dets.sides == tuple(h.side for h in hands)
            assert dets.labels == ("hand",) * len(hands)
            # the box is the landmarks' extent
            np.testing.assert_allclose(dets.boxes[:, :2], dets.keypoints[:, :, :2].min(axis=1), atol=1e-3)


@pytest.mark.parametrize(
    ("params", "palm", "landmark"),
    [({}, "full", "full"), ({"model": "lite"}, "lite", "lite"), ({"landmark_model": "lite"}, "full", "lite")],
)
def test_landmark_model_may_differ_from_the_palm_detector(
    real_models: Path, params: dict, palm: str, landmark: str
) -> None:
    """``landmark_model`` picks the landmark model alone (the shipped hands_only: full palm, lite landmarks)."""
    images = frames(4)
    detector = bind_model_files(MediaPipeHandsDetector(**params), ModelStore(real_models))
    palm_path, landmark_path = detector.model_paths()
    assert (palm_path.name, landmark_path.name) == (f"palm_detection_{palm}.tflite", f"hand_landmark_{landmark}.tflite")
    reference = MediaPipeHands(palm_path, landmark_path)
    with detector:
        for image in images:
            dets, hands = detector.detect(in_channel_order(image, "bgr")), reference.process(image)
            assert len(dets) == len(hands)
            if hands:
                np.testing.assert_array_equal(dets.keypoints, np.stack([h.keypoints for h in hands]))


def test_static_images_detect_each_frame_afresh(real_models: Path) -> None:
    image = frames(1)[0]
    detector = bind_model_files(MediaPipeHandsDetector(static_images=True), ModelStore(real_models))
    with detector:
        image = in_channel_order(image, detector.channel_order)
        first, again = detector.detect(image), detector.detect(image)
    assert first == again and len(first) >= 1


def test_stage_adds_landmarks_to_egohands_boxes(real_models: Path) -> None:
    store = ModelStore(real_models)
    hands = bind_model_files(EgoHandsDetector(precision="fp32"), store)
    stage = bind_model_files(LandmarkStage(), store)
    with hands, stage:
        for image in frames(4):
            boxes = hands.detect(image)
            refined = stage.detect_on(in_channel_order(image, stage.channel_order), boxes)
            assert 1 <= len(refined) <= len(boxes)
            assert refined.keypoints.shape == (len(refined), 21, 3)
            assert set(refined.sides) <= {"left", "right"}
            # the input's boxes are kept: each refined box is one of the input's
            assert all(any(np.array_equal(box, b) for b in boxes.boxes) for box in refined.boxes)


def test_bad_channel_order_is_refused(real_models: Path) -> None:
    files = ModelStore(real_models).installed("hands.mediapipe").model_files()
    with pytest.raises(MediaPipeError, match="channel_order must be 'rgb' or 'bgr', got 'rbg'"):
        MediaPipeHands(files.path_of("palm_detection_full"), files.path_of("hand_landmark_full"), channel_order="rbg")
