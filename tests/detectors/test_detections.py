"""The `Detections` value: construction checks and adapters."""

from __future__ import annotations

from helpers.tracker_scenarios import dets

from detectors.detections import Detections


def test_concat_detections_keeps_order() -> None:
    a, b = dets((0, 0, 1, 1), score=0.5, label="left"), dets((2, 2, 3, 3), (4, 4, 5, 5), score=0.7, label="right")
    both = Detections.concat([a, b])
    assert both.labels == ("left", "right", "right")
    assert both.boxes[:, 0].tolist() == [0, 2, 4]
    assert Detections.concat([a]) is a
    assert len(Detections.concat([])) == 0
