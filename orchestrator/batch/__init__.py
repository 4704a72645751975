"""Batch processing: one pipeline over many videos, resumable, on local processes or on Ray.

``python -m orchestrator batch PIPELINE INPUT... --out DIR`` (`orchestrator.cli.batch`). The parts:

* `orchestrator.batch.inputs`: videos, folders, glob patterns and list files, expanded; output names;
* `orchestrator.batch.fingerprint`: the pipeline hash of the resume key; one thread per model;
* `orchestrator.batch.index`: ``DIR/index.csv``, a row per input;
* `orchestrator.batch.task`: one input, written to a temporary name and renamed when complete;
* `orchestrator.batch.local`: the process pool that survives a worker's death;
* `orchestrator.batch.ray_backend`: the same tasks on Ray;
* `orchestrator.batch.progress`: the progress line with an ETA;
* `orchestrator.batch.runner`: `run_batch`, tying them together;
* `orchestrator.batch.bench`: ``bench-batch``, videos per hour for 1, 2, ... workers.

Example:
    >>> from orchestrator.batch import run_batch, run_local, expand_inputs       # doctest: +SKIP
    >>> videos = expand_inputs(["../shared/data/egodex"])                       # doctest: +SKIP
    >>> report = run_batch(Path("pipelines/hands_only.yaml"), videos, Path("out/egodex"),
    ...                    backend=lambda tasks: run_local(tasks, workers=2))   # doctest: +SKIP
    >>> report.done, report.failed                                              # doctest: +SKIP
    (3, 0)
"""

from orchestrator.batch.index import IndexRow, read_index
from orchestrator.batch.inputs import assign_names, expand_inputs
from orchestrator.batch.local import default_workers, run_local
from orchestrator.batch.runner import BatchReport, run_batch
from orchestrator.batch.task import Task, TaskResult, run_task

__all__ = [
    "BatchReport",
    "IndexRow",
    "Task",
    "TaskResult",
    "assign_names",
    "default_workers",
    "expand_inputs",
    "read_index",
    "run_batch",
    "run_local",
    "run_task",
]
