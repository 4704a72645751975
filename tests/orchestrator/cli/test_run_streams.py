"""``run`` with a pipeline of several sources: one events file for all streams, one-line refusals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import REPO_ROOT, make_video, run_cli, validate_records, write_pipeline


@pytest.fixture()
def station(tmp_path: Path) -> Path:
    make_video(tmp_path / "left.avi", frames=8, size=(64, 48))
    make_video(tmp_path / "right.avi", frames=5, size=(64, 48))
    (tmp_path / "broken.avi").write_bytes(b"not a video" * 50)
    return write_pipeline(
        tmp_path / "station.yaml",
        """
        version: 1
        sources: {left: left.avi, right: right.avi}
        detectors:
          hands: {plugin: testing.noop}
        outputs: {records: [detections]}
        """,
    )


def test_run_writes_every_stream_to_one_events_file(station: Path) -> None:
    events = station.with_name("events.jsonl")
    result = run_cli("run", station, "--events", events)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    validate_records(records)
    frames = {name: [r["frame"] for r in records if r.get("stream") == name and r["type"] == "detections"]
              for name in ("left", "right")}  # fmt: skip
    assert frames == {"left": list(range(8)), "right": list(range(5))}
    assert records[-1]["type"] == "summary" and "stream" not in records[-1]
    assert result.stderr.strip().splitlines()[-1].startswith("completed: 13 frames processed, 0 dropped")


def test_a_failing_stream_exits_1_after_the_others_are_written(station: Path) -> None:
    text = station.read_text(encoding="utf-8").replace("right: right.avi", "right: broken.avi")
    station.write_text(text, encoding="utf-8")
    events = station.with_name("events.jsonl")
    result = run_cli("run", station, "--events", events, "-q")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: stream right: ")
    records = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    left = [r for r in records if r.get("stream") == "left"]
    assert [r["type"] for r in left] == ["stream.start", *["detections"] * 8, "summary"]
    assert left[-1]["status"] == "completed"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--source", "left.avi"), "--source: this pipeline reads several sources (sources: left, right)"),
        (("--video-out", "out.mp4"), "--display and --video-out show one stream; this pipeline has sources:"),
    ],
)
def test_options_of_one_stream_are_refused_in_one_line(station: Path, options: tuple[str, ...], message: str) -> None:
    result = run_cli("run", station, *options, cwd=station.parent)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert result.stdout == ""


def test_sigterm_stops_every_stream_within_a_second(tmp_path: Path) -> None:
    for name in ("left", "right"):
        make_video(tmp_path / f"{name}.avi", frames=600, size=(64, 48))  # 20 s each at its own pace
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        """
        version: 1
        sources: {left: left.avi, right: right.avi}
        detectors:
          hands: {plugin: testing.noop, params: {delay_ms: 5}}
        outputs: {records: [detections]}
        runtime: {mode: realtime}
        """,
    )
    events = tmp_path / "events.jsonl"
    command = [sys.executable, "-m", "orchestrator", "run", str(pipeline), "--events", str(events), "-q"]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (events.exists() and events.stat().st_size > 1000):  # both streams are running
        assert time.monotonic() < deadline and process.poll() is None, "the run did not start"
        time.sleep(0.05)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)
    assert time.monotonic() - started < 1.5
    assert process.returncode == 143, process.stderr.read() if process.stderr else ""
    records = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    validate_records(records)
    statuses = {r.get("stream"): r["status"] for r in records if r["type"] == "summary"}
    assert statuses == {"left": "interrupted", "right": "interrupted", None: "interrupted"}
