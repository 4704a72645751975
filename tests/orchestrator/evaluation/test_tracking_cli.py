"""``eval-tracking`` end to end on a synthetic labelled clip (offline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import make_video, write_fixture, write_pipeline

from orchestrator.errors import UserError
from orchestrator.evaluation.tracking_cli import evaluate_tracking

FRAMES = 40


def _scene(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two hands moving apart; the detector misses every 5th frame and adds one spurious box."""
    video = make_video(tmp_path / "clip.avi", frames=FRAMES)
    rows = ["frame,hand,xmin,ymin,xmax,ymax,joint_confidence,visible_fraction"]
    detections: dict[int, list[dict[str, object]]] = {}
    for i in range(FRAMES):
        left = [100 - 2 * i, 50, 160 - 2 * i, 130]
        right = [180 + 2 * i, 60, 240 + 2 * i, 140]
        rows += [f"{i},left,{','.join(map(str, left))},0.9,1", f"{i},right,{','.join(map(str, right))},0.9,1"]
        if i % 5 != 4:
            detections[i] = [{"box": left}, {"box": right}]
    detections[7] = [*detections[7], {"box": [10, 200, 40, 230]}]
    labels = tmp_path / "hands.csv"
    labels.write_text("\n".join(rows) + "\n")
    fixture = write_fixture(tmp_path / "boxes.yaml", detections)
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        detectors:
          hands: {{plugin: testing.scripted, params: {{fixture: {fixture.name}}}}}
        tracker: {{type: sort, detector: hands, params: {{min_hits: 2, max_age_frames: 10}}}}
        """,
    )
    return pipeline, video, labels


def test_tracker_beats_raw_detections(tmp_path: Path) -> None:
    pipeline, video, labels = _scene(tmp_path)
    tracked = evaluate_tracking(pipeline, str(video), labels)
    raw = evaluate_tracking(pipeline, str(video), labels, tracker="none")
    assert tracked["frames"] == raw["frames"] == FRAMES
    assert tracked["tracker"] == "sort" and raw["tracker"] == "none"
    # The tracker fills every missed frame; the baseline loses both hands there and renumbers them.
    assert tracked["misses"] < raw["misses"]
    assert tracked["idf1"] > raw["idf1"]
    assert tracked["id_switches"] == 0
    assert tracked["mota"] > 0.9


def test_every_n_frames_override(tmp_path: Path) -> None:
    pipeline, video, labels = _scene(tmp_path)
    sparse = evaluate_tracking(pipeline, str(video), labels, every_n_frames=3)
    assert sparse["every_n_frames"] == 3
    assert sparse["detector_runs"] == len(range(0, FRAMES, 3))
    assert sparse["idf1"] > 0.8


def test_cli_json_keys(tmp_path: Path, run_cli) -> None:
    pipeline, video, labels = _scene(tmp_path)
    result = run_cli("eval-tracking", "--pipeline", pipeline, "--source", video, "--labels", labels, "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert {"mota", "idf1", "id_switches", "mostly_tracked", "mostly_lost", "mean_iou", "frames"} <= set(metrics)


def test_pipeline_without_tracker_is_refused(tmp_path: Path) -> None:
    _, video, labels = _scene(tmp_path)
    pipeline = write_pipeline(tmp_path / "q.yaml", "version: 1\ndetectors:\n  a: {plugin: testing.noop}\n")
    with pytest.raises(UserError, match="no tracker"):
        evaluate_tracking(pipeline, str(video), labels)


# ----------------------------------------------------------------------------- fair baseline
def _low_score_scene(tmp_path: Path, tracker_params: str) -> tuple[Path, Path, Path]:
    """One hand detected on every frame at score 0.3: below the baseline's own default bar (0.5)."""
    video = make_video(tmp_path / "clip.avi", frames=FRAMES)
    rows = ["frame,hand,xmin,ymin,xmax,ymax"]
    detections: dict[int, list[dict[str, object]]] = {}
    for i in range(FRAMES):
        box = [100 + 2 * i, 50, 160 + 2 * i, 130]
        rows.append(f"{i},left,{','.join(map(str, box))}")
        detections[i] = [{"box": box, "score": 0.3}]
    labels = tmp_path / "hands.csv"
    labels.write_text("\n".join(rows) + "\n")
    fixture = write_fixture(tmp_path / "boxes.yaml", detections)
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        detectors:
          hands: {{plugin: testing.scripted, params: {{fixture: {fixture.name}}}}}
        tracker: {{type: sort, detector: hands, params: {tracker_params}}}
        """,
    )
    return pipeline, video, labels


def test_baseline_uses_the_trackers_score_bar_and_gate(tmp_path: Path) -> None:
    pipeline, video, labels = _low_score_scene(tmp_path, "{high_score: 0.25, low_score: 0.1, min_iou: 0.35}")
    raw = evaluate_tracking(pipeline, str(video), labels, tracker="none")
    assert raw["tracker_params"] == {"min_score": 0.25, "min_iou": 0.35, "class_aware": False}
    # The 0.3 detections clear the tracker's bar for starting tracks, so the baseline reports them too.
    assert raw["misses"] == 0 and raw["idf1"] == 1.0
    tracked = evaluate_tracking(pipeline, str(video), labels)
    assert tracked["tracker"] == "sort" and tracked["tracker_params"]["high_score"] == 0.25


def test_baseline_takes_the_trackers_defaults_for_what_the_pipeline_leaves_out(tmp_path: Path) -> None:
    from trackers.sort import SortTracker

    pipeline, video, labels = _low_score_scene(tmp_path, "{min_hits: 2}")
    raw = evaluate_tracking(pipeline, str(video), labels, tracker="none")
    defaults = SortTracker.params_schema["properties"]
    assert raw["tracker_params"] == {
        "min_score": defaults["high_score"]["default"],
        "min_iou": defaults["min_iou"]["default"],
        "class_aware": defaults["class_aware"]["default"],
    }
    # 0.3 is under the default high_score (0.5): neither the tracker nor the baseline reports the hand.
    assert raw["misses"] == FRAMES
    assert evaluate_tracking(pipeline, str(video), labels)["misses"] == FRAMES


def test_baseline_params_copies_only_what_the_tracker_has() -> None:
    from orchestrator.evaluation.tracking_cli import baseline_params
    from trackers.sort import SortTracker

    assert baseline_params(SortTracker, {"high_score": 0.3, "min_iou": 0.25, "class_aware": True}) == {
        "min_score": 0.3,
        "min_iou": 0.25,
        "class_aware": True,
    }
    # A tracker without those parameters leaves the baseline with its own defaults.
    assert baseline_params(object, {"anything": 1}) == {}
