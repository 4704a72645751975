"""One input of a batch: run the pipeline over it and write ``DIR/<name>.jsonl``, whole or not at all.

The records go to a temporary name in the same folder, ``DIR/.<name>.jsonl.part-<pid>``; only
after the summary record is written and the file synced to disk is it renamed to
``DIR/<name>.jsonl`` (a rename within one folder is atomic). A process killed mid-input leaves
at most a ``.part`` file, which the next batch in that folder deletes; the final name holds
either nothing or a complete output. An input that fails removes its temporary file and any
output an earlier run left under its name, so the folder agrees with the index.

The same function runs in a local pool worker and in a Ray task: it never raises for a problem
of the input (a broken video, a detector error); that becomes a ``failed`` `TaskResult` with one
line of error. Runs are deterministic (``mode: deterministic``), so the records (all but the
summary, which has timings) are the same whichever worker runs an input.

Example:
    >>> import tempfile
    >>> task = Task(pipeline="/no/p.yaml", input="/no/clip.mp4", name="clip", out_dir=tempfile.mkdtemp())
    >>> result = run_task(task)
    >>> result.status, result.error.startswith("/no/p.yaml")
    ('failed', True)
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

#: Temporary outputs: ``.<name>.jsonl`` + this + the writer's pid.
PART_SUFFIX = ".part-"


@dataclass(frozen=True)
class Task:
    """What a worker needs for one input; plain strings so it pickles small (Ray, multiprocessing).

    ``threads_per_model``: ``num_threads`` for every detector plugin that has the parameter and
    whose pipeline does not set it (`orchestrator.batch.fingerprint.with_threads`); None: as the pipeline says.
    """

    pipeline: str
    input: str
    name: str
    out_dir: str
    threads_per_model: int | None = 1

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or self.name.startswith("."):
            raise ValueError(f"name must be a plain, visible file stem, got {self.name!r}")
        if self.threads_per_model is not None and self.threads_per_model < 1:
            raise ValueError(f"threads_per_model must be >= 1, got {self.threads_per_model}")

    @property
    def output(self) -> Path:
        return Path(self.out_dir) / f"{self.name}.jsonl"


@dataclass(frozen=True)
class TaskResult:
    """What became of one input: ``status`` ``done`` (with ``output_sha256``) or ``failed`` (with ``error``).

    A ``done`` input whose source was truncated (a video cut short or with undecodable frames)
    says so in ``error`` (``"truncated: ..."``); it is not redone by a resumed batch.
    """

    input: str
    name: str
    status: str
    frames: int = 0
    fps: float = 0.0
    relations: int = 0
    error: str = ""
    output_sha256: str = ""
    wall_s: float = 0.0


def one_line(text: str, limit: int = 500) -> str:
    """``text`` on one line (whitespace runs collapsed), at most ``limit`` characters.

    >>> one_line("cannot open\\n  moov atom not found")
    'cannot open moov atom not found'
    """
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def failed(task: Task, error: str, wall_s: float = 0.0) -> TaskResult:
    """A failed result for ``task`` with ``error`` made one line."""
    return TaskResult(task.input, task.name, "failed", error=one_line(error) or "failed", wall_s=wall_s)


def part_path(task: Task) -> Path:
    """The temporary name this process writes ``task``'s records to."""
    return Path(task.out_dir) / f".{task.name}.jsonl{PART_SUFFIX}{os.getpid()}"


_threads_set = False


def _limit_library_threads() -> None:
    """OpenCV's decoder and resize threads: one per worker, as the models get (once per process)."""
    global _threads_set
    if not _threads_set:
        import cv2

        cv2.setNumThreads(1)
        _threads_set = True


def run_task(task: Task) -> TaskResult:
    """Process ``task``'s input; see the module docstring. Only KeyboardInterrupt and SystemExit escape."""
    from orchestrator.errors import OrchestratorError

    start = time.monotonic()
    temporary = part_path(task)
    try:
        result = _run(task, temporary, start)
    except Exception as exc:
        message = str(exc) if isinstance(exc, OrchestratorError) else f"{type(exc).__name__}: {exc}"
        result = failed(task, message, time.monotonic() - start)
    finally:
        temporary.unlink(missing_ok=True)  # renamed away when complete; otherwise partial
    if result.status != "done":
        task.output.unlink(missing_ok=True)  # an earlier run's output of an input that now fails
    return result


def _run(task: Task, temporary: Path, start: float) -> TaskResult:
    from orchestrator.batch.fingerprint import with_threads
    from orchestrator.config import load_pipeline
    from orchestrator.events import dumps
    from orchestrator.runtime import Runtime

    if task.threads_per_model is not None:
        _limit_library_threads()
    config = with_threads(load_pipeline(task.pipeline), task.threads_per_model)
    runtime = Runtime(config, source=task.input, mode="deterministic")
    digest = hashlib.sha256()
    summary = None
    relations = 0
    records = runtime.records()
    with open(temporary, "wb") as file:
        try:
            for record in records:
                data = dumps(record).encode("utf-8")
                file.write(data)
                digest.update(data)
                if record["type"] == "relation.start":
                    relations += 1
                elif record["type"] == "summary":
                    summary = record
        finally:
            records.close()
        file.flush()
        os.fsync(file.fileno())
    wall_s = time.monotonic() - start
    if summary is None:
        return failed(task, "the run ended without a summary record", wall_s)
    frames = int(summary["frames"]["processed"])
    if summary["status"] not in ("completed", "truncated"):
        return failed(task, f"{summary['status']}: {summary.get('error') or 'no error given'}", wall_s)
    os.replace(temporary, task.output)
    note = ""
    if summary["status"] == "truncated":
        # Done (every frame that decodes is in the output), but a partial video must stand out
        # in the index: the error column says so, as run's summary line does.
        counts = summary["frames"]
        expected = counts.get("expected")
        note = one_line(
            f"truncated: {frames} frames processed"
            + (f" of {expected} the container states" if expected else "")
            + (f", {counts.get('skipped', 0)} undecodable skipped" if counts.get("skipped") else "")
        )
    return TaskResult(
        task.input,
        task.name,
        "done",
        error=note,
        frames=frames,
        fps=float(summary["fps"]),
        relations=relations,
        output_sha256=digest.hexdigest(),
        wall_s=wall_s,
    )
