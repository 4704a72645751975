"""`Detections` to and from ``supervision.Detections`` (the optional ``supervision`` extra)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from detectors.detections import Detections
from detectors.errors import DetectionsError

sv = pytest.importorskip("supervision", reason="needs the optional supervision extra (pip install .[supervision])")

PLAIN = Detections.from_lists([[10, 20, 50, 80], [100, 40, 160, 90]], [0.9, 0.35], [0, 41], ["person", "cup"])
SIDED = Detections.from_lists(
    [[10, 20, 50, 80], [60, 20, 90, 80]],
    [0.9, 0.6],
    [0, 0],
    ["hand", "hand"],
    sides=["left", None],
    side_scores=[0.75, None],
    keypoints=[[[12, 22, -1.5], [48, 78, 0]], [[61, 21, 0], [89, 79, 2]]],
    keypoint_names=["wrist", "index_finger_tip"],
)


@pytest.mark.parametrize("detections", [PLAIN, SIDED, Detections.empty()], ids=["plain", "sides+keypoints", "empty"])
def test_round_trip(detections: Detections) -> None:
    converted = detections.to_supervision()
    assert isinstance(converted, sv.Detections) and len(converted) == len(detections)
    assert converted.xyxy.shape == (len(detections), 4) and converted.tracker_id is None
    np.testing.assert_array_equal(converted.xyxy, detections.boxes)
    np.testing.assert_array_equal(converted.confidence, detections.scores)
    np.testing.assert_array_equal(converted.class_id, detections.class_ids)
    assert converted.data["class_name"].tolist() == list(detections.labels)
    assert Detections.from_supervision(converted) == detections


def test_sides_and_keypoints_in_data() -> None:
    converted = SIDED.to_supervision()
    assert converted.data["side"].tolist() == ["left", None]
    assert converted.data["side_score"][0] == 0.75 and np.isnan(converted.data["side_score"][1])
    assert converted.data["keypoints"].shape == (2, 2, 3)
    assert converted.metadata["keypoint_names"] == ["wrist", "index_finger_tip"]
    # supervision's own operations keep them aligned: a filtered selection converts back.
    kept = converted[converted.confidence > 0.7]
    assert Detections.from_supervision(kept) == SIDED.select([0])


def test_copies_are_writable_and_independent() -> None:
    converted = PLAIN.to_supervision()
    converted.xyxy[0, 0] = 999
    assert PLAIN.boxes[0, 0] == 10


def test_annotators_draw_them() -> None:
    image = np.zeros((120, 200, 3), np.uint8)
    boxed = sv.BoxAnnotator(thickness=2).annotate(image.copy(), PLAIN.to_supervision())
    labelled = sv.LabelAnnotator().annotate(boxed.copy(), PLAIN.to_supervision())
    assert boxed[20, 10:50].any() and not boxed[60:70, 60:90].any()  # on the box edge, not elsewhere
    assert (labelled != boxed).any()  # the labels, from data["class_name"]


def test_from_a_model_output_with_label_names() -> None:
    found = sv.Detections(xyxy=np.array([[0, 0, 4, 4]], float), confidence=np.array([0.5]), class_id=np.array([2]))
    assert Detections.from_supervision(found, label_names=["a", "b", "c"]).labels == ("c",)


@pytest.mark.parametrize(
    ("kwargs", "label_names", "message"),
    [
        ({"class_id": np.array([0])}, None, "without confidence"),
        ({"confidence": np.array([0.5])}, None, "without class_id"),
        ({"confidence": np.array([0.5]), "class_id": np.array([0])}, None, r"without data\['class_name'\]"),
        ({"confidence": np.array([0.5]), "class_id": np.array([3])}, ["a"], "class id 3 is out of range for 1"),
        ({"confidence": np.array([1.5]), "class_id": np.array([0])}, ["a"], r"scores must lie in \[0, 1\]"),
    ],
)
def test_refused(kwargs: dict, label_names: list[str] | None, message: str) -> None:
    found = sv.Detections(xyxy=np.array([[0, 0, 4, 4]], float), **kwargs)
    with pytest.raises(DetectionsError, match=message):
        Detections.from_supervision(found, label_names=label_names)


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "supervision", None)  # import supervision now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'hands-orchestrator\[supervision\]'"):
        PLAIN.to_supervision()
