"""The local backend: a pool of worker processes, one input at a time each, that survives a worker's death.

Sized to the cores by default (`default_workers`). Each worker runs `run_task` with one thread
per model (the detectors' ``num_threads`` and OpenCV's threads set to 1), so N workers use about
N cores and do not oversubscribe the CPU; a pipeline of K detectors still runs its K detector
threads (and the reader) per worker, as ``run`` does.

Workers are started with ``spawn`` (a clean interpreter: no fork of a parent's threads or
TensorFlow state). The driver hands each idle worker one task over its own pipe and waits on
the pipes and the processes at once, so a worker that dies (a native crash, ``os._exit``, the
OOM killer) is noticed at once and known by name: its input is reported ``failed`` ("worker
process died (killed by SIGKILL) while processing this input; its last message: ..."), a fresh
worker takes its place, and the other inputs go on. A worker's stderr goes to a temporary file
(native libraries' log lines would break the progress line), whose last line that error quotes.

Workers ignore SIGINT: a Ctrl-C at the terminal reaches the whole process group, and the
driver alone decides to stop. Leaving the `run_local` generator early (Ctrl-C in the driver,
``close()``) terminates every worker (SIGTERM, then SIGKILL after a second); the caller deletes
their temporary files.

Example:
    >>> results = run_local([], workers=2)
    >>> list(results)
    []
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import tempfile
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from orchestrator.batch.task import Task, TaskResult, failed

#: Seconds a terminated worker gets before it is killed.
_TERMINATE_GRACE_S = 1.0


def default_workers() -> int:
    """The cores this process may use (its CPU affinity), at least 1.

    >>> default_workers() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _worker_main(connection: Connection, stderr_path: str) -> None:
    """A worker's loop: receive a task, send its result; ends when the driver closes the pipe.

    The worker's descriptor 2 goes to ``stderr_path``, emptied before each task: native libraries'
    lines (LiteRT's "Created TensorFlow Lite XNNPACK delegate", once per model and input) stay off
    the progress line, and if the worker dies its last line tells the driver why.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    log = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
    os.dup2(log, 2)
    # Imported now, not in the first task: an input's wall_s is its own cost, not the worker's start.
    import orchestrator.runtime  # noqa: F401
    from orchestrator.batch.task import run_task

    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        os.ftruncate(log, 0)  # O_APPEND: the next line goes to the (new) start
        connection.send(run_task(task))


def _last_line(path: str) -> str:
    """The last non-blank line of a dead worker's stderr (at most 300 characters), or ''."""
    try:
        with open(path, "rb") as file:
            file.seek(max(0, os.path.getsize(path) - 4096))
            lines = [line.strip() for line in file.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


@dataclass
class _Worker:
    process: Any
    connection: Connection
    stderr_path: str
    task: Task | None = None


def _describe_death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


def run_local(tasks: Sequence[Task], workers: int) -> Iterator[TaskResult]:
    """Run ``tasks`` on ``workers`` processes; yields each result as it arrives (not in task order).

    Raises ValueError for ``workers < 1``. Closing the generator (or an exception in the caller's
    loop, such as KeyboardInterrupt) terminates the workers.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    pending = deque(tasks)
    if not pending:
        return
    context = multiprocessing.get_context("spawn")
    pool: list[_Worker] = []
    logs = tempfile.TemporaryDirectory(prefix="batch-workers-")
    started = itertools.count()

    def start() -> _Worker:
        mine, theirs = context.Pipe()
        stderr_path = os.path.join(logs.name, f"worker-{next(started)}.stderr")
        process = context.Process(target=_worker_main, args=(theirs, stderr_path), name="batch-worker", daemon=True)
        process.start()
        theirs.close()  # the child's end: when the child dies, our end reads EOF
        return _Worker(process, mine, stderr_path)

    try:
        pool.extend(start() for _ in range(min(workers, len(pending))))
        while True:
            for worker in pool:
                if worker.task is None and pending:
                    worker.task = pending.popleft()
                    worker.connection.send(worker.task)
            busy = [worker for worker in pool if worker.task is not None]
            if not busy:
                return
            ready = set(wait([w.connection for w in busy] + [w.process.sentinel for w in busy]))
            for index, worker in enumerate(pool):
                if worker.task is None:
                    continue
                result: TaskResult | None = None
                if worker.connection in ready:
                    try:
                        result = worker.connection.recv()
                    except (EOFError, OSError):
                        result = None
                if result is None and (worker.connection in ready or worker.process.sentinel in ready):
                    worker.process.join(_TERMINATE_GRACE_S)
                    if worker.process.is_alive():  # its pipe broke but it lives on: end it
                        worker.process.kill()
                        worker.process.join()
                    reason = _describe_death(worker.process.exitcode)
                    last = _last_line(worker.stderr_path)
                    result = failed(
                        worker.task,
                        f"worker process died ({reason}) while processing this input"
                        + (f"; its last message: {last}" if last else ""),
                    )
                    worker.connection.close()
                    pool[index] = start() if pending else _Worker(worker.process, worker.connection, worker.stderr_path)
                if result is not None:
                    worker.task = None
                    yield result
    finally:
        _stop(pool)
        logs.cleanup()


def _stop(pool: list[_Worker]) -> None:
    """End every worker: close the pipes (an idle worker exits), SIGTERM the busy, SIGKILL stragglers."""
    for worker in pool:
        if worker.task is not None and worker.process.is_alive():
            worker.process.terminate()
        worker.connection.close()
    for worker in pool:
        worker.process.join(_TERMINATE_GRACE_S)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
