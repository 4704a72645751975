"""Detections to COCO JSON: pycocotools loads it and scores it AP 1.0 against itself."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, write_fixture, write_pipeline

from orchestrator.errors import UserError
from orchestrator.exports.coco import export_coco
from orchestrator.exports.events_file import read_events

# ``scripted_run`` (conftest.py): a real run's pipeline, video and events file (hands and objects detections).
ScriptedRun = Any


def _export(run: ScriptedRun, tmp_path: Path, *args: str) -> Any:
    out = tmp_path / "detections.json"
    result = run_cli("export", run.events, "--to", "coco", "--out", out, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def _ap(gt_path: Path, results: list[dict[str, Any]]) -> float:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        gt = COCO(str(gt_path))
        evaluation = COCOeval(gt, gt.loadRes(results), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return float(evaluation.stats[0])


def test_pycocotools_scores_it_against_itself(scripted_run: ScriptedRun, tmp_path: Path) -> None:
    data = _export(scripted_run, tmp_path)
    path = tmp_path / "detections.json"
    assert _ap(path, data["annotations"]) == pytest.approx(1.0)
    # The comparison can fail: every box shifted by half its width is no match at IoU 0.5 and up.
    shifted = [{**a, "bbox": [a["bbox"][0] + a["bbox"][2] / 2, *a["bbox"][1:]]} for a in data["annotations"]]
    assert _ap(path, shifted) < 0.5


def test_images_categories_and_boxes(scripted_run: ScriptedRun, tmp_path: Path) -> None:
    data = _export(scripted_run, tmp_path)
    records = read_events(scripted_run.events).of_type("detections")
    detections = [(r["frame"], d) for r in records for d in r["detections"]]
    assert data["categories"] == [{"id": 1, "name": "bottle"}, {"id": 2, "name": "cup"}, {"id": 3, "name": "hand"}]
    assert [i["id"] for i in data["images"]] == sorted({r["frame"] for r in records}) == list(range(40))
    names = {c["id"]: c["name"] for c in data["categories"]}
    assert len(data["annotations"]) == len(detections)
    for annotation, (frame, detection) in zip(data["annotations"], detections, strict=True):
        x1, y1, x2, y2 = detection["box"]
        assert annotation["image_id"] == frame and names[annotation["category_id"]] == detection["label"]
        assert annotation["bbox"] == pytest.approx([x1, y1, x2 - x1, y2 - y1])
        assert annotation["score"] == detection["score"]


def test_results_only_and_one_detector(scripted_run: ScriptedRun, tmp_path: Path) -> None:
    results = _export(scripted_run, tmp_path, "--results-only", "--detector", "objects")
    assert isinstance(results, list) and set(results[0]) == {"image_id", "category_id", "bbox", "score"}
    hands = export_coco(read_events(scripted_run.events), detector="hands")
    assert {a["detector"] for a in hands["annotations"]} == {"hands"}
    assert hands["categories"] == [{"id": 1, "name": "hand"}]
    with pytest.raises(UserError, match="no detections records of detector 'feet'"):
        export_coco(read_events(scripted_run.events), detector="feet")


def test_frame_size_from_stream_header(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"schema":"orchestrator.events/2","seq":0,"type":"stream.start","frame":0,"time":0.0,"width":640,"height":480}\n'
        '{"schema":"orchestrator.events/2","seq":1,"type":"detections","frame":0,"time":0.0,"detector":"hands",'
        '"detections":[],"file":"img_001.jpg"}\n'
    )
    data = export_coco(read_events(path))
    assert data["images"] == [
        {"id": 0, "frame": 0, "time": 0.0, "file_name": "img_001.jpg", "width": 640, "height": 480}
    ]
    assert data["annotations"] == [] and data["categories"] == []


def test_an_image_folder_run_names_each_image_and_its_size(tmp_path: Path) -> None:
    """A real run over a folder: ``file_name`` is each image's name, the size the header's; a skipped
    undecodable image leaves its frame number (and so its image id) out."""
    import cv2
    import numpy as np

    folder = tmp_path / "images"
    folder.mkdir()
    for name in ("shot_1.jpg", "shot_2.jpg", "shot_10.jpg"):
        cv2.imwrite(str(folder / name), np.zeros((48, 64, 3), np.uint8))
    (folder / "shot_3.jpg").write_bytes(b"not a jpeg")
    write_fixture(tmp_path / "boxes.yaml", {i: [{"box": [4, 4, 20, 30], "score": 0.8}] for i in range(4)})
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        """
        version: 1
        source: {uri: images}
        detectors:
          hands: {plugin: testing.scripted, params: {fixture: boxes.yaml}}
        outputs: {records: [detections]}
        """,
    )
    events = tmp_path / "events.jsonl"
    result = run_cli("run", pipeline, "--events", events, "-q")
    assert result.returncode == 0, result.stderr
    data = export_coco(read_events(events))
    assert [(i["id"], i["file_name"], i["width"], i["height"]) for i in data["images"]] == [
        (0, "shot_1.jpg", 64, 48),
        (1, "shot_2.jpg", 64, 48),
        (3, "shot_10.jpg", 64, 48),
    ]
    assert [a["image_id"] for a in data["annotations"]] == [0, 1, 3]
