"""A real events file for the export tests: scripted hands (with sides) and objects through the
whole pipeline (SORT tracks, relations, detections and tracks records), written by ``run --events``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import run_cli
from helpers.scenes import scene_pipeline

FRAMES = 40


@dataclass(frozen=True)
class ScriptedRun:
    pipeline: Path
    video: Path
    events: Path


def _hand(x: float, side: str, score: float = 0.9) -> dict[str, Any]:
    return {"box": [x, 100, x + 60, 180], "score": score, "label": "hand", "side": side, "side_score": 0.8}


def _boxes() -> tuple[dict[int, list[dict[str, Any]]], dict[int, list[dict[str, Any]]]]:
    """The left hand moves onto a cup and holds it from frame 20; the right hand stays on a bottle
    (missed on every 7th frame, which its track bridges); the cup is not detected on frames 30-31."""
    hands: dict[int, list[dict[str, Any]]] = {}
    objects: dict[int, list[dict[str, Any]]] = {}
    for i in range(FRAMES):
        left = _hand(20 + 8 * min(i, 20), "left")
        hands[i] = [left] if i % 7 == 6 else [left, _hand(240, "right", 0.8)]
        cup = {"box": [190, 120, 230, 170], "score": 0.6, "label": "cup"}
        bottle = {"box": [250, 110, 280, 170], "score": 0.7, "label": "bottle"}
        objects[i] = [bottle] if i in (30, 31) else [cup, bottle]
    return hands, objects


@pytest.fixture(scope="module")
def scripted_run(tmp_path_factory: pytest.TempPathFactory) -> ScriptedRun:
    folder = tmp_path_factory.mktemp("scripted_run")
    hands, objects = _boxes()
    # Written here, not by scene_pipeline (helpers.write_fixture): the hands carry sides, which it leaves out.
    (folder / "hands.yaml").write_text(yaml.safe_dump({"labels": ["hand"], "frames": hands}), encoding="utf-8")
    objects_fixture = {"labels": ["person", "cup", "bottle"], "frames": objects}
    (folder / "objects.yaml").write_text(yaml.safe_dump(objects_fixture), encoding="utf-8")
    relations = {
        "objects": {
            "detector": "objects",
            "tracker": {"type": "sort", "params": {"class_aware": True, "min_hits": 1, "max_age_frames": 8}},
        },
        "report": {
            "holding": {
                "objects": ["cup", "bottle"],
                "when": {"overlap": {"min_object_covered": 0.5}},
                "enter_frames": 3,
                "exit_frames": 3,
            }
        },
    }
    pipeline = scene_pipeline(folder, None, None, relations, frames=FRAMES, records=("detections", "tracks"))
    video = folder / "clip.avi"
    events = folder / "events.jsonl"
    result = run_cli("run", pipeline, "--events", events, "-q")
    assert result.returncode == 0, result.stderr
    return ScriptedRun(pipeline, video, events)
