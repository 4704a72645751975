"""``bench-batch``: what a batch does per hour on this machine, for 1, 2, ... workers.

Each worker count runs the whole batch (``--force``) into a fresh temporary folder, timed from
the start of `run_batch` to its end: pool start-up, model loading per input and the index
included, as a user would see. Reported per row: videos per hour, frames per second (all
workers together), and the mean seconds one input took inside its worker (``wall_s`` of the
index: model loading plus the run), which is what a larger machine or a cluster multiplies.

Example:
    >>> row = BenchRow(backend="local", workers=2, videos=3, failed=0, frames=360, wall_s=30.0, mean_video_s=19.0)
    >>> print(markdown_table([row]))  # doctest: +NORMALIZE_WHITESPACE
    | backend | workers | videos | failed | frames | wall (s) | videos/hour | frames/s | s per video in a worker |
    |---|---|---|---|---|---|---|---|---|
    | local | 2 | 3 | 0 | 360 | 30.0 | 360 | 12.0 | 19.0 |
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator.batch.index import INDEX_NAME, read_index
from orchestrator.batch.progress import Progress
from orchestrator.batch.runner import run_batch


@dataclass(frozen=True)
class BenchRow:
    """One measured batch: ``videos`` done, ``failed``, ``frames`` processed, ``wall_s`` of the whole batch."""

    backend: str
    workers: int
    videos: int
    failed: int
    frames: int
    wall_s: float
    mean_video_s: float

    @property
    def videos_per_hour(self) -> float:
        return self.videos / self.wall_s * 3600 if self.wall_s > 0 else 0.0

    @property
    def frames_per_s(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0


def bench_batch(
    pipeline: Path, inputs: Sequence[Path], worker_counts: Sequence[int], ray: str | None = None
) -> list[BenchRow]:
    """A `BenchRow` per worker count, local pool (and on Ray at ``ray`` too, when given)."""
    from orchestrator.batch.local import run_local

    rows: list[BenchRow] = []
    backends: list[str] = ["local"] + (["ray"] if ray else [])
    for backend in backends:
        for workers in worker_counts:
            if backend == "ray":
                from orchestrator.batch.ray_backend import run_ray

                def run(tasks, workers=workers):  # type: ignore[no-untyped-def]
                    return run_ray(tasks, ray, workers)
            else:

                def run(tasks, workers=workers):  # type: ignore[no-untyped-def]
                    return run_local(tasks, workers)

            with tempfile.TemporaryDirectory(prefix="bench-batch-") as folder:
                report = run_batch(
                    pipeline, inputs, Path(folder), run, force=True, progress=Progress(len(inputs), enabled=False)
                )
                walls = [row.wall_s for row in read_index(Path(folder) / INDEX_NAME).values() if row.status == "done"]
            rows.append(
                BenchRow(
                    backend=backend,
                    workers=workers,
                    videos=report.done,
                    failed=report.failed,
                    frames=report.frames,
                    wall_s=report.wall_s,
                    mean_video_s=statistics.fmean(walls) if walls else 0.0,
                )
            )
    return rows


def markdown_table(rows: Sequence[BenchRow]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| backend | workers | videos | failed | frames | wall (s) | videos/hour | frames/s "
        "| s per video in a worker |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.backend} | {r.workers} | {r.videos} | {r.failed} | {r.frames} | {r.wall_s:.1f} | "
        f"{r.videos_per_hour:.0f} | {r.frames_per_s:.1f} | {r.mean_video_s:.1f} |"
        for r in rows
    ]
    return "\n".join(lines)
