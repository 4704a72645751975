"""The Ray backend on a real local Ray with 2 CPUs: a worker killed mid-batch, every output whole.

Skipped, with the reason, where the ray package cannot be imported (``pip install '.[ray]'``;
scripts/bootstrap.sh installs it into the test environment).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.batch.index import read_index
from orchestrator.batch.progress import Progress
from orchestrator.batch.ray_backend import connect, ray_available, run_ray
from orchestrator.batch.runner import run_batch

pytestmark = pytest.mark.skipif(
    not ray_available(), reason="ray is not installed (pip install 'hands-orchestrator[ray]')"
)


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray (2 CPUs) for the module, started the way ``--ray auto`` does without RAY_ADDRESS."""
    import ray

    saved = {key: os.environ.get(key) for key in ("RAY_ADDRESS", "PYTHONPATH")}
    os.environ.pop("RAY_ADDRESS", None)
    # Ray's workers inherit it: the test plugin (batch_plugins.py, beside this file) is importable there.
    os.environ["PYTHONPATH"] = str(Path(__file__).resolve().parent)
    try:
        assert connect("auto", 2) is True
        assert ray.cluster_resources()["CPU"] == 2
        yield
    finally:
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_a_worker_killed_mid_batch_fails_only_its_input_and_a_rerun_finishes(
    local_ray: None,
    make_pipeline: Callable[..., Path],
    clips: dict[str, Path],
    plugin_path: Path,
    tmp_path: Path,
    read_output: Callable[[Path], Any],
) -> None:
    marker = tmp_path / "killed-once"
    # The narrow clip's worker kills itself (SIGKILL) at frame 6, the first time only.
    pipeline = make_pipeline(crash=f"{{width: 160, at_frame: 6, how: sigkill, once_marker: {marker}}}")
    inputs = [clips["a"], clips["narrow"], clips["b"], clips["other_a"], clips["broken"]]
    out = tmp_path / "out"

    def batch() -> Any:
        return run_batch(
            pipeline,
            inputs,
            out,
            lambda tasks: run_ray(tasks, "auto", 2),
            progress=Progress(len(inputs), enabled=False),
            check_models=False,
        )

    report = batch()
    assert marker.exists() and (report.done, report.failed) == (3, 2)
    rows = read_index(out / "index.csv")
    narrow = rows[str(clips["narrow"])]
    assert narrow.status == "failed" and narrow.error.startswith("Ray task failed:"), narrow.error
    assert "not a video OpenCV can open" in rows[str(clips["broken"])].error
    assert not list(out.glob(".*.part-*"))  # the killed worker's temporary file was swept
    assert not (out / f"{narrow.name}.jsonl").exists()
    for row in rows.values():
        if row.status == "done":
            output = out / f"{row.name}.jsonl"
            assert hashlib.sha256(output.read_bytes()).hexdigest() == row.output_sha256
            assert read_output(output)[-1]["frames"]["processed"] == row.frames

    report = batch()  # the failed inputs are retried; the narrow clip's worker survives this time
    assert (report.done, report.failed, report.skipped) == (1, 1, 3)
    narrow = read_index(out / "index.csv")[str(clips["narrow"])]
    assert narrow.status == "done" and narrow.frames == 12
    assert read_output(out / f"{narrow.name}.jsonl")[-1]["status"] == "completed"
