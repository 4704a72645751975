"""``bench-streams``: N streams of one clip in one process (models shared) against N separate processes.

For each N of ``--streams``, two runs over the same clip, deterministic mode, each launched as
child processes at the same moment so both pay the same start-up (interpreter, imports, loading):

* **one process**: a pipeline run with N sources (`orchestrator.streams.MultiRuntime`), every
  detector's model loaded once and shared by the N streams;
* **N processes**: N ``python -m orchestrator run PIPELINE --source VIDEO`` in parallel.

Reported per run: frames processed (all streams), wall time from launch to the last exit,
aggregate frames/s, and the peak resident memory of each process added up. The wall time
includes the start-up, so use a clip of a few hundred frames or more.

Example:
    $ python -m orchestrator bench-streams pipelines/hands_only.yaml \\
        --source ../shared/data/egodex/basic_pick_and_place_0.mp4 --streams 1,2,4
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from orchestrator.errors import PipelineError, UserError

#: Most streams one measurement may ask for (each is a process in the comparison).
MAX_STREAMS = 64


def parse_streams(text: str) -> tuple[int, ...]:
    """``"1,2,4"`` -> ``(1, 2, 4)``; raises `argparse.ArgumentTypeError` naming the bad value.

    >>> parse_streams("1, 2,4")
    (1, 2, 4)
    """
    counts = []
    for part in text.split(","):
        try:
            value = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected stream counts such as 1,2,4, got {part.strip()!r}") from None
        if not 1 <= value <= MAX_STREAMS:
            raise argparse.ArgumentTypeError(f"a stream count must be 1 to {MAX_STREAMS}, got {value}")
        counts.append(value)
    return tuple(counts)


def one_process_command(pipeline: str, video: str, streams: int, events: Path, max_frames: int | None) -> list[str]:
    """The child that runs ``streams`` streams of ``video`` in one process (see `_child`)."""
    limit = [] if max_frames is None else [str(max_frames)]
    return [sys.executable, "-m", "orchestrator.bench.streams", pipeline, video, str(streams), str(events), *limit]


def process_command(pipeline: str, video: str, events: Path, max_frames: int | None) -> list[str]:
    """One ``run`` of ``video``, as a user would start it for each camera."""
    limit = [] if max_frames is None else ["--max-frames", str(max_frames)]
    run = ["run", pipeline, "--source", video, "--mode", "deterministic", "--events", str(events), "-q", *limit]
    return [sys.executable, "-m", "orchestrator", *run]


def launch(commands: list[list[str]], log: Path) -> tuple[float, float]:
    """Start every command at once and wait for all: ``(wall seconds, peak RSS in MB added up)``.

    Raises `PipelineError` naming the first command that failed and its last line on stderr.
    """
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as errors:
        processes = [
            subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=errors, stdin=subprocess.DEVNULL) for c in commands
        ]
        rss_kb = 0
        failed: list[str] = []
        for process, command in zip(processes, commands, strict=True):
            _, status, usage = os.wait4(process.pid, 0)  # the child's own rusage: its peak memory
            process.returncode = os.waitstatus_to_exitcode(status)
            rss_kb += usage.ru_maxrss
            if process.returncode != 0:
                failed.append(f"{' '.join(command[2:4])} ... exited {process.returncode}")
    wall = time.perf_counter() - started
    if failed:
        lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        raise PipelineError(f"bench-streams: {failed[0]}: {lines[-1] if lines else 'no message'}")
    return wall, rss_kb / 1024.0


def frames_processed(events: Path) -> int:
    """Frames processed according to the last summary of an events file (a run's, all streams')."""
    last: dict[str, Any] = {}
    for line in events.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("type") == "summary":
            last = record
    if not last:
        raise PipelineError(f"bench-streams: {events}: no summary record")
    return int(last["frames"]["processed"])


def measure(pipeline: str, video: str, counts: tuple[int, ...], max_frames: int | None = None) -> list[dict[str, Any]]:
    """One row per run: ``streams``, ``run`` (``one process`` / ``N processes``), ``frames``,
    ``wall_s``, ``fps`` (all streams' frames over the wall time) and ``peak_rss_mb``."""
    rows = []
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="bench-streams-") as tmp:
            folder = Path(tmp)
            events = folder / "one.jsonl"
            wall, rss = launch([one_process_command(pipeline, video, count, events, max_frames)], folder / "one.log")
            rows.append(_row(count, "one process", frames_processed(events), wall, rss))
            files = [folder / f"process_{i}.jsonl" for i in range(count)]
            commands = [process_command(pipeline, video, file, max_frames) for file in files]
            wall, rss = launch(commands, folder / "processes.log")
            label = f"{count} process" + ("es" if count > 1 else "")
            rows.append(_row(count, label, sum(frames_processed(file) for file in files), wall, rss))
    return rows


def _row(streams: int, run: str, frames: int, wall_s: float, rss_mb: float) -> dict[str, Any]:
    fps = frames / wall_s if wall_s > 0 else 0.0
    return {"streams": streams, "run": run, "frames": frames, "wall_s": round(wall_s, 3), "fps": round(fps, 2),
            "peak_rss_mb": round(rss_mb, 1)}  # fmt: skip


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a fixed-width text table.

    >>> print(table([_row(2, "one process", 100, 2.0, 300.0)]))
    streams  run             frames   wall s   frames/s   peak RSS MB
          2  one process        100     2.00       50.0         300.0
    """
    lines = [f"{'streams':>7}  {'run':<14}  {'frames':>6}  {'wall s':>7}  {'frames/s':>9}  {'peak RSS MB':>12}"]
    for r in rows:
        lines.append(
            f"{r['streams']:>7}  {r['run']:<14}  {r['frames']:>6}  {r['wall_s']:>7.2f}  {r['fps']:>9.1f}"
            f"  {r['peak_rss_mb']:>12.1f}"
        )
    return "\n".join(lines)


def _check_opens(video: str) -> None:
    """Open ``video`` once before measuring: a damaged file is a one-line `UserError`, not N failed runs."""
    from orchestrator.sources import open_source

    try:
        source = open_source(video)
    except UserError as exc:
        raise UserError(f"--source {exc}") from None
    try:
        if source.read() is None:
            raise UserError(f"--source {video}: no frame could be read")
    finally:
        source.close()


def cmd_bench_streams(args: argparse.Namespace) -> int:
    from orchestrator.config import load_pipeline

    config = load_pipeline(args.pipeline)
    if config.sources:
        raise UserError(f"{args.pipeline}: bench-streams takes a pipeline with one source (it has sources:)")
    if not Path(args.source).is_file():
        raise UserError(f"--source {args.source}: no such video file")
    video = str(Path(args.source).resolve())
    _check_opens(args.source)
    rows = measure(str(Path(args.pipeline).resolve()), video, args.streams, args.max_frames)
    if args.json:
        print(json.dumps({"pipeline": args.pipeline, "video": args.source, "cpus": os.cpu_count(), "rows": rows}))
    else:
        print(f"pipeline {args.pipeline}, video {args.source}, {os.cpu_count()} CPUs, deterministic mode")
        print(table(rows))
    return 0


def register(subparsers: Any) -> None:
    """Add ``bench-streams`` to an argparse ``subparsers`` object."""
    from orchestrator.cli.run import _max_frames

    parser = subparsers.add_parser(
        "bench-streams",
        help="aggregate frames/s of N streams in one process (shared models) against N processes",
        description="Run N streams of VIDEO in one process, every model shared, and as N separate processes; "
        "print frames/s over all streams and peak memory for each N.",
    )
    parser.add_argument("pipeline", metavar="PIPELINE", help="pipeline YAML file with one source")
    parser.add_argument("--source", required=True, metavar="VIDEO", help="the video every stream reads")
    parser.add_argument("--streams", type=parse_streams, default=(1, 2, 4), metavar="N,N,...",
                        help="stream counts to measure (default 1,2,4)")  # fmt: skip
    parser.add_argument("--max-frames", type=_max_frames, metavar="N", help="each stream reads only N frames")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=cmd_bench_streams)


def _child(argv: list[str]) -> int:
    """``python -m orchestrator.bench.streams PIPELINE VIDEO N EVENTS [MAX_FRAMES]``: the one-process run."""
    import orchestrator.cli  # noqa: F401 - quiets FFmpeg's own logging, as the command line does
    from orchestrator.cli.console import eprint
    from orchestrator.config import load_pipeline
    from orchestrator.errors import OrchestratorError, exit_code
    from orchestrator.events import JsonlSink
    from orchestrator.streams import MultiRuntime

    pipeline, video, count, events, *rest = argv
    sink = JsonlSink(events)
    try:
        config = load_pipeline(pipeline)
        sources = {f"s{i}": video for i in range(int(count))}
        runtime = MultiRuntime(config, sources=sources, mode="deterministic", max_frames=int(rest[0]) if rest else None)
        for record in runtime.records():
            sink.write(record)
    except OrchestratorError as exc:
        eprint(f"error: {exc}")
        return exit_code(exc) or 1
    finally:
        sink.close()
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
