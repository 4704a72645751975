"""The local pool: a worker that dies takes only its own input down; the pool goes on with a new one."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.batch.index import read_index
from orchestrator.batch.local import run_local
from orchestrator.batch.progress import Progress
from orchestrator.batch.runner import run_batch


@pytest.mark.parametrize(("how", "death"), [("exit", "exit status 3"), ("sigkill", "killed by SIGKILL")])
def test_a_worker_dying_mid_input_fails_that_input_only(
    how: str,
    death: str,
    make_pipeline: Callable[..., Path],
    clips: dict[str, Path],
    plugin_path: Path,
    tmp_path: Path,
    read_output: Callable[[Path], Any],
) -> None:
    pipeline = make_pipeline(crash=f"{{width: 160, at_frame: 6, how: {how}}}")
    # The narrow clip second, with one worker: the pool must replace the dead worker for the rest.
    inputs = [clips["a"], clips["narrow"], clips["b"], clips["other_a"]]
    out = tmp_path / "out"
    report = run_batch(
        pipeline, inputs, out, lambda tasks: run_local(tasks, workers=1), progress=Progress(4, enabled=False)
    )
    assert (report.done, report.failed, report.exit_status) == (3, 1, 1)
    rows = read_index(out / "index.csv")
    narrow = rows[str(clips["narrow"])]
    assert narrow.status == "failed"
    assert narrow.error == (
        f"worker process died ({death}) while processing this input; "
        f"its last message: batch_plugins.Crash: ending this process ({how}) at frame 6"
    )
    outputs = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    done = (clips["a"], clips["b"], clips["other_a"])
    assert outputs == sorted([f"{rows[str(p)].name}.jsonl" for p in done] + ["index.csv"])
    for key in (clips["a"], clips["b"], clips["other_a"]):
        row = rows[str(key)]
        output = out / f"{row.name}.jsonl"
        assert row.status == "done" and hashlib.sha256(output.read_bytes()).hexdigest() == row.output_sha256
        assert read_output(output)[-1]["frames"]["processed"] == row.frames
    assert not list(out.glob(".*.part-*"))  # the dead worker's temporary file was swept


def test_two_workers_share_the_inputs(
    make_pipeline: Callable[..., Path], clips: dict[str, Path], tmp_path: Path
) -> None:
    inputs = [clips["a"], clips["b"], clips["other_a"], clips["broken"]]
    results = list(run_local([_task(make_pipeline(), path, tmp_path, i) for i, path in enumerate(inputs)], workers=2))
    assert sorted((Path(r.input).name, r.status) for r in results) == [
        ("a.avi", "done"),
        ("a.avi", "done"),
        ("b.avi", "done"),
        ("broken.avi", "failed"),
    ]


def _task(pipeline: Path, video: Path, out: Path, number: int) -> Any:
    from orchestrator.batch.task import Task

    return Task(str(pipeline), str(video), f"n{number}", str(out))
