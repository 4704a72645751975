"""``run PIPELINE``: run a pipeline over its source and write JSON Lines records.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="orchestrator")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["run", "p.yaml", "--max-frames", "10", "-q"])
    >>> args.max_frames, args.quiet, args.append
    (10, True, None)
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from collections.abc import Sequence
from typing import Any

from orchestrator.cli.console import eprint, silence_stdout
from orchestrator.errors import EXIT_OK, EXIT_SIGINT, EXIT_SIGTERM, PipelineError, UserError
from orchestrator.tflogs import release_stderr

#: A signal this soon after the first is the same request delivered twice (``timeout`` signals its
#: child and then its whole process group), not a second Ctrl-C asking to exit at once.
_REPEAT_S = 0.25


def _max_frames(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of frames, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of frames >= 0, got {value}")
    return value


def cmd_run(args: argparse.Namespace) -> int:
    """Run the pipeline; exit 0 (also ``truncated``), 1 (failed, ``source_lost``), 130/143 (Ctrl-C/SIGTERM).

    Outputs are checked before anything opens; after a stop the records so far are complete and
    the summary is written within about a second; a second Ctrl-C (or SIGTERM) exits at once.
    Every record also goes to the pipeline's ``outputs.sinks`` (`orchestrator.sinks.fanout.SinkSet`).
    """
    from orchestrator.config import load_pipeline
    from orchestrator.config.instantiate import construct
    from orchestrator.errors import SinkClosed
    from orchestrator.events import JsonlSink
    from orchestrator.sinks.fanout import SinkSet
    from orchestrator.streams import MultiRuntime, open_runtime

    config = load_pipeline(args.pipeline)
    runtime = open_runtime(config, source=args.source, mode=args.mode, max_frames=args.max_frames)
    multi = isinstance(runtime, MultiRuntime)  # several streams: no window, video or progress bar
    if multi and (args.display or args.video_out):
        raise UserError(f"{args.pipeline}: --display and --video-out show one stream; this pipeline has sources:")
    target = args.events if args.events is not None else config.outputs.events
    if multi:
        sources = {f"source of stream {name}": uri for name, uri in runtime.source_uris.items()}
    else:
        sources = {"source": runtime.source_uri}
    files = [
        (f"outputs.sinks {spec.name}", spec.params[key])
        for spec in config.outputs.sinks
        for key in getattr(spec.sink_class, "output_path_params", ())
        if key in spec.params
    ]
    _check_outputs(target, args.video_out, sources, args.pipeline, files)
    viewer = None
    if not multi and (args.display or args.video_out or not args.quiet):
        from orchestrator.viewer import Viewer

        viewer = Viewer(runtime, video_out=args.video_out, display=args.display, progress=not args.quiet)
        runtime.on_frame = viewer
    # Opened at the first record: a run that cannot start leaves an existing events file as it was.
    events = JsonlSink(target, append=config.outputs.append if args.append is None else args.append)
    sinks = SinkSet(events, [(s.name, s.type, construct(s.type, s.sink_class, s.params)) for s in config.outputs.sinks])
    sinks.start()  # network sinks connect while the models load
    received: list[tuple[int, float]] = []

    def on_signal(signum: int, _frame: Any) -> None:
        now = time.monotonic()
        if received and now - received[0][1] >= _REPEAT_S:
            # A second Ctrl-C: the user does not want to wait for anything. The file keeps whole records.
            sinks.abandon()
            release_stderr()  # models may be loading with stderr held back (tflogs.litert_notes_dropped)
            eprint("interrupted again: exiting at once (no summary)")
            os._exit(EXIT_SIGINT if signum == signal.SIGINT else EXIT_SIGTERM)
        if not received:
            received.append((signum, now))
            sinks.hurry()
            runtime.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    summary: dict[str, Any] | None = None
    failure: PipelineError | UserError | None = None
    records = runtime.records()
    try:
        for record in records:
            sinks.write(record)
            if record["type"] == "summary":
                summary = record
    except SinkClosed as exc:
        # The reader of our output went away (`| head`): stop quietly, as other Unix tools do.
        runtime.stop()
        sinks.hurry()
        silence_stdout()
        eprint(f"stopped: {exc}")
        return EXIT_OK
    except (PipelineError, UserError) as exc:
        sinks.hurry()
        if target == "-" and summary is None:
            silence_stdout()  # stdout failed (a full disk): the interpreter's exit flush would fail again
        failure = exc
    finally:
        records.close()  # stops the run (threads joined or abandoned) if it did not end by itself
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sinks.close()  # bounded: each network sink waits at most its flush_timeout_s (0.5 s in all after a stop)
        render_stats = viewer.close() if viewer is not None else {}
    if summary is not None and not args.quiet:
        eprint(summary_line(summary, target))
        if sinks.sinks:
            # Final counts: the summary record has them as of just before the summary itself was sent.
            eprint(f"sinks: {sinks.describe()}")
    if failure is not None:
        raise failure
    if summary is not None and not args.quiet and render_stats.get("frames"):
        eprint(
            f"drawing: {render_stats['frames']} frames, {render_stats['dropped']} dropped, "
            f"{render_stats['render_p50_ms']:.2f} ms per frame (p50, off the detection path)"
            + (f"; video in {args.video_out}" if args.video_out else "")
        )
    if viewer is not None and viewer.quit_requested:
        return EXIT_OK
    if received:
        return EXIT_SIGINT if received[0][0] == signal.SIGINT else EXIT_SIGTERM
    return EXIT_OK


def _check_outputs(
    events: str, video_out: str | None, sources: dict[str, Any], pipeline: str, files: Sequence[tuple[str, str]] = ()
) -> None:
    """Every output writable, none of them an input or each other (`UserError`, exit 2), before anything opens.

    ``files`` are the sinks' files, ``(what, path)``."""
    from orchestrator.outputs import check_output

    inputs: dict[str, str] = {"pipeline file": pipeline}
    for what, source in sources.items():  # {"source": uri}, or one per stream
        if isinstance(source, str) and os.path.exists(source):
            inputs[what] = source
    if events != "-":
        check_output(events, "--events", inputs)
        inputs["events file"] = events
    for what, path in files:
        check_output(path, what, inputs)
        inputs[f"file of {what}"] = path
    if video_out:
        check_output(video_out, "--video-out", inputs)


def summary_line(summary: dict[str, Any], target: str) -> str:
    """The one status line printed after a run, from its ``summary`` record.

    Example:
        >>> summary_line({"status": "completed", "frames": {"processed": 3, "dropped": 0}, "fps": 29.97,
        ...               "wall_time_s": 0.1, "mode": "deterministic"}, "-")
        'completed: 3 frames processed, 0 dropped, 30.0 fps, 0.10 s (deterministic); records in stdout'
        >>> cut = {"status": "truncated", "frames": {"processed": 26, "dropped": 0, "skipped": 4}, "fps": 50.0,
        ...        "wall_time_s": 0.52, "mode": "deterministic", "abandoned": [{"thread": "detector:a", "frame": 7}]}
        >>> summary_line(cut, "e.jsonl").split("; ")  # doctest: +NORMALIZE_WHITESPACE
        ['truncated: 26 frames processed, 0 dropped, 4 skipped (undecodable), 50.0 fps, 0.52 s (deterministic)',
         'abandoned detector:a on frame 7', 'records in e.jsonl']
    """
    frames = summary["frames"]
    where = "stdout" if target == "-" else target
    extra = ""
    if summary["status"] == "truncated" and frames.get("expected") and frames["read"] < frames["expected"]:
        extra += f", the source ended at frame {frames['read']} of {frames['expected']}"
    if frames.get("skipped"):
        extra += f", {frames['skipped']} skipped (undecodable)"
    if summary.get("stalls"):
        extra += f", {summary['stalls']} stall(s)"
    if summary.get("reconnects"):
        extra += f", {summary['reconnects']} reconnect(s)"
    left = "".join(
        f"; abandoned {entry['thread']}" + (f" on frame {entry['frame']}" if entry.get("frame") is not None else "")
        for entry in summary.get("abandoned") or ()
    )
    return (
        f"{summary['status']}: {frames['processed']} frames processed, {frames['dropped']} dropped{extra}, "
        f"{summary['fps']:.1f} fps, {summary['wall_time_s']:.2f} s ({summary['mode']}){left}; records in {where}"
    )


def register(subparsers: Any) -> None:
    """Add the ``run`` command to an argparse ``subparsers`` object (``handler`` = `cmd_run`)."""
    run = subparsers.add_parser(
        "run",
        help="run a pipeline over a source and write JSON Lines records",
        description="Run PIPELINE over its source (or --source) and write records as JSON Lines.",
    )
    run.add_argument("pipeline", metavar="PIPELINE", help="pipeline YAML file")
    run.add_argument("--source", metavar="SRC", help="camera index, video file, folder of images or stream URL")
    run.add_argument("--max-frames", metavar="N", type=_max_frames, help="stop after reading N frames")
    run.add_argument("--events", metavar="PATH|-", help="where records go: a file, or - for stdout")
    run.add_argument("--append", action=argparse.BooleanOptionalAction, default=None, help="append to the events file")
    run.add_argument(
        "--mode",
        choices=("deterministic", "realtime"),
        help="deterministic (default for files and folders) or realtime (default for cameras and streams)",
    )
    run.add_argument("--display", action="store_true", help="show the annotated frames in a window (q or Esc quits)")
    run.add_argument(
        "--video-out", metavar="PATH", help="write the annotated video (.mp4 or .avi) at the source's rate"
    )
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar or status line on stderr")
    run.set_defaults(handler=cmd_run)
