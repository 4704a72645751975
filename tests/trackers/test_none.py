"""The no-tracking baseline (`trackers.none.NoTracker`)."""

from __future__ import annotations

from helpers.tracker_scenarios import dets

from detectors.detections import Detections
from trackers.none import NoTracker


# ----------------------------------------------------------------------------- NoTracker baseline
def test_no_tracker_reports_raw_detections_with_carried_ids() -> None:
    tracker = NoTracker(min_score=0.5)
    a0, b0 = (100, 100, 200, 200), (600, 100, 700, 200)
    out0 = tracker.update(0, [(0, dets(a0, b0, score=[0.9, 0.8]))])
    assert [(t.track_id, t.box) for t in out0] == [(1, a0), (2, b0)]
    assert tracker.update(1) == ()  # no result for this frame: nothing reported
    a2, c2 = (110, 100, 210, 200), (1000, 500, 1100, 600)
    out2 = tracker.update(2, [(2, dets(c2, a2, (0, 0, 5, 5), score=[0.9, 0.9, 0.2]))])
    assert [(t.track_id, t.box, t.hits, t.age_frames) for t in out2] == [(1, a2, 2, 2), (3, c2, 1, 0)]
    assert tracker.update(3, [(1, dets(a2))]) == ()  # late: never shown as current
    assert tracker.late_dropped == 1


def test_none_tracker_carries_sides_and_keypoints_of_its_detections() -> None:
    detections = Detections.from_lists(
        [[0, 0, 50, 50], [100, 0, 150, 50], [200, 0, 250, 50]], [0.9, 0.8, 0.2], [0, 0, 0], ["hand"] * 3,
        sides=["left", None, "right"], side_scores=[0.7, None, 0.9],
        keypoints=[[[1, 2, 3]], [[101, 2, 3]], [[201, 2, 3]]], keypoint_names=["wrist"],
    )  # fmt: skip
    first, second = NoTracker().update(0, [(0, detections)])  # the third is below min_score
    assert (first.side, first.side_score, second.side, second.side_score) == ("left", 0.7, None, None)
    assert first.keypoints == ((1.0, 2.0, 3.0),) and second.keypoints == ((101.0, 2.0, 3.0),)
    assert str(first.keypoints_source) == "observed" and first.keypoint_names == ("wrist",)
