"""Tracks to ``supervision.Detections`` with ``tracker_id``: annotators and line counters follow the ids."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.detections import Detections
from trackers.errors import TrackError
from trackers.interop import tracks_to_supervision
from trackers.sort import SortTracker
from trackers.track import Track

sv = pytest.importorskip("supervision", reason="needs the optional supervision extra (pip install .[supervision])")


def _tracks() -> tuple[Track, ...]:
    return (
        Track(4, (10, 20, 50, 80), 0.9, "hand", 0, side="left", side_score=0.8),
        Track(
            9, (60, 20, 90, 80), 0.5, "hand", 0, state="lost", box_source="predicted",
            frames_since_observed=2, age_frames=5, hits=3,
        ),
    )  # fmt: skip


def test_fields() -> None:
    converted = tracks_to_supervision(_tracks())
    assert converted.tracker_id.tolist() == [4, 9]
    assert converted.xyxy.tolist() == [[10, 20, 50, 80], [60, 20, 90, 80]]
    assert converted.confidence.tolist() == pytest.approx([0.9, 0.5])
    assert converted.class_id.tolist() == [0, 0]
    assert converted.data["class_name"].tolist() == ["hand", "hand"]
    assert converted.data["state"].tolist() == ["confirmed", "lost"]
    assert converted.data["box_source"].tolist() == ["observed", "predicted"]
    assert converted.data["side"].tolist() == ["left", None] and np.isnan(converted.data["side_score"][1])


def test_track_dicts_of_a_record_give_the_same() -> None:
    from_records = tracks_to_supervision([t.to_record() for t in _tracks()])
    from_tracks = tracks_to_supervision(_tracks())
    for name in ("xyxy", "confidence", "class_id", "tracker_id"):
        np.testing.assert_array_equal(getattr(from_records, name), getattr(from_tracks, name))
    assert from_records.data.keys() == from_tracks.data.keys()


def test_no_tracks() -> None:
    converted = tracks_to_supervision([])
    assert len(converted) == 0 and converted.xyxy.shape == (0, 4) and "side" not in converted.data


@pytest.mark.parametrize(
    ("item", "message"),
    [({"track_id": 1, "box": [0, 0, 1, 1]}, "missing score, label, class_id"), ((1, 2), "got tuple")],
)
def test_refused(item: object, message: str) -> None:
    with pytest.raises(TrackError, match=message):
        tracks_to_supervision([item])  # type: ignore[list-item]


def test_line_zone_counts_sort_tracks() -> None:
    """A hand tracked by SORT across a vertical line is counted once, by its id, by supervision's LineZone."""
    tracker = SortTracker(min_hits=1)
    line = sv.LineZone(start=sv.Point(100, 0), end=sv.Point(100, 200))
    for frame in range(30):
        x = 20 + 8 * frame  # left of the line to right of it
        detections = Detections.from_lists([[x, 50, x + 30, 90]], [0.9], [0], ["hand"])
        line.trigger(tracks_to_supervision(tracker.update(frame, [(frame, detections)])))
    assert line.in_count + line.out_count == 1
