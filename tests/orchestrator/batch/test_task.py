"""One input: the output appears whole under its name or not at all; its hash; failures in one line."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.batch.task import Task, run_task


def _task(pipeline: Path, video: Path, out: Path, name: str = "clip") -> Task:
    return Task(str(pipeline), str(video), name, str(out))


def test_done_output_is_whole_with_its_hash(
    make_pipeline: Callable[..., Path], clips: dict[str, Path], tmp_path: Path, read_output: Callable[[Path], Any]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = run_task(_task(make_pipeline(), clips["b"], out))
    assert (result.status, result.frames, result.error) == ("done", 15, "")
    output = out / "clip.jsonl"
    assert hashlib.sha256(output.read_bytes()).hexdigest() == result.output_sha256
    records = read_output(output)
    assert records[-1]["status"] == "completed" and records[-1]["mode"] == "deterministic"
    assert os.listdir(out) == ["clip.jsonl"]  # the temporary file was renamed, nothing else left


def test_the_final_name_is_written_only_once_complete(
    make_pipeline: Callable[..., Path], clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While records are written, the final name does not exist; the temporary one does."""
    from orchestrator import events

    out = tmp_path / "out"
    out.mkdir()
    seen: list[list[str]] = []
    real = events.dumps

    def spying(record: Any) -> str:
        seen.append(sorted(os.listdir(out)))
        return real(record)

    monkeypatch.setattr(events, "dumps", spying)
    run_task(_task(make_pipeline(), clips["a"], out))
    assert len(seen) > 10
    assert all(names == [f".clip.jsonl.part-{os.getpid()}"] for names in seen[1:])
    assert os.listdir(out) == ["clip.jsonl"]


@pytest.mark.parametrize(
    ("video", "options", "error"),
    [
        ("broken", {}, "not a video OpenCV can open"),
        ("a", {"fail": True}, "detector 'hands'"),
        ("missing", {}, "missing.avi"),
    ],
)
def test_a_failure_leaves_no_output_not_even_an_older_one(
    make_pipeline: Callable[..., Path],
    clips: dict[str, Path],
    tmp_path: Path,
    video: str,
    options: dict[str, Any],
    error: str,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "clip.jsonl").write_text('{"type":"summary"}\n', encoding="utf-8")  # an earlier run's output
    pipeline = make_pipeline()
    if options.get("fail"):
        pipeline.write_text(
            pipeline.read_text(encoding="utf-8").replace("delay_ms: 0", "delay_ms: 0, fail_at_frame: 4"),
            encoding="utf-8",
        )
    path = clips.get(video, tmp_path / "missing.avi")
    result = run_task(_task(pipeline, path, out))
    assert result.status == "failed" and error in result.error and "\n" not in result.error
    assert result.output_sha256 == "" and os.listdir(out) == []
