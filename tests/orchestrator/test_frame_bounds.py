"""Boxes stay in the frame: detections clipped (wholly outside: dropped, counted), tracks clipped or not reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.cli import run_cli, write_pipeline
from helpers.media import make_video
from helpers.paths import REPO_ROOT, shared_path
from helpers.records import validate_records

from detectors.detections import Detections
from orchestrator.config import load_pipeline
from orchestrator.events import RecordStream
from orchestrator.frame_bounds import detections_in_frame, track_in_frame
from orchestrator.scene_builder import DetectorResult, SceneBuilder
from trackers.track import BoxSource, Track, TrackState

W, H = 320, 240


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ((10, 20, 50, 60), (10, 20, 50, 60)),  # inside: unchanged
        ((-30, 200, 40, 260), (0, 200, 40, 240)),  # sticks out left and down: clipped
        ((290, -10, 350, 50), (290, 0, 320, 50)),  # right and up
        ((-500, -500, 820, 740), (0, 0, 320, 240)),  # larger than the frame
        ((330, 250, 530, 450), None),  # wholly beyond the far corner
        ((-80, -60, -10, -5), None),  # wholly before the near corner
        ((-30, 10, 0, 50), None),  # touches the left edge from outside
        ((320, 10, 340, 50), None),  # touches the right edge from outside
    ],
)
def test_one_detection_and_one_track_follow_the_same_rule(box: tuple, expected: tuple | None) -> None:
    detections = Detections.from_lists([box], [0.9], [0], ["hand"])
    kept, dropped = detections_in_frame(detections, (W, H))
    track = track_in_frame(Track(1, box, 0.9, "hand", 0), (W, H))
    if expected is None:
        assert (len(kept), dropped, track) == (0, 1, None)
    else:
        assert (kept.boxes.tolist(), dropped, track.box) == ([list(map(float, expected))], 0, expected)


def test_clipping_keeps_keypoints_sides_and_the_other_fields() -> None:
    detections = Detections.from_lists(
        [[-20, 10, 40, 50], [400, 10, 450, 50], [300, 200, 330, 250]],
        [0.9, 0.8, 0.7],
        [0, 0, 0],
        ["hand"] * 3,
        sides=["left", None, "right"],
        side_scores=[0.6, None, 0.9],
        keypoints=[[[-15, 12, 1]], [[410, 12, 0]], [[325, 245, -2]]],  # landmarks past the border stay as they are
        keypoint_names=["wrist"],
    )
    kept, dropped = detections_in_frame(detections, (W, H))
    assert dropped == 1
    assert kept.boxes.tolist() == [[0, 10, 40, 50], [300, 200, 320, 240]]
    assert kept.scores.tolist() == pytest.approx([0.9, 0.7])
    assert (kept.sides, kept.side_scores) == (("left", "right"), (0.6, 0.9))
    assert kept.keypoints.tolist() == [[[-15, 12, 1]], [[325, 245, -2]]]
    predicted = Track(3, (-6.4, 100, 40, 160), 0.9, "hand", 0, TrackState.LOST, BoxSource.PREDICTED, 1, 5, 9)
    clipped = track_in_frame(predicted, (W, H))
    assert clipped.box == (0.0, 100.0, 40.0, 160.0)
    assert (clipped.state, clipped.box_source, clipped.hits, clipped.age_frames) == ("lost", "predicted", 5, 9)


def _builder(tmp_path: Path, records: str = "[detections, tracks]") -> SceneBuilder:
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        detectors:
          hands: {{plugin: testing.noop}}
          objects: {{plugin: testing.noop}}
        tracker: {{type: sort, detector: hands, params: {{min_hits: 1, max_age_frames: 15}}}}
        outputs: {{records: {records}}}
        """,
    )
    config = load_pipeline(pipeline)
    return SceneBuilder(config, emit=config.outputs.records, fps=30.0)


def test_scene_builder_clips_detections_and_counts_those_outside_per_detector(tmp_path: Path) -> None:
    builder = _builder(tmp_path)
    hands = Detections.from_lists(
        [[-30, 200, 40, 260], [290, -10, 350, 50], [W + 100, H + 100, W + 300, H + 300]],
        [0.9] * 3,
        [0] * 3,
        ["hand"] * 3,
    )
    objects = Detections.from_lists([[-80, -60, -10, -5]], [0.5], [0], ["cup"])
    stream = RecordStream()
    out = [
        stream.stamp(r)
        for r in builder.step(0, 0.0, (W, H), [DetectorResult("hands", 0, 0.0, hands, 1.0),
                                               DetectorResult("objects", 0, 0.0, objects, 1.0)])
    ]  # fmt: skip
    validate_records(out)
    assert builder.boxes_dropped == {"hands": 1, "objects": 1}
    detections = {r["detector"]: [d["box"] for d in r["detections"]] for r in out if r["type"] == "detections"}
    assert detections == {"hands": [[0, 200, 40, 240], [290, 0, 320, 50]], "objects": []}
    tracks = [t["box"] for r in out if r["type"] == "tracks" for t in r["tracks"]]
    assert sorted(tracks) == [[0, 200, 40, 240], [290, 0, 320, 50]]
    assert builder.scene.detections["hands"].boxes.tolist() == [[0, 200, 40, 240], [290, 0, 320, 50]]
    # A late result is clipped to its own frame's size, not the current one's.
    builder.step(1, 1 / 30, (160, 120), [])
    late = builder.record_late([DetectorResult("hands", 0, 0.0, hands, 1.0)])
    assert [d["box"] for d in late[0].payload()["detections"]] == [[0, 200, 40, 240], [290, 0, 320, 50]]
    assert builder.boxes_dropped == {"hands": 2, "objects": 1}


def test_a_track_that_leaves_the_frame_is_clipped_then_not_reported(tmp_path: Path) -> None:
    """The hand of ../shared/cases/hand-leaves-frame: 60 px wide, 20 px/frame to the left, gone at frame 13."""
    builder = _builder(tmp_path, records="[tracks]")
    stream = RecordStream()
    out = []
    for k in range(20):
        x1, x2 = max(0, 200 - 20 * k), min(W, 260 - 20 * k)
        dets = Detections.from_lists([[x1, 100, x2, 160]], [0.9], [0], ["hand"]) if x2 > x1 else Detections.empty()
        out += [stream.stamp(r) for r in builder.step(k, k / 30, (W, H), [DetectorResult("hands", k, k / 30, dets, 1)])]
        assert all(0 <= t.box[0] <= t.box[2] <= W for t in builder.scene.hands)
    validate_records(out)
    boxes = {r["frame"]: [t["box"] for t in r["tracks"]] for r in out}
    assert boxes[11] == [[0, 100, 40, 160]]  # the filter's box reached x1 = -6.4: clipped like its detection
    assert boxes[12][0][0] == 0
    assert boxes[13] == boxes[14] == boxes[19] == []  # predicted wholly off-frame: not reported
    assert all(x1 >= 0 and x2 <= W for frame in boxes.values() for x1, _, x2, _ in frame)


def test_scene_builder_leaves_boxes_inside_the_frame_untouched(tmp_path: Path) -> None:
    builder = _builder(tmp_path)
    dets = Detections.from_lists([[10, 10, 50, 50]], [0.9], [0], ["hand"])
    builder.step(0, 0.0, (W, H), [DetectorResult("hands", 0, 0.0, dets, 1.0)])
    assert builder.scene.detections["hands"] is dets
    assert builder.boxes_dropped == {"hands": 0, "objects": 0}


_PLUGIN = '''
from detectors.detections import Detections
from detectors.detector import Detector


class OutOfFrame(Detector):
    """Boxes outside the frame: one beyond it, one larger than it, one before it (as the fault plugin)."""

    labels = ("hand",)

    def detect(self, image):
        h, w = image.shape[:2]
        boxes = [[w + 100, h + 100, w + 300, h + 300], [-500, -500, w + 500, h + 500], [-80, -60, -10, -5]]
        return Detections.from_lists(boxes, [0.9, 0.8, 0.7], [0, 0, 0], ["hand"] * 3)
'''


def test_a_plugin_returning_boxes_outside_the_frame_gives_records_inside_it(tmp_path: Path) -> None:
    (tmp_path / "outside_plugin.py").write_text(_PLUGIN)
    video = make_video(tmp_path / "clip.avi", frames=5, size=(W, H))
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        """
        version: 1
        detectors:
          bad: {plugin: "outside_plugin:OutOfFrame"}
        tracker: {type: sort, detector: bad, params: {min_hits: 1}}
        outputs: {records: [detections, tracks]}
        """,
    )
    events = tmp_path / "e.jsonl"
    result = run_cli("run", pipeline, "--source", video, "--events", events, "-q", env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in events.read_text().splitlines()]
    validate_records(records)
    boxes = [d["box"] for r in records if r["type"] == "detections" for d in r["detections"]]
    boxes += [t["box"] for r in records if r["type"] == "tracks" for t in r["tracks"]]
    assert boxes and all(box == [0, 0, W, H] for box in boxes)  # only the box larger than the frame is left
    assert len(boxes) == 10  # one detection and one track on each of the 5 frames
    assert records[-1]["detectors"]["bad"]["boxes_dropped"] == 10  # two of three boxes on each frame


@pytest.mark.parametrize("pipeline", ["pipe_exit.yaml", "pipe_outside.yaml"])
def test_case_hand_leaves_frame(tmp_path: Path, pipeline: str) -> None:
    case = shared_path("cases/hand-leaves-frame")
    events = tmp_path / "x.jsonl"
    result = run_cli("run", case / pipeline, "--events", events, "-q")
    assert result.returncode == 0, result.stderr
    check = subprocess.run(
        [sys.executable, str(case.parent / "_lib" / "check_events.py"), str(events), "--size", f"{W}x{H}",
         "--frames", "30"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    verdict = json.loads(check.stdout)
    assert verdict["ok"], verdict["problems"]
    assert verdict["boxes_outside_frame"] == 0 and verdict["boxes_checked"] > 0
