"""Several streams in one process: each stream as its own run, one model per detector, failures alone."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import pytest
import yaml
from helpers import make_video, validate_records, write_pipeline
from helpers.faults import mjpeg_server
from helpers.scenes import scene_pipeline

from detectors.detections import Detections
from detectors.detector import Detector
from orchestrator.config import load_pipeline
from orchestrator.errors import PipelineError
from orchestrator.events import dumps
from orchestrator.runtime import Runtime
from orchestrator.streams import MultiRuntime

#: A hand moving onto a cup and holding it: tracks and relation records on every stream.
HANDS = {i: [{"box": [20 + 12 * min(i, 10), 100, 80 + 12 * min(i, 10), 180], "score": 0.9}] for i in range(40)}
OBJECTS = {i: [{"box": [150, 120, 190, 170], "score": 0.6, "label": "cup"}] for i in range(40)}
RELATIONS: dict[str, Any] = {
    "objects": {"detector": "objects"},
    "report": {"holding": {"when": {"overlap": {"min_object_covered": 0.5}}, "update_every_frames": 5}},
}
#: Summary fields that are timings (they differ from run to run).
TIMINGS = ("fps", "wall_time_s")


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` without what differs between runs: seq, stream, the summary's timings, the file's hash."""
    out = {key: value for key, value in record.items() if key not in ("seq", "stream", *TIMINGS)}
    if out["type"] == "summary":
        out["detectors"] = {name: {**stats, "latency_ms": None} for name, stats in out["detectors"].items()}
    if out["type"] == "stream.start":  # the header hashes the pipeline file, which lists the sources
        out["pipeline"] = {**out["pipeline"], "sha256": None}
    return out


def _image_folder(folder: Path, frames: int) -> Path:
    folder.mkdir()
    for i in range(frames):
        image = np.full((240, 320, 3), 40 + 5 * i, np.uint8)
        cv2.imwrite(str(folder / f"frame_{i:03d}.png"), image)
    return folder


def _multi_pipeline(single: Path, sources: dict[str, str], **detector_params: Any) -> Path:
    """``single`` (a scene pipeline) rewritten with ``sources:`` instead of its source."""
    data = yaml.safe_load(single.read_text(encoding="utf-8"))
    data.pop("source")
    data["sources"] = sources
    data["name"] = single.stem  # the summaries name the pipeline alike
    for name, params in detector_params.items():
        data["detectors"][name]["params"].update(params)
    return write_pipeline(single.with_name("multi.yaml"), yaml.safe_dump(data, sort_keys=False))


@pytest.fixture()
def station(tmp_path: Path) -> tuple[Path, Path]:
    """A single-source scene pipeline and the same pipeline over three streams of different lengths."""
    single = scene_pipeline(tmp_path, HANDS, OBJECTS, RELATIONS, frames=30, records=("detections", "tracks"))
    make_video(tmp_path / "short.avi", frames=17, size=(320, 240))
    _image_folder(tmp_path / "images", 12)
    data = yaml.safe_load(single.read_text(encoding="utf-8"))
    data["detectors"]["hands"]["params"]["jitter_ms"] = 4  # thread timing differs from run to run
    single.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    multi = _multi_pipeline(single, {"long": "clip.avi", "short": "short.avi", "folder": "images"})
    return single, multi


def test_each_stream_gives_the_records_of_its_own_single_source_run(station: tuple[Path, Path]) -> None:
    single, multi = station
    records = list(MultiRuntime(load_pipeline(multi)).records())
    validate_records(records)
    assert "stream" not in records[-1] and records[-1]["type"] == "summary"
    for name, uri in (("long", "clip.avi"), ("short", "short.avi"), ("folder", "images")):
        alone = list(Runtime(load_pipeline(single), source=str(single.parent / uri)).records())
        mine = [record for record in records if record.get("stream") == name]
        assert [_comparable(r) for r in mine] == [_comparable(r) for r in alone], name
        assert any(r["type"] == "relation.start" for r in mine), f"{name}: the scene has a relation"
    overall = records[-1]
    assert overall["status"] == "completed" and overall["mode"] == "deterministic"
    assert overall["frames"]["processed"] == 30 + 17 + 12
    assert overall["detectors"]["hands"]["runs"] == 30 + 17 + 12


def test_a_deterministic_run_merges_the_streams_alike_every_time(station: tuple[Path, Path]) -> None:
    _, multi = station
    runs = [list(MultiRuntime(load_pipeline(multi)).records()) for _ in range(2)]
    first, second = ("".join(dumps(_comparable(r)) for r in run) for run in runs)
    assert first == second
    # The streams are interleaved (frame by frame), not written one after the other.
    first_of_frame_1 = next(i for i, r in enumerate(runs[0]) if r["frame"] == 1)
    assert {r["stream"] for r in runs[0][:first_of_frame_1]} == {"long", "short", "folder"}


@pytest.mark.parametrize(
    ("broken", "expected_error"),
    [
        (
            "corrupt_file",
            "corrupt.avi: not a video",
        ),  # its source does not open: the stream fails before its first frame
        ("detector_failure", "scripted failure at frame 20"),  # only the long stream has a frame 20
    ],
)
def test_a_failing_stream_ends_alone_and_the_others_complete(
    station: tuple[Path, Path], broken: str, expected_error: str
) -> None:
    single, _ = station
    (single.parent / "corrupt.avi").write_bytes(b"not a video at all" * 100)
    if broken == "corrupt_file":
        multi = _multi_pipeline(single, {"short": "short.avi", "broken": "corrupt.avi", "folder": "images"})
        failed = "broken"
    else:
        multi = _multi_pipeline(
            single, {"short": "short.avi", "long": "clip.avi", "folder": "images"}, hands={"fail_at_frame": 20}
        )
        failed = "long"
    records: list[dict[str, Any]] = []
    with pytest.raises(PipelineError, match=f"stream {failed}: .*{expected_error}"):
        for record in MultiRuntime(load_pipeline(multi)).records():
            records.append(record)
    validate_records(records)
    summaries = {r.get("stream"): r for r in records if r["type"] == "summary"}
    assert summaries[failed]["status"] == "error"
    assert summaries["short"]["status"] == summaries["folder"]["status"] == "completed"
    assert summaries["short"]["frames"]["processed"] == 17 and summaries["folder"]["frames"]["processed"] == 12
    assert summaries[None]["status"] == "error" and records[-1] is summaries[None]


class CountingDetector(Detector):
    """Counts its instances and the threads that call it; answers after a short sleep (test-only)."""

    instances: ClassVar[int] = 0
    threads: ClassVar[set[str]] = set()
    frames: ClassVar[int] = 0
    batch_sizes: ClassVar[list[int]] = []
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"max_batch": {"type": "integer"}},
    }

    def __init__(self, max_batch: int = 1) -> None:
        CountingDetector.instances += 1
        self.max_batch = max_batch  # type: ignore[misc]

    def detect(self, image: np.ndarray) -> Detections:
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Any) -> list[Detections]:
        CountingDetector.threads.add(threading.current_thread().name)
        CountingDetector.frames += len(images)
        CountingDetector.batch_sizes.append(len(images))
        time.sleep(0.01)  # long enough for the other streams' frames to queue behind this call
        return [Detections.empty() for _ in images]


@pytest.mark.parametrize("max_batch", [1, 4])
def test_one_model_instance_serves_every_stream_from_one_thread(tmp_path: Path, max_batch: int) -> None:
    for name in ("a", "b", "c"):
        make_video(tmp_path / f"{name}.avi", frames=15, size=(64, 48))
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        sources: {{a: a.avi, b: b.avi, c: c.avi}}
        detectors:
          count: {{plugin: "{__name__}:CountingDetector", params: {{max_batch: {max_batch}}}}}
        """,
    )
    config = load_pipeline(pipeline)  # (validating the parameters may construct one: not counted)
    CountingDetector.instances, CountingDetector.threads, CountingDetector.frames = 0, set(), 0
    CountingDetector.batch_sizes = []
    runtime = MultiRuntime(config)
    records = list(runtime.records())
    assert CountingDetector.instances == 1
    assert CountingDetector.threads == {"model:count"}
    assert CountingDetector.frames == 45 == records[-1]["detectors"]["count"]["runs"]
    assert max(CountingDetector.batch_sizes) <= max_batch
    if max_batch > 1:  # three workers wait while the model runs: their frames go in one call
        assert max(CountingDetector.batch_sizes) > 1
    assert runtime.models["count"].frames == 45


def test_stop_ends_every_stream_within_a_second(tmp_path: Path) -> None:
    for name in ("a", "b"):
        make_video(tmp_path / f"{name}.avi", frames=300, size=(64, 48))  # 10 s each when paced
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        """
        version: 1
        sources: {a: a.avi, b: b.avi}
        detectors:
          slow: {plugin: testing.noop, params: {delay_ms: 30}}
        """,
    )
    runtime = MultiRuntime(load_pipeline(pipeline), mode="realtime")
    threading.Timer(1.0, runtime.stop).start()
    started = time.monotonic()
    records = list(runtime.records())
    ended = time.monotonic() - started
    assert ended < 2.5, f"the run took {ended:.2f} s, stopped after 1 s"
    summaries = {r.get("stream"): r for r in records if r["type"] == "summary"}
    assert {name: s["status"] for name, s in summaries.items()} == {
        "a": "interrupted",
        "b": "interrupted",
        None: "interrupted",
    }
    assert 0 < summaries["a"]["frames"]["read"] < 300


@pytest.mark.parametrize("second", ["live", "dies"])
def test_two_live_mjpeg_streams_in_realtime(tmp_path: Path, second: str) -> None:
    dies = ("--die-after", "1") if second == "dies" else ()
    with (
        mjpeg_server("--fps", "30", "--size", "160x120") as left,
        mjpeg_server("--fps", "30", "--size", "160x120", *dies) as right,
    ):
        pipeline = write_pipeline(
            tmp_path / "p.yaml",
            f"""
            version: 1
            source: {{timeout_s: 1, reconnect: {{attempts: 0}}}}
            sources: {{left: "{left}", right: "{right}"}}
            detectors:
              hands: {{plugin: testing.noop, params: {{delay_ms: 5}}}}
            outputs: {{records: [detections]}}
            """,
        )
        runtime = MultiRuntime(load_pipeline(pipeline), max_frames=60)
        records: list[dict[str, Any]] = []
        try:
            for record in runtime.records():
                records.append(record)
        except PipelineError as exc:
            assert second == "dies" and "stream right" in str(exc)
    validate_records(records)
    summaries = {r.get("stream"): r for r in records if r["type"] == "summary"}
    assert runtime.mode == "realtime" and summaries["left"]["mode"] == "realtime"
    assert summaries["left"]["status"] == "completed" and summaries["left"]["frames"]["read"] == 60
    assert "drops" in summaries["left"]["detectors"]["hands"]  # realtime drops, counted per stream
    if second == "dies":
        assert summaries["right"]["status"] == "source_lost" and summaries["right"]["frames"]["read"] < 60
        assert summaries[None]["status"] == "source_lost"
    else:
        assert summaries["right"]["status"] == "completed" and summaries[None]["status"] == "completed"
