"""The `Track` value and the `Tracker` helpers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from tracker_scenarios import dets

from detectors.detections import Detections
from detectors.params import check_params
from trackers.errors import TrackError
from trackers.track import Track
from trackers.tracker import Tracker

VALID = dict(
    track_id=3,
    box=(10.0, 20.0, 50.0, 80.0),
    score=0.9,
    label="hand",
    class_id=0,
    state="confirmed",
    box_source="predicted",
    frames_since_observed=2,
    hits=4,
    age_frames=7,
)


def test_valid_track_normalises_box_and_score() -> None:
    track = Track(**{**VALID, "box": [10, 20, 50, 80], "score": 1})
    assert track.box == (10.0, 20.0, 50.0, 80.0) and isinstance(track.box[0], float)
    assert track.score == 1.0 and isinstance(track.score, float)
    with pytest.raises(AttributeError):
        track.track_id = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"track_id": 0}, "track_id must be an integer >= 1, got 0"),
        ({"track_id": 1.0}, "track_id must be an integer >= 1, got 1.0"),
        ({"track_id": True}, "track_id must be an integer >= 1, got True"),
        ({"box": (1, 2, 3)}, "box must be 4 finite numbers"),
        ({"box": (1, 2, 3, math.nan)}, "box must be 4 finite numbers"),
        ({"box": "abcd"}, "box must be 4 numbers"),
        ({"box": (50, 20, 10, 80)}, "box must satisfy x2 >= x1 and y2 >= y1"),
        ({"box": (10, 80, 50, 20)}, "box must satisfy x2 >= x1 and y2 >= y1"),
        ({"score": 1.5}, "score must lie in [0, 1], got 1.5"),
        ({"score": -0.1}, "score must lie in [0, 1], got -0.1"),
        ({"score": math.nan}, "score must lie in [0, 1], got nan"),
        ({"score": "0.5"}, "score must be a number, got '0.5'"),
        ({"label": None}, "label must be a string, got None"),
        ({"class_id": -1}, "class_id must be an integer >= 0, got -1"),
        ({"state": "removed"}, "state must be one of tentative, confirmed, lost, got 'removed'"),
        ({"box_source": "guessed"}, "box_source must be one of observed, predicted, got 'guessed'"),
        ({"frames_since_observed": -1}, "frames_since_observed must be an integer >= 0, got -1"),
        ({"hits": 0}, "hits must be >= 1"),
        ({"age_frames": 1.5}, "age_frames must be an integer >= 0, got 1.5"),
        ({"box_source": "observed"}, "box_source 'observed' contradicts frames_since_observed=2"),
        ({"frames_since_observed": 0}, "box_source 'predicted' contradicts frames_since_observed=0"),
        ({"age_frames": 1}, "frames_since_observed=2 exceeds age_frames=1"),
    ],
)
def test_invalid_track_raises(changes: dict, message: str) -> None:
    with pytest.raises(TrackError) as info:
        Track(**{**VALID, **changes})
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_to_record_rounds_and_is_json_ready() -> None:
    track = Track(**{**VALID, "box": (10.123456, 20.005, 50.0, 80.999), "score": np.float32(0.123456789)})
    record = track.to_record()
    assert record == {
        "track_id": 3,
        "box": [10.12, 20.0, 50.0, 81.0],
        "score": 0.1235,
        "label": "hand",
        "class_id": 0,
        "state": "confirmed",
        "box_source": "predicted",
        "frames_since_observed": 2,
        "hits": 4,
        "age_frames": 7,
    }
    assert json.loads(json.dumps(record)) == record


def test_tracker_is_abstract() -> None:
    with pytest.raises(TypeError):
        Tracker()  # type: ignore[abstract]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n": 0}, "demo tracker: parameter n: value 0 is out of range: must be >= 1"),
        ({"n": 6}, "demo tracker: parameter n: value 6 is out of range: must be <= 5"),
        ({"x": 1.0}, "demo tracker: parameter x: value 1.0 is out of range: must be < 1"),
        ({"x": math.inf}, "demo tracker: parameter x: expected number, got inf, which is not finite"),
        ({"mode": "fast"}, "demo tracker: parameter mode: expected one of a, b; got 'fast'"),
        ({"other": 1}, "demo tracker: parameter other: unknown key 'other'; expected one of: mode, n, x"),
    ],
)
def test_check_params_messages(params: dict, message: str) -> None:
    schema = {
        "properties": {
            "n": {"type": "integer", "minimum": 1, "maximum": 5},
            "x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "mode": {"type": "string", "enum": ["a", "b"]},
        },
        "additionalProperties": False,
    }
    with pytest.raises(ValueError) as info:
        check_params("demo tracker", schema, params)
    assert str(info.value) == message


def test_concat_detections_keeps_order() -> None:
    a, b = dets((0, 0, 1, 1), score=0.5, label="left"), dets((2, 2, 3, 3), (4, 4, 5, 5), score=0.7, label="right")
    both = Detections.concat([a, b])
    assert both.labels == ("left", "right", "right")
    assert both.boxes[:, 0].tolist() == [0, 2, 4]
    assert Detections.concat([a]) is a
    assert len(Detections.concat([])) == 0
