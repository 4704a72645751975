"""The `Detections` value: construction checks and adapters."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.tracker_scenarios import dets

from detectors.detections import Detections
from detectors.errors import DetectionsError


def test_concat_detections_keeps_order() -> None:
    a, b = dets((0, 0, 1, 1), score=0.5, label="left"), dets((2, 2, 3, 3), (4, 4, 5, 5), score=0.7, label="right")
    both = Detections.concat([a, b])
    assert both.labels == ("left", "right", "right")
    assert both.boxes[:, 0].tolist() == [0, 2, 4]
    assert Detections.concat([a]) is a
    assert len(Detections.concat([])) == 0


# ----------------------------------------------------------------------------- keypoints and sides


def _with_extras(n: int = 2, k: int = 3, sides=("left", None), side_scores=(0.8, None)) -> Detections:
    boxes = [[10 * i, 0, 10 * i + 8, 8] for i in range(n)]
    keypoints = np.arange(n * k * 3, dtype=np.float32).reshape(n, k, 3)
    return Detections.from_lists(
        boxes, [0.9] * n, [0] * n, ["hand"] * n, keypoints=keypoints, keypoint_names=[f"p{i}" for i in range(k)],
        sides=sides, side_scores=side_scores,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"keypoints": np.zeros((1, 2, 2)), "keypoint_names": ("a", "b")}, r"shape \(N, K, 3\)"),
        ({"keypoints": np.zeros((2, 2, 3)), "keypoint_names": ("a", "b")}, r"N = 1"),
        ({"keypoints": np.zeros((1, 2, 3)), "keypoint_names": ("a",)}, "K = 2"),
        ({"keypoints": np.full((1, 1, 3), np.nan), "keypoint_names": ("a",)}, "NaN"),
        ({"keypoint_names": ("a",)}, "without keypoints"),
        ({"sides": ("up",), "side_scores": (0.5,)}, "'left', 'right' or None"),
        ({"sides": ("left",), "side_scores": (None,)}, "known together"),
        ({"sides": (None,), "side_scores": (0.5,)}, "known together"),
        ({"sides": ("left",), "side_scores": (1.5,)}, r"\[0, 1\]"),
        ({"sides": ("left",), "side_scores": (float("nan"),)}, r"\[0, 1\]"),
        ({"sides": ("left", "right"), "side_scores": (0.5, 0.5)}, "one entry per detection"),
    ],
)
def test_keypoints_and_sides_are_validated(kwargs: dict, message: str) -> None:
    with pytest.raises(DetectionsError, match=message):
        Detections(np.array([[0, 0, 1, 1]]), np.array([0.5]), np.array([0]), ("hand",), **kwargs)


def test_keypoints_are_float32_frozen_and_sides_default_to_unknown() -> None:
    d = _with_extras()
    assert d.keypoints.dtype == np.float32 and d.keypoints.shape == (2, 3, 3)
    assert not d.keypoints.flags.writeable
    assert d.keypoint_names == ("p0", "p1", "p2") and d.sides == ("left", None) and d.side_scores == (0.8, None)
    plain = dets((0, 0, 1, 1), (2, 2, 3, 3))
    assert plain.keypoints is None and plain.sides == (None, None) and not plain.has_sides


def test_select_concat_and_equality_carry_keypoints_and_sides() -> None:
    d = _with_extras()
    picked = d.select([1, 0])
    assert picked.sides == (None, "left") and np.array_equal(picked.keypoints[0], d.keypoints[1])
    both = Detections.concat([d, Detections.empty(), d])
    assert len(both) == 4 and both.keypoints.shape == (4, 3, 3) and both.sides == ("left", None, "left", None)
    assert d == _with_extras() and d != _with_extras(sides=("right", None))
    moved = Detections.from_lists(
        d.boxes,
        d.scores,
        d.class_ids,
        d.labels,
        keypoints=d.keypoints + 1,
        keypoint_names=d.keypoint_names,
        sides=d.sides,
        side_scores=d.side_scores,
    )
    assert d != moved and d != d.select([0, 1]).clip(5, 5)
    with pytest.raises(DetectionsError, match="different keypoints"):
        Detections.concat([d, dets((0, 0, 1, 1))])


def test_clip_clips_keypoints_into_the_frame_and_keeps_the_third_value() -> None:
    d = Detections.from_lists([[-5, -5, 50, 50]], [0.9], [0], ["hand"], keypoints=[[[-3, 60, -7], [4, 5, 6]]],
                              keypoint_names=["a", "b"])  # fmt: skip
    assert d.clip(20, 30).keypoints.tolist() == [[[0, 30, -7], [4, 5, 6]]]


def test_records_round_trip_and_are_unchanged_without_extras() -> None:
    d = _with_extras()
    records = d.to_records(keypoints=True)
    assert records[0]["side"] == "left" and records[0]["side_score"] == 0.8 and "side" not in records[1]
    assert records[1]["keypoints"] == [[9.0, 10.0, 11.0], [12.0, 13.0, 14.0], [15.0, 16.0, 17.0]]
    assert Detections.from_records(records, d.keypoint_names) == d
    assert "keypoints" not in d.to_records()[0]  # keypoints only when asked
    plain = dets((0.123, 1, 2, 3))
    assert (
        plain.to_records()
        == plain.to_records(keypoints=True)
        == [{"box": [0.12, 1.0, 2.0, 3.0], "score": 0.9, "class_id": 0, "label": "hand"}]
    )
