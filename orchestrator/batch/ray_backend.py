"""The Ray backend: the same `run_task` as Ray tasks, one CPU each, on a cluster or a local Ray.

``--ray auto`` joins the cluster in ``RAY_ADDRESS`` if it is set, or starts a local Ray with
``--workers`` CPUs (default: the cores); ``--ray ADDRESS`` joins that cluster (``ray://host:10001``
through Ray Client, or ``host:6379`` from a node of the cluster).

What each node needs (Ray ships no files here): this project installed in the same Python with
its models pulled (``python -m orchestrator pull``: the pinned packages, once per node), and the
pipeline file, the inputs and ``--out`` at the same paths as on the driver (a shared file
system; always so on a local Ray). Workers write the outputs themselves, to a temporary name
then renamed, exactly as local workers do; the driver writes the index.

Tasks are not retried by Ray (``max_retries=0``), as a local worker's death is not: a task
whose worker dies is one ``failed`` row ("Ray task failed: ..."), the others go on, and the
next batch retries it. Each task asks for one CPU, and Ray sets ``OMP_NUM_THREADS=1`` in it;
the models get one thread each as in the local pool. Leaving `run_ray` early cancels the
tasks still running (force-killing their workers) and disconnects.

Example:
    >>> ray_available() in (True, False)
    True
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from typing import Any

from orchestrator.batch.task import Task, TaskResult, failed, one_line
from orchestrator.errors import UserError

#: How often (seconds) the driver wakes while waiting for tasks (a Ctrl-C is seen at once anyway).
_WAIT_S = 1.0


def ray_available() -> bool:
    """True if the ``ray`` package can be imported."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise UserError(
            f"--ray needs the ray package ({exc}); install it with: pip install 'hands-orchestrator[ray]'"
        ) from exc
    return ray


def connect(address: str, workers: int | None) -> bool:
    """Connect to Ray at ``address`` (``auto``: ``RAY_ADDRESS`` or a new local Ray with ``workers`` CPUs).

    Returns True if this call started Ray (and so shuts it down afterwards). Raises `UserError`
    in one line when ray is missing or the cluster cannot be reached.
    """
    ray = _import_ray()
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,  # workers' own logging would break the progress line; errors come back as results
        "logging_level": logging.ERROR,
    }
    if ray.is_initialized():
        return False
    target = os.environ.get("RAY_ADDRESS") if address == "auto" else address
    try:
        if target:
            ray.init(address=target, **options)
        else:
            ray.init(address="local", num_cpus=workers, **options)
    except Exception as exc:
        where = target or "a local Ray"
        raise UserError(f"--ray {address}: cannot start or reach {where}: {one_line(str(exc), 300)}") from exc
    return True


def run_ray(tasks: Sequence[Task], address: str, workers: int | None) -> Iterator[TaskResult]:
    """Run ``tasks`` as Ray tasks; yields each result as it arrives. See the module docstring."""
    if not tasks:
        return
    ray = _import_ray()
    from orchestrator.batch.task import run_task

    started = connect(address, workers)
    remote = ray.remote(num_cpus=1, max_retries=0)(run_task)
    refs: dict[Any, Task] = {}
    try:
        refs = {remote.remote(task): task for task in tasks}
        while refs:
            done, _ = ray.wait(list(refs), num_returns=1, timeout=_WAIT_S)
            for ref in done:
                task = refs.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    result = failed(task, f"Ray task failed: {type(exc).__name__}: {_first_line(exc)}")
                yield result
    finally:
        for ref in refs:
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()


def _first_line(exc: BaseException) -> str:
    """Ray's errors carry a multi-line report (the worker's traceback); its first line says what happened."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else "no message"
