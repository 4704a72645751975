"""A batch from start to end: lock the folder, decide what to run, run it, keep the index.

`run_batch` is what ``python -m orchestrator batch`` calls:

1. takes ``DIR/.batch.lock`` (one batch per folder at a time; a second gets a one-line error);
2. deletes temporary outputs (``.*.jsonl.part-*``) a killed batch left behind;
3. skips each input whose index row is ``done`` with the same path, size, modification time
   and pipeline hash and whose ``.jsonl`` is still there (unless ``force``); failed inputs, new
   ones and changed ones run;
4. runs the rest on the local pool or Ray, appending each input's row to the index as it ends
   and reporting progress;
5. rewrites the index compactly, and deletes the temporary files of workers it stopped.

Example:
    >>> import tempfile
    >>> report = BatchReport(done=2, failed=1, skipped=3, frames=90, wall_s=1.0)
    >>> report.exit_status, report.total
    (1, 6)
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator.batch.fingerprint import pipeline_hash, with_threads
from orchestrator.batch.index import INDEX_NAME, IndexAppender, IndexRow, is_current, read_index, write_index
from orchestrator.batch.inputs import assign_names
from orchestrator.batch.progress import Progress
from orchestrator.batch.task import PART_SUFFIX, Task, TaskResult
from orchestrator.config import PipelineConfig
from orchestrator.errors import EXIT_FAILED, EXIT_OK, UserError

LOCK_NAME = ".batch.lock"


@dataclass(frozen=True)
class BatchReport:
    """Counts of one batch: inputs ``done`` and ``failed`` in this run, ``skipped`` (done before)."""

    done: int
    failed: int
    skipped: int
    frames: int
    wall_s: float

    @property
    def total(self) -> int:
        return self.done + self.failed + self.skipped

    @property
    def exit_status(self) -> int:
        """1 if any input failed in this run, else 0."""
        return EXIT_FAILED if self.failed else EXIT_OK


class _FolderLock:
    """An exclusive ``flock`` on ``DIR/.batch.lock``, released when the process ends in any way."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / LOCK_NAME
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise UserError(
                f"--out {out_dir}: another batch is writing to this folder ({self.path} is locked)"
            ) from None

    def release(self) -> None:
        os.close(self._fd)  # closing the descriptor releases the lock


def prepare_out_dir(out_dir: Path) -> None:
    """Create ``out_dir`` (and its parents) or raise `UserError` saying why it cannot be used."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--out {out_dir}: cannot create the folder: {exc.strerror or exc}") from exc
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise UserError(f"--out {out_dir}: cannot write in this folder (permission denied)")


def remove_parts(out_dir: Path) -> int:
    """Delete the temporary outputs in ``out_dir`` (only safe while holding its lock); returns how many."""
    count = 0
    for path in out_dir.glob(f".*.jsonl{PART_SUFFIX}*"):
        path.unlink(missing_ok=True)
        count += 1
    return count


def _row(result: TaskResult, size: int, mtime_ns: int, digest: str) -> IndexRow:
    return IndexRow(
        input=result.input,
        name=result.name,
        status=result.status,
        frames=result.frames,
        fps=round(result.fps, 3),
        relations=result.relations,
        error=result.error,
        output_sha256=result.output_sha256,
        size=size,
        mtime_ns=mtime_ns,
        pipeline_sha256=digest,
        wall_s=round(result.wall_s, 3),
    )


def _check_models(config: PipelineConfig) -> None:
    from orchestrator.modelstore import ModelStore

    store = ModelStore()
    for spec in config.detectors:
        name = getattr(spec.plugin_class, "model_name", None)
        if name:
            try:
                store.installed(name)
            except UserError as exc:
                raise UserError(f"detector '{spec.name}' ({spec.plugin}): {exc}") from exc


Backend = Callable[[Sequence[Task]], Iterator[TaskResult]]


def run_batch(
    pipeline: Path,
    inputs: Sequence[Path],
    out_dir: Path,
    backend: Backend,
    force: bool = False,
    threads_per_model: int | None = 1,
    progress: Progress | None = None,
    check_models: bool = True,
) -> BatchReport:
    """Process ``inputs`` (absolute paths) with ``pipeline`` into ``out_dir``; see the module docstring.

    ``backend(tasks)`` yields a result per task (`orchestrator.batch.local.run_local`,
    `orchestrator.batch.ray_backend.run_ray`). Raises `UserError` for a pipeline that does not
    load, an unusable or locked ``out_dir``, or an index that is not one; KeyboardInterrupt
    passes through after the workers are stopped, the finished rows kept and the temporary
    files deleted. ``check_models``: first check that every model the pipeline uses is installed
    here (`UserError` naming the detector), rather than failing every input with that error; off
    for a Ray cluster, whose nodes have their own model stores.
    """
    import time

    from orchestrator.config import load_pipeline

    start = time.monotonic()
    pipeline = pipeline.resolve()
    try:
        file_bytes = pipeline.read_bytes()
    except OSError as exc:
        raise UserError(f"{pipeline}: cannot read the pipeline: {exc.strerror or exc}") from exc
    config = with_threads(load_pipeline(pipeline), threads_per_model)
    if check_models:
        _check_models(config)
    digest = pipeline_hash(config, file_bytes)
    prepare_out_dir(out_dir)
    index_path = out_dir / INDEX_NAME
    lock = _FolderLock(out_dir)
    try:
        remove_parts(out_dir)
        rows = read_index(index_path)
        names = assign_names(inputs, {Path(key): row.name for key, row in rows.items()})
        keys: dict[str, tuple[int, int]] = {}
        tasks: list[Task] = []
        skipped = 0
        for path in inputs:
            try:
                stat = path.stat()
            except OSError:
                stat = None
            keys[str(path)] = (stat.st_size, stat.st_mtime_ns) if stat else (-1, -1)
            if not force and stat and is_current(rows.get(str(path)), *keys[str(path)], digest, out_dir):
                skipped += 1
                continue
            tasks.append(Task(str(pipeline), str(path), names[path], str(out_dir), threads_per_model))
        write_index(index_path, rows)  # compact, before appending
        progress = progress or Progress(len(inputs))
        progress.total, progress.skipped = len(inputs), skipped
        done = failed = frames = 0
        with IndexAppender(index_path) as index:
            results = backend(tasks)
            try:
                for result in results:
                    row = _row(result, *keys[result.input], digest)
                    index.append(row)
                    rows[row.input] = row
                    if result.status == "done":
                        done += 1
                        frames += result.frames
                    else:
                        failed += 1
                        # Most errors already name the file (the runtime's do); do not say it twice.
                        named = result.error if result.input in result.error else f"{result.input}: {result.error}"
                        progress.message(f"failed: {named}")
                    progress.finished(result.status, result.frames)
            finally:
                close = getattr(results, "close", None)
                if close is not None:
                    close()  # stops the workers (also on Ctrl-C) before their files are swept
                progress.close()
                remove_parts(out_dir)
        write_index(index_path, rows)
    finally:
        lock.release()
    return BatchReport(done, failed, skipped, frames, time.monotonic() - start)
