"""``batch PIPELINE INPUT... --out DIR``: one pipeline over many videos; ``bench-batch``: its throughput.

Exit status of ``batch``: 0 when every input is done (this run or an earlier one), 1 when any
input failed (its one-line error is in ``DIR/index.csv`` and on stderr; run the same command
again to retry the failed ones), 2 for a mistake in the command (a missing input, a bad
pipeline, a locked or unwritable ``--out``), 130/143 after Ctrl-C/SIGTERM (the inputs finished
so far are kept; running the command again finishes the rest).

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="orchestrator")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["batch", "p.yaml", "a.mp4", "videos/", "--out", "out", "--workers", "2"])
    >>> args.inputs, args.out, args.workers, args.ray, args.force
    (['a.mp4', 'videos/'], 'out', 2, None, False)
    >>> parser.parse_args(["bench-batch", "p.yaml", "a.mp4", "--workers", "1,2"]).workers
    [1, 2]
"""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from typing import Any

from orchestrator.cli.console import eprint
from orchestrator.errors import EXIT_SIGINT, EXIT_SIGTERM


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def _counts(text: str) -> list[int]:
    try:
        return [_positive(part) for part in text.split(",") if part.strip()] or [_positive("")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected worker counts such as 1,2,4, got {text!r}") from None


def _backend(args: argparse.Namespace) -> Any:
    if args.ray:
        from orchestrator.batch.ray_backend import run_ray

        return lambda tasks: run_ray(tasks, args.ray, args.workers)
    from orchestrator.batch.local import default_workers, run_local

    workers = args.workers or default_workers()
    return lambda tasks: run_local(tasks, workers)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is (workers stopped, finished rows kept), exit 143."""


def _raise_terminated(_signum: int, _frame: Any) -> None:
    raise _Terminated()


def cmd_batch(args: argparse.Namespace) -> int:
    from orchestrator.batch.inputs import expand_inputs
    from orchestrator.batch.progress import Progress
    from orchestrator.batch.runner import run_batch

    inputs = expand_inputs(args.inputs)
    out_dir = Path(args.out).absolute()
    progress = Progress(len(inputs), enabled=not args.quiet)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        report = run_batch(
            Path(args.pipeline),
            inputs,
            out_dir,
            _backend(args),
            force=args.force,
            threads_per_model=args.threads_per_model,
            progress=progress,
            check_models=not args.ray,
        )
    except KeyboardInterrupt as exc:
        progress.close()
        eprint(
            f"interrupted: {progress.done} done, {progress.failed} failed this run; no partial output kept; "
            f"run the same command again to finish the rest (index in {out_dir / 'index.csv'})"
        )
        return EXIT_SIGTERM if isinstance(exc, _Terminated) else EXIT_SIGINT
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not args.quiet or report.failed:
        eprint(
            f"batch: {report.done} done, {report.failed} failed, {report.skipped} skipped (done before); "
            f"{report.frames} frames in {report.wall_s:.1f} s; outputs and index.csv in {out_dir}"
        )
    return report.exit_status


def cmd_bench_batch(args: argparse.Namespace) -> int:
    from orchestrator.batch.bench import bench_batch, markdown_table
    from orchestrator.batch.inputs import expand_inputs

    rows = bench_batch(Path(args.pipeline), expand_inputs(args.inputs), args.workers, ray=args.ray)
    print(markdown_table(rows))
    return 0


def register(subparsers: Any) -> None:
    """Add ``batch`` and ``bench-batch`` to an argparse ``subparsers`` object."""
    batch = subparsers.add_parser(
        "batch",
        help="run a pipeline over many videos into a folder: resumable, on local processes or Ray",
        description=(
            "Run PIPELINE over every INPUT (videos, folders of videos, glob patterns, or .txt/.lst/.list files "
            "of paths, one per line, # comments) into DIR/<name>.jsonl, with a row per input in DIR/index.csv. "
            "A second run skips the inputs done with the same file and pipeline, and retries failed ones. "
            "Exit 0 when all are done, 1 when any failed, 2 for a bad command, 130 after Ctrl-C."
        ),
    )
    batch.add_argument("pipeline", metavar="PIPELINE", help="pipeline YAML file")
    batch.add_argument("inputs", metavar="INPUT", nargs="+", help="video, folder, glob pattern or list file")
    batch.add_argument("--out", required=True, metavar="DIR", help="folder of the outputs and index.csv (created)")
    batch.add_argument(
        "--workers",
        type=_positive,
        metavar="N",
        help="worker processes (default: the cores; with --ray auto: its CPUs)",
    )
    batch.add_argument(
        "--ray",
        metavar="ADDRESS|auto",
        help="run on Ray: auto = the cluster in RAY_ADDRESS or a new local one; or a cluster address",
    )
    batch.add_argument("--force", action="store_true", help="redo every input, also those already done")
    batch.add_argument(
        "--threads-per-model",
        type=_positive,
        default=1,
        metavar="N",
        help="num_threads of each detector that has the parameter and whose pipeline does not set it (default 1)",
    )
    batch.add_argument("-q", "--quiet", action="store_true", help="no progress line or summary (failures still shown)")
    batch.set_defaults(handler=cmd_batch)

    bench = subparsers.add_parser(
        "bench-batch",
        help="videos per hour and frames per second of batch with 1, 2, ... workers",
        description="Run `batch` over INPUTs into temporary folders with each worker count; print a Markdown table.",
    )
    bench.add_argument("pipeline", metavar="PIPELINE")
    bench.add_argument("inputs", metavar="INPUT", nargs="+")
    bench.add_argument("--workers", type=_counts, default=[1, 2], metavar="N,N,...", help="worker counts (default 1,2)")
    bench.add_argument("--ray", metavar="ADDRESS|auto", help="also measure on Ray with each worker count (CPUs)")
    bench.set_defaults(handler=cmd_bench_batch)
