"""One MediaPipe hands model shared by two streams tracks each as its own model would (real model)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from helpers import shared_path

from detectors.detections import Detections
from detectors.mediapipe.detector import MediaPipeHandsDetector
from orchestrator.modelstore import ModelStore, bind_model_files
from orchestrator.streams.shared import SharedModel

CLIP = "data/egodex/add_remove_lid_0.mp4"


def _frames(count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(shared_path(CLIP)))
    images = []
    while len(images) < count:
        ok, bgr = capture.read()
        assert ok
        images.append(bgr)
    capture.release()
    return images


def _alone(models: Path, images: list[np.ndarray]) -> list[Detections]:
    with bind_model_files(MediaPipeHandsDetector(), ModelStore(models)) as detector:
        return [detector.detect_frame(image, i, 0.0) for i, image in enumerate(images)]


def test_two_streams_interleaved_on_one_model_track_as_two_models(real_models: Path) -> None:
    left = _frames(8)
    right = [cv2.flip(image, 1) for image in left]  # the same hands, elsewhere: other tracked crops
    expected = {"left": _alone(real_models, left), "right": _alone(real_models, right)}
    detector = bind_model_files(MediaPipeHandsDetector(), ModelStore(real_models))
    detector.load()
    model = SharedModel("hands", detector, streams=2)
    model.start()
    streams = {"left": model.for_stream("left"), "right": model.for_stream("right")}
    got: dict[str, list[Detections]] = {"left": [], "right": []}
    try:
        for i in range(len(left)):  # one frame of each stream in turn: the model's state must follow
            got["left"].append(streams["left"].detect_frame(left[i], i, 0.0))
            got["right"].append(streams["right"].detect_frame(right[i], i, 0.0))
    finally:
        assert model.close()
        detector.close()
    assert sum(len(d) for d in expected["left"]) >= len(left)  # hands seen: the check has something to compare
    for name in ("left", "right"):
        assert got[name] == expected[name], name
