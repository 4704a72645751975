"""Outputs are written safely (issue 12, point 1): a run that cannot start leaves the events file as
it was, ``--append`` never truncates, and a write error (a full disk) is one line, exit 1, with the
file cut back to its last complete record."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import make_video, run_cli, shared_path, validate_records, write_pipeline

PREVIOUS = '{"previous":"run"}\n'


@pytest.fixture()
def noop(tmp_path: Path) -> Path:
    make_video(tmp_path / "clip.avi", frames=40)
    return write_pipeline(
        tmp_path / "p.yaml",
        """
        version: 1
        source: {uri: clip.avi}
        detectors:
          n: {plugin: testing.noop}
        outputs: {records: [detections]}
        """,
    )


def _records(path: Path) -> list[dict]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    validate_records(records)
    return records


@pytest.mark.parametrize(
    "source",
    ["missing.mp4", "cases/truncated-video/no_moov.mp4"],
    ids=["mistyped-source", "no-moov"],
)
def test_a_run_that_cannot_start_leaves_the_events_file_intact(tmp_path: Path, noop: Path, source: str) -> None:
    path = str(shared_path(source)) if source.startswith("cases/") else str(tmp_path / source)
    events = tmp_path / "events.jsonl"
    events.write_text(PREVIOUS, encoding="utf-8")
    result = run_cli("run", noop, "--source", path, "--events", events, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and path in result.stderr
    assert events.read_text(encoding="utf-8") == PREVIOUS


def test_append_keeps_what_was_there(tmp_path: Path, noop: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(PREVIOUS, encoding="utf-8")
    for _ in range(2):
        assert run_cli("run", noop, "--events", events, "--append", "-q", cwd=tmp_path).returncode == 0
    lines = events.read_text(encoding="utf-8").splitlines()
    assert lines[0] == PREVIOUS.strip()
    runs = [json.loads(line) for line in lines[1:]]
    # Each run: its header, a record per frame, its summary.
    assert [r["type"] for r in runs].count("summary") == 2 and len(runs) == 2 * (1 + 40 + 1)
    assert [r["type"] for r in runs].count("stream.start") == 2 and runs[42]["type"] == "stream.start"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("to", ["file", "stdout"])
def test_a_full_device_is_one_line_and_exit_1(tmp_path: Path, noop: Path, to: str) -> None:
    target = "/dev/full" if to == "file" else "-"
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "orchestrator", "run", str(noop), "--events", target],
            cwd=tmp_path,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1
    where = "/dev/full" if to == "file" else "stdout"
    assert result.stderr.splitlines() == [
        f"error: {where}: cannot write events: No space left on device"
        + ("; 0 records written" if to == "file" else " (0 records written)")
    ]


def test_a_full_disk_cuts_the_file_back_to_its_last_complete_record(tmp_path: Path, noop: Path) -> None:
    """A file size limit (RLIMIT_FSIZE) stands in for a full disk: writes past it fail with EFBIG, short first."""
    limit = 4000

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    events = tmp_path / "events.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator", "run", str(noop), "--events", str(events)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_file_size,
    )
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {events}: cannot write events: File too large;")
    assert lines[0].endswith("records written; the file ends at its last complete record")
    data = events.read_bytes()
    assert 0 < len(data) <= limit and data.endswith(b"\n")
    records = _records(events)  # every line whole
    assert f"; {len(records)} records written;" in lines[0]
