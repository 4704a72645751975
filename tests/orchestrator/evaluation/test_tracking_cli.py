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


# ----------------------------------------------------------------------------- matching rule
def test_centre_rule_end_to_end_and_named_in_the_result(tmp_path: Path) -> None:
    pipeline, video, labels = _scene(tmp_path)
    by_iou = evaluate_tracking(pipeline, str(video), labels)
    by_centre = evaluate_tracking(pipeline, str(video), labels, match="centre")
    assert (by_iou["match"], by_iou["min_iou"]) == ("iou", 0.5)
    assert (by_centre["match"], by_centre["min_iou"]) == ("centre", None)
    # The scripted boxes are the labels: both rules match the same pairs here.
    for key in ("mota", "idf1", "id_switches", "misses", "false_positives", "mean_iou"):
        assert by_centre[key] == by_iou[key], key
    # The scripted tracks carry no side.
    assert (by_centre["side_accuracy"], by_centre["side_pairs"]) == (None, 0)


def test_centre_rule_with_the_detector_on_every_kth_frame(tmp_path: Path) -> None:
    pipeline, video, labels = _scene(tmp_path)
    sparse = evaluate_tracking(pipeline, str(video), labels, every_n_frames=3, match="centre")
    assert (sparse["every_n_frames"], sparse["match"]) == (3, "centre")
    assert sparse["detector_runs"] == len(range(0, FRAMES, 3))
    # The tracker's predicted boxes lag the moving hands a little: the centre rule tolerates it.
    assert sparse["idf1"] >= evaluate_tracking(pipeline, str(video), labels, every_n_frames=3)["idf1"]


def test_cli_match_option_in_json_and_text(tmp_path: Path, run_cli) -> None:
    pipeline, video, labels = _scene(tmp_path)
    base = ("eval-tracking", "--pipeline", pipeline, "--source", video, "--labels", labels)
    result = run_cli(*base, "--match", "centre", "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert (metrics["match"], metrics["min_iou"], metrics["side_accuracy"], metrics["side_pairs"]) == (
        "centre",
        None,
        None,
        0,
    )
    text = run_cli(*base, "--min-iou", "0.3")
    assert text.returncode == 0, text.stderr
    assert "match: IoU >= 0.3" in text.stdout and "side_accuracy   n/a" in text.stdout
    text = run_cli(*base, "--match", "centre", "--every-n-frames", "2")
    assert text.returncode == 0, text.stderr
    assert "detector every 2 frame(s)" in text.stdout and "match: centre within half the label diagonal" in text.stdout
    refused = run_cli(*base, "--match", "centre", "--min-iou", "0.3")
    assert refused.returncode != 0 and "--min-iou applies to --match iou only" in refused.stderr
    bad = run_cli(*base, "--match", "giou")
    assert bad.returncode != 0 and "invalid choice: 'giou'" in bad.stderr


def test_bad_match_or_gate_is_a_user_error(tmp_path: Path) -> None:
    pipeline, video, labels = _scene(tmp_path)
    with pytest.raises(UserError, match="--match must be one of iou, centre"):
        evaluate_tracking(pipeline, str(video), labels, match="center")
    with pytest.raises(UserError, match=r"--min-iou must lie in \(0, 1\]"):
        evaluate_tracking(pipeline, str(video), labels, min_iou=0.0)


# ----------------------------------------------------------------------------- sides
class _SidedRuntime:
    """Stands in for `Runtime`: tracks records whose tracks carry sides (one wrong), as the tracker will."""

    def __init__(self, config, **kwargs) -> None:
        self.config = config

    def records(self):
        for i in range(4):
            left = [100 - 2 * i, 50, 160 - 2 * i, 130]
            right = [180 + 2 * i, 60, 240 + 2 * i, 140]
            tracks = [
                {"track_id": 1, "box": left, "side": "left"},
                {"track_id": 2, "box": right, "side": "left" if i == 3 else "right"},
            ]
            yield {"type": "tracks", "frame": i, "tracks": tracks}
        name = self.config.tracker.detector
        yield {"type": "summary", "frame": 3, "frames": {"processed": 4}, "detectors": {name: {"runs": 4}}}


def test_side_accuracy_from_the_tracks_records(tmp_path: Path, monkeypatch) -> None:
    import orchestrator.runtime

    pipeline, video, labels = _scene(tmp_path)
    monkeypatch.setattr(orchestrator.runtime, "Runtime", _SidedRuntime)
    metrics = evaluate_tracking(pipeline, str(video), labels, match="centre")
    assert (metrics["frames"], metrics["idf1"], metrics["mota"]) == (4, 1.0, 1.0)
    assert (metrics["side_pairs"], metrics["side_accuracy"]) == (8, 0.875)


# ----------------------------------------------------------------------------- what runs
def test_tracked_chain_follows_detector_inputs() -> None:
    from types import SimpleNamespace

    from orchestrator.evaluation.tracking_cli import tracked_chain

    specs = {
        "palm": SimpleNamespace(name="palm"),
        "boxes": SimpleNamespace(name="boxes", input=None),
        "landmarks": SimpleNamespace(name="landmarks", input="boxes"),
        "refined": SimpleNamespace(name="refined", input={"detector": "landmarks"}),
        "objects": SimpleNamespace(name="objects"),
    }
    config = SimpleNamespace(detector=lambda name: specs[name])
    assert tracked_chain(config, "palm") == ["palm"]
    assert tracked_chain(config, "refined") == ["boxes", "landmarks", "refined"]


def test_relations_and_their_object_detector_are_left_out(tmp_path: Path) -> None:
    pipeline, video, labels = _scene(tmp_path)
    objects = write_fixture(
        tmp_path / "objects.yaml", {0: [{"box": [300, 300, 340, 340], "label": "cup"}]}, labels=("cup",)
    )
    detectors, tracker = pipeline.read_text().split("tracker:")
    with_relations = write_pipeline(
        tmp_path / "r.yaml",
        detectors
        + f"  objects: {{plugin: testing.scripted, params: {{fixture: {objects.name}}}}}\n"
        + "tracker:"
        + tracker
        + "relations:\n"
        + "  objects: {detector: objects}\n"
        + "  report:\n"
        + "    touching: {objects: any, when: {overlap: {min_iou: 0.1}}}\n",
    )
    assert evaluate_tracking(with_relations, str(video), labels) == evaluate_tracking(pipeline, str(video), labels)
