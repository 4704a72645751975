"""``orchestrator.open``: a pipeline driven with the caller's own frames gives what ``run`` gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import validate_records, write_pipeline
from helpers.scenes import scene_pipeline

import orchestrator
from detectors.detections import Detections
from detectors.detector import Detector
from orchestrator.config import load_pipeline
from orchestrator.errors import PipelineError, UserError
from orchestrator.runtime import Runtime
from orchestrator.sources import open_source


class RedProbe(Detector):
    """One box whose score is the frame's mean red level (so the channel order shows in the records)."""

    labels = ("hand",)

    def detect(self, image: np.ndarray) -> Detections:
        red = float(image[..., 0].mean()) / 255.0
        return Detections.from_lists([[10, 10, 60, 60]], [round(red, 4)], [0], ("hand",))


class FailsOnFrame1(Detector):
    labels = ("hand",)

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, image: np.ndarray) -> Detections:
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("scripted failure")
        return Detections.from_lists([[10, 10, 60, 60]], [0.9], [0], ("hand",))


FRAMES = 30


def _scene_pipeline(tmp_path: Path, objects_every: int) -> Path:
    """A hand moves onto a cup, holds it, and leaves; a bottle stands apart; objects every n-th frame."""
    hands = {}
    for i in range(FRAMES):
        x = 20 + 8 * min(i, 18) - (10 * (i - 24) if i > 24 else 0)
        hands[i] = [{"box": [x, 100, x + 60, 180], "score": 0.9, "label": "hand"}]
    objects = {
        i: [
            {"box": [170, 120, 210, 170], "score": 0.6, "label": "cup"},
            {"box": [20, 10, 60, 60], "score": 0.7, "label": "bottle"},
        ]
        for i in range(FRAMES)
    }
    relations = {
        "objects": {
            "detector": "objects",
            "tracker": {"type": "sort", "params": {"min_hits": 1, "max_age_frames": 8, "high_score": 0.3}},
        },
        "report": {
            "holding": {
                "objects": ["cup"],
                "when": {"overlap": {"min_object_covered": 0.5}},
                "enter_frames": 3,
                "exit_frames": 3,
            },
            "near": {"objects": "any", "when": {"near": {"max_gap": 0.5}}, "enter_frames": 2, "exit_frames": 4},
        },
    }
    return scene_pipeline(
        tmp_path,
        hands,
        objects,
        relations,
        frames=FRAMES,
        objects_every=objects_every,
        object_labels=("cup", "bottle"),
        records=("detections", "tracks"),
    )


def _frames(uri: str) -> list[tuple[np.ndarray, float]]:
    source = open_source(uri)
    frames = []
    while (item := source.read()) is not None:
        frames.append(item)
    source.close()
    return frames


@pytest.mark.parametrize("objects_every", [1, 3])
def test_same_records_as_run(tmp_path: Path, objects_every: int) -> None:
    """Every record of ``run`` (deterministic) but its summary, in order, equal; relations included.

    The headers differ only in the source: the run's is the video, the embedded pipeline's ``frames``.
    """
    pipeline = _scene_pipeline(tmp_path, objects_every)
    expected = [r for r in Runtime(load_pipeline(pipeline)).records() if r["type"] != "summary"]
    records: list[dict] = []
    with orchestrator.open(pipeline) as pipe:
        assert pipe.header is None  # no frame yet
        for bgr, time_s in _frames(str(tmp_path / "clip.avi")):
            scene, produced = pipe.process(bgr, time_s, channel_order="bgr")
            assert scene.frame_index == pipe.frames_processed - 1
            records += produced
        records += pipe.finish()
    validate_records(records)
    assert records[0] == pipe.header
    embedded = {"name": "frames", "kind": "frames", "fps": 30.0, "fps_stated": None, "frame_count": None}
    assert records[0]["source"] == embedded
    video = {"name": "clip.avi", "kind": "video", "fps_stated": 30.0, "frame_count": FRAMES}
    assert expected[0]["source"] == {**embedded, **video}
    assert [{**r, "source": None} for r in records[:1]] == [{**r, "source": None} for r in expected[:1]]
    assert records[1:] == expected[1:]
    assert {"relation.start", "relation.end", "tracks", "detections"} <= {r["type"] for r in records}


def _probe_pipeline(tmp_path: Path, plugin: str, extra: str = "") -> Path:
    return write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        detectors:
          hands: {{plugin: "{plugin}"{extra}}}
        tracker: {{type: sort, detector: hands, params: {{min_hits: 1}}}}
        outputs: {{records: [detections, tracks]}}
        """,
    )


def test_rgb_and_bgr_frames_give_the_same_records(tmp_path: Path) -> None:
    pipeline = _probe_pipeline(tmp_path, f"{__name__}:RedProbe")
    rgb = np.zeros((120, 160, 3), np.uint8)
    rgb[..., 0] = 200  # red
    with orchestrator.open(pipeline) as a, orchestrator.open(pipeline) as b:
        _, from_rgb = a.process(rgb, 0.0)
        _, from_bgr = b.process(np.ascontiguousarray(rgb[..., ::-1]), 0.0, channel_order="bgr")
    assert from_rgb == from_bgr
    assert [r["type"] for r in from_rgb] == ["stream.start", "detections", "tracks"]
    assert (from_rgb[0]["width"], from_rgb[0]["height"]) == (160, 120)
    assert from_rgb[1]["detections"][0]["score"] == pytest.approx(200 / 255, abs=1e-3)


def test_default_times_follow_the_pipeline_fps(tmp_path: Path) -> None:
    pipeline = _probe_pipeline(tmp_path, f"{__name__}:RedProbe")
    with orchestrator.open(pipeline) as pipe:
        times = [pipe.process(np.zeros((40, 40, 3), np.uint8))[1][-1]["time"] for _ in range(3)]
    assert times == [0.0, round(1 / 30, 6), round(2 / 30, 6)]  # records carry times to the microsecond


def test_caller_buffer_reused_does_not_change_what_was_processed(tmp_path: Path) -> None:
    pipeline = _probe_pipeline(tmp_path, f"{__name__}:RedProbe")
    buffer = np.zeros((40, 40, 3), np.uint8)
    with orchestrator.open(pipeline) as pipe:
        scene, _ = pipe.process(buffer, 0.0)
        buffer[...] = 255
    assert scene.detections["hands"].scores[0] == 0.0


@pytest.mark.parametrize(
    ("image", "kwargs", "message"),
    [
        ([[0]], {}, "process: image must be a uint8 numpy array (H, W, 3), got list"),
        (
            np.zeros((4, 4), np.uint8),
            {},
            "process: image must be a uint8 numpy array (H, W, 3), got uint8 array (4, 4)",
        ),
        (np.zeros((4, 4, 3), np.float32), {}, "got float32 array (4, 4, 3)"),
        (np.zeros((0, 4, 3), np.uint8), {}, "process: image is empty: (0, 4, 3)"),
        (np.zeros((4, 4, 3), np.uint8), {"time_s": float("nan")}, "process: time_s must be a finite number"),
        (np.zeros((4, 4, 3), np.uint8), {"time_s": "1"}, "process: time_s must be a finite number of seconds, got '1'"),
        (np.zeros((4, 4, 3), np.uint8), {"channel_order": "rbg"}, "channel_order must be one of ['rgb', 'bgr']"),
    ],
)
def test_bad_frames_are_one_line_user_errors(tmp_path: Path, image, kwargs: dict, message: str) -> None:
    pipeline = _probe_pipeline(tmp_path, f"{__name__}:RedProbe")
    with orchestrator.open(pipeline) as pipe, pytest.raises(UserError) as info:
        pipe.process(image, **kwargs)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_time_must_not_go_back_and_closed_pipeline_refuses(tmp_path: Path) -> None:
    pipeline = _probe_pipeline(tmp_path, f"{__name__}:RedProbe")
    frame = np.zeros((8, 8, 3), np.uint8)
    pipe = orchestrator.open(pipeline)
    pipe.process(frame, 1.0)
    with pytest.raises(UserError, match=r"time_s 0.5 is before the previous frame's 1.0"):
        pipe.process(frame, 0.5)
    assert pipe.finish() == []  # no relations declared
    with pytest.raises(UserError, match="the pipeline is closed"):
        pipe.process(frame, 2.0)


@pytest.mark.parametrize("on_error", ["stop", "skip"])
def test_detector_failure(tmp_path: Path, on_error: str) -> None:
    pipeline = _probe_pipeline(tmp_path, f"{__name__}:FailsOnFrame1", f", on_error: {on_error}")
    frame = np.zeros((100, 100, 3), np.uint8)
    with orchestrator.open(pipeline) as pipe:
        pipe.process(frame)
        if on_error == "stop":
            with pytest.raises(PipelineError, match=r"detector 'hands' \(.*FailsOnFrame1\) failed on frame 1: Runt"):
                pipe.process(frame)
            return
        _, records = pipe.process(frame)
        assert pipe.errors == {"hands": 1}
        assert [r["detections"] for r in records if r["type"] == "detections"] == [[]]
        _, records = pipe.process(frame)
        assert len(next(r for r in records if r["type"] == "detections")["detections"]) == 1


def test_missing_pipeline_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"nope\.yaml"):
        orchestrator.open(tmp_path / "nope.yaml")


def test_readme_example_runs_on_a_real_clip(tmp_path: Path, real_models: Path) -> None:
    """The README's "Your own frames" example, as written, on the real clip and models."""
    import re
    import subprocess
    import sys

    from helpers import REPO_ROOT, shared_path

    clip = shared_path("data/egodex/add_remove_lid_0.mp4")
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- example-embedding -->\n```python\n(.*?)```", readme, re.S)
    assert match, "README.md has no example-embedding block"
    script = tmp_path / "embed.py"
    script.write_text(match.group(1).replace("../shared/data/egodex/add_remove_lid_0.mp4", str(clip)))
    result = subprocess.run(
        [sys.executable, str(script)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["0", "1", "2", "3", "4"]
    assert all("('right', 1)" in line for line in lines), lines  # the wearer's right hand, one track throughout


def test_run_takes_the_callers_frames(tmp_path: Path) -> None:
    """``orchestrator.run(pipeline, source=iterable)``: arrays, pairs with times, a generator, an (N, H, W, 3) array."""
    pipeline = _probe_pipeline(tmp_path, f"{__name__}:RedProbe")
    red = np.zeros((60, 80, 3), np.uint8)
    red[..., 0] = 255
    records = list(orchestrator.run(pipeline, source=[red, (red, 0.5), (red, 0.75)]))
    summary = records[-1]
    assert summary["status"] == "completed" and summary["frames"]["processed"] == 3 and summary["source"] == "frames"
    detections = [r for r in records if r["type"] == "detections"]
    assert [r["time"] for r in detections] == [0.0, 0.5, 0.75]
    assert all(r["detections"][0]["score"] == 1.0 for r in detections)  # RGB in: the red channel is red
    stack = np.stack([red] * 4)
    assert orchestrator.run(pipeline, source=stack, callback=lambda r: None)["frames"]["processed"] == 4
    generated = (red for _ in range(5))
    assert orchestrator.run(pipeline, source=generated, callback=lambda r: None)["frames"]["processed"] == 5


def test_run_on_a_bad_item_processes_the_frames_before_it_and_says_which(tmp_path: Path) -> None:
    pipeline = _probe_pipeline(tmp_path, f"{__name__}:RedProbe")
    frame = np.zeros((60, 80, 3), np.uint8)
    records: list[dict] = []
    with pytest.raises(PipelineError, match=r"frames: item 2: expected a uint8 numpy array \(H, W, 3\)"):
        for record in orchestrator.run(pipeline, source=[frame, frame, frame.astype(np.float32), frame]):
            records.append(record)
    assert records[-1]["status"] == "error" and records[-1]["frames"]["processed"] == 2
