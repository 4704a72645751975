"""The `Track` value: validation, states and records."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from trackers.errors import TrackError
from trackers.track import Track

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


# ----------------------------------------------------------------------------- side and keypoints
KP = ((12.0, 22.0, 0.5), (40.0, 70.0, -1.0))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"side": "up", "side_score": 0.5}, "'left', 'right' or None"),
        ({"side": "left"}, "known together"),
        ({"side_score": 0.5}, "known together"),
        ({"side": "left", "side_score": 1.5}, r"\[0, 1\]"),
        ({"side": "left", "side_score": True}, r"\[0, 1\]"),
        ({"label_share": 1.01}, r"label_share must be a number in \[0, 1\]"),
        ({"label_share": True}, r"label_share must be a number in \[0, 1\]"),
        ({"keypoint_names": ("a", "b")}, "need keypoints"),
        ({"keypoints_source": "observed"}, "need keypoints"),
        ({"keypoints": KP, "keypoint_names": ("a",), "keypoints_source": "observed"}, "name the 2 keypoints"),
        ({"keypoints": ((1, 2),), "keypoint_names": ("a",), "keypoints_source": "observed"}, "triples"),
        ({"keypoints": ((1, math.nan, 0),), "keypoint_names": ("a",), "keypoints_source": "observed"}, "NaN"),
        ({"keypoints": KP, "keypoint_names": ("a", "b"), "keypoints_source": "seen"}, "keypoints_source must be"),
        ({"keypoints": KP, "keypoint_names": ("a", "b")}, "keypoints_source must be"),
        (
            {"keypoints": KP, "keypoint_names": ("a", "b"), "keypoints_source": "observed",
             "box_source": "predicted", "frames_since_observed": 1, "age_frames": 1},
            "needs box_source 'observed'",
        ),
    ],
)  # fmt: skip
def test_side_and_keypoints_are_validated(fields: dict, message: str) -> None:
    with pytest.raises(TrackError, match=message):
        Track(1, (10, 20, 50, 80), 0.9, "hand", 0, **fields)


def test_side_and_keypoints_in_records_only_as_documented() -> None:
    plain = Track(1, (10, 20, 50, 80), 0.9, "hand", 0)
    assert plain.to_record() == plain.to_record(keypoints=True) and "side" not in plain.to_record()
    predicted = dict(box_source="predicted", frames_since_observed=1, age_frames=3)
    track = Track(1, (10, 20, 50, 80), 0.9, "hand", 0, side="left", side_score=0.83333, keypoints=np.array(KP),
                  keypoint_names=["a", "b"], keypoints_source="predicted", **predicted)  # fmt: skip
    assert track.keypoints == KP and track.keypoint_names == ("a", "b") and hash(track) == hash(track)
    record = track.to_record()
    assert (record["side"], record["side_score"]) == ("left", 0.8333) and "keypoints" not in record
    record = json.loads(json.dumps(track.to_record(keypoints=True)))
    assert record["keypoints"] == [[12.0, 22.0, 0.5], [40.0, 70.0, -1.0]] and record["keypoints_source"] == "predicted"


def test_label_share_in_records_only_when_known() -> None:
    track = Track(1, (10, 20, 50, 80), 0.9, "cup", 41, label_share=np.float64(0.666666))
    record = track.to_record()
    assert list(record)[:5] == ["track_id", "box", "score", "label", "label_share"]
    assert record["label_share"] == 0.6667 and type(track.label_share) is float
    assert "label_share" not in Track(1, (10, 20, 50, 80), 0.9, "hand", 0).to_record()
