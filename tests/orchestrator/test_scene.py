"""The `Scene` value, and the scenes `SceneBuilder` produces from detector results."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pytest
from helpers.records import validate_records

from detectors.detections import Detections
from orchestrator.config import load_pipeline
from orchestrator.events import RecordStream
from orchestrator.relations.engine import RelationEngine
from orchestrator.relations.predicates import Overlap
from orchestrator.relations.spec import ObjectsSpec, RelationSpec, RelationsSpec
from orchestrator.scene import ActiveRelation, Scene
from orchestrator.scene_builder import DetectorResult, SceneBuilder
from trackers.track import Track

HAND = Track(1, (0, 0, 10, 10), 0.9, "hand", 0)
CUP = Track(7, (5, 0, 15, 10), 0.8, "cup", 41)


def test_scene_is_frozen_and_keeps_copies() -> None:
    staleness = {"hands": 0}
    dets = {"hands": Detections.from_lists([[0, 0, 10, 10]], [0.9], [0], ["hand"])}
    hands = [HAND]
    scene = Scene(3, 0.1, (320, 240), hands=hands, objects=(CUP,), detections=dets, staleness_frames=staleness)
    hands.append(CUP)
    staleness["objects"] = 4
    assert scene.hands == (HAND,) and dict(scene.staleness_frames) == {"hands": 0}
    with pytest.raises(FrozenInstanceError):
        scene.frame_index = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        scene.staleness_frames["objects"] = 1  # type: ignore[index]
    assert list(scene.detections) == ["hands"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frame_index": -1}, "frame_index"),
        ({"frame_index": True}, "frame_index"),
        ({"time_s": float("nan")}, "time_s"),
        ({"frame_size": (0, 240)}, "frame_size"),
        ({"frame_size": (320,)}, "frame_size"),
        ({"frame_size": (320.0, 240)}, "frame_size"),
    ],
)
def test_scene_rejects_bad_fields(kwargs: dict, message: str) -> None:
    fields = {"frame_index": 0, "time_s": 0.0, "frame_size": (320, 240)} | kwargs
    with pytest.raises(ValueError, match=message):
        Scene(**fields)


def test_a_relation_must_refer_to_tracks_of_its_frame() -> None:
    relation = ActiveRelation("holding", HAND, CUP)
    assert (relation.hand_id, relation.object_id) == (1, 7)
    Scene(0, 0.0, (320, 240), hands=(HAND,), objects=(CUP,), relations=(relation,))
    with pytest.raises(ValueError, match="hand 1 and object 7"):
        Scene(0, 0.0, (320, 240), hands=(HAND,), relations=(relation,))
    with pytest.raises(ValueError, match="non-empty"):
        ActiveRelation("", HAND, CUP)
    with pytest.raises(ValueError, match="Track values"):
        ActiveRelation("holding", 1, CUP)  # type: ignore[arg-type]


def test_engine_reports_active_relations_with_this_frames_tracks() -> None:
    spec = RelationsSpec(ObjectsSpec("objects"), (RelationSpec("touching", Overlap(min_iou=0.1), enter_frames=1),))
    engine = RelationEngine(spec, fps=10)
    assert engine.active() == ()
    engine.update(0, 0.0, [HAND], [CUP])
    moved = Track(1, (1, 0, 11, 10), 0.9, "hand", 0)
    engine.update(1, 0.1, [moved], [CUP])
    (relation,) = engine.active()
    assert relation.hand_track is moved and relation.object_track is CUP  # this frame's boxes, not the onset's
    engine.finish(1, 0.1)
    assert engine.active() == ()


def test_scene_builder_produces_one_scene_per_frame(tmp_path: Path) -> None:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        "version: 1\n"
        "detectors:\n  hands: {plugin: testing.noop}\n  objects: {plugin: testing.noop}\n"
        "tracker: {type: sort, detector: hands, params: {min_hits: 1}}\n"
    )
    config = load_pipeline(pipeline)
    builder = SceneBuilder(config, emit={"tracks"}, fps=30.0)
    assert builder.scene is None
    dets = Detections.from_lists([[10, 10, 50, 40]], [0.9], [0], ["hand"])  # inside the 64x48 frame
    records = builder.step(0, 0.0, (64, 48), [DetectorResult("hands", 0, 0.0, dets, 1.0)])
    scene = builder.scene
    assert [r.type for r in records] == ["tracks"]
    assert (scene.frame_index, scene.frame_size, len(scene.hands)) == (0, (64, 48), 1)
    assert dict(scene.staleness_frames) == {"hands": 0, "objects": 1}
    assert list(scene.detections) == ["hands"] and np.array_equal(scene.detections["hands"].boxes, dets.boxes)
    assert builder.record_late([DetectorResult("objects", 0, 0.0, Detections.empty(), 1.0)]) == []
    builder.step(1, 1 / 30, (64, 48), [])
    assert dict(builder.scene.staleness_frames) == {"hands": 1, "objects": 1}


@pytest.mark.parametrize(
    ("records", "keypoints_written"),
    [(["detections", "tracks"], False), (["detections", "tracks", "keypoints"], True)],
)
def test_records_carry_sides_always_and_keypoints_when_asked(
    tmp_path: Path, records: list[str], keypoints_written: bool
) -> None:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        "version: 1\ndetectors:\n  hands: {plugin: testing.noop}\n"
        "tracker: {type: sort, detector: hands, params: {min_hits: 1}}\n"
        f"outputs: {{records: [{', '.join(records)}]}}\n"
    )
    config = load_pipeline(pipeline)
    builder = SceneBuilder(config, emit=config.outputs.records, fps=30.0)
    dets = Detections.from_lists([[10, 10, 50, 50]], [0.9], [0], ["hand"], sides=["right"], side_scores=[0.8],
                                 keypoints=[[[12, 14, -1.5]]], keypoint_names=["wrist"])  # fmt: skip
    stream = RecordStream()
    out = [stream.stamp(r) for r in builder.step(0, 0.0, (64, 48), [DetectorResult("hands", 0, 0.0, dets, 1.0)])]
    out += [stream.stamp(r) for r in builder.step(1, 1 / 30, (64, 48), [])]  # the track's keypoints predicted
    validate_records(out)
    detection, track, predicted = out[0]["detections"][0], out[1]["tracks"][0], out[2]["tracks"][0]
    assert (detection["side"], track["side"], track["side_score"]) == ("right", "right", 1.0)
    assert ("keypoints" in detection, "keypoints" in track, "keypoint_names" in out[0]) == (keypoints_written,) * 3
    if keypoints_written:
        assert detection["keypoints"] == [[12.0, 14.0, -1.5]] and out[1]["keypoint_names"] == ["wrist"]
        assert (track["keypoints_source"], predicted["keypoints_source"]) == ("observed", "predicted")
