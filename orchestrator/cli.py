"""``python -m orchestrator``: run, validate, plugins, schema, and the model and benchmark commands.

User mistakes end in a one-line ``error: ...`` on stderr and a non-zero exit (2 for bad input,
1 for a failed run), never a traceback. Records go to ``--events`` (stdout with ``-``); every
message for people goes to stderr, so a pipe carries only records.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

import yaml

from orchestrator.errors import (
    EXIT_OK,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    ConfigError,
    PipelineError,
    UserError,
    exit_code,
)

#: Modules contributing more commands; each has ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = (
    "orchestrator.modelstore.cli",
    "orchestrator.evaluation.detection_cli",
    "orchestrator.evaluation.tracking_cli",
    "orchestrator.bench",
    "orchestrator.runtime_bench",
    "orchestrator.pipeline_bench",
)

# FFmpeg (inside OpenCV) logs its own errors straight to stderr ("moov atom not found") before we
# report the same problem in one line; keep only its fatal messages unless the user asks for more.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "8")


def _eprint(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _max_frames(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of frames, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of frames >= 0, got {value}")
    return value


# ---------------------------------------------------------------------------- run
def cmd_run(args: argparse.Namespace) -> int:
    from orchestrator.config import load_pipeline
    from orchestrator.errors import SinkClosed
    from orchestrator.events import JsonlSink
    from orchestrator.runtime import Runtime

    config = load_pipeline(args.pipeline)
    runtime = Runtime(config, source=args.source, mode=args.mode, max_frames=args.max_frames)
    target = args.events if args.events is not None else config.outputs.events
    viewer = None
    if args.display or args.video_out or not args.quiet:
        from orchestrator.viewer import Viewer

        viewer = Viewer(runtime, video_out=args.video_out, display=args.display, progress=not args.quiet)
        runtime.on_frame = viewer
    sink = JsonlSink(target, append=config.outputs.append if args.append is None else args.append)
    received: list[int] = []

    def on_signal(signum: int, _frame: Any) -> None:
        received.append(signum)
        runtime.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    summary: dict[str, Any] | None = None
    try:
        for record in runtime.records():
            sink.write(record)
            if record["type"] == "summary":
                summary = record
    except SinkClosed as exc:
        # The reader of our output went away (`| head`): stop quietly, as other Unix tools do.
        runtime.stop()
        _silence_stdout()
        _eprint(f"stopped: {exc}")
        return EXIT_OK
    except (PipelineError, UserError) as exc:
        if summary is not None and not args.quiet:
            _eprint(_summary_line(summary, target))
        raise exc
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sink.close()
        render_stats = viewer.close() if viewer is not None else {}
    if summary is not None and not args.quiet:
        _eprint(_summary_line(summary, target))
        if render_stats.get("frames"):
            _eprint(
                f"drawing: {render_stats['frames']} frames, {render_stats['dropped']} dropped, "
                f"{render_stats['render_p50_ms']:.2f} ms per frame (p50, off the detection path)"
                + (f"; video in {args.video_out}" if args.video_out else "")
            )
    if viewer is not None and viewer.quit_requested:
        return EXIT_OK
    if received:
        return EXIT_SIGINT if received[0] == signal.SIGINT else EXIT_SIGTERM
    return EXIT_OK


def _summary_line(summary: dict[str, Any], target: str) -> str:
    frames = summary["frames"]
    where = "stdout" if target == "-" else target
    return (
        f"{summary['status']}: {frames['processed']} frames processed, {frames['dropped']} dropped, "
        f"{summary['fps']:.1f} fps, {summary['wall_time_s']:.2f} s ({summary['mode']}); records in {where}"
    )


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's exit flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


# ---------------------------------------------------------------------------- validate
def cmd_validate(args: argparse.Namespace) -> int:
    from orchestrator.config import instantiate, load_pipeline

    config = load_pipeline(args.pipeline)
    for _, detector in instantiate(config):
        detector.close()
    yaml.safe_dump(config.to_dict(), sys.stdout, sort_keys=False, default_flow_style=None, width=120)
    return EXIT_OK


# ---------------------------------------------------------------------------- plugins
def _describe_labels(labels: Sequence[str], limit: int = 6) -> str:
    if not labels:
        return "(set by parameters)"
    shown = ", ".join(labels[:limit])
    return f"{len(labels)}: {shown}{', ...' if len(labels) > limit else ''}"


def cmd_plugins(args: argparse.Namespace) -> int:
    from orchestrator.registry import DETECTORS, TRACKERS

    rows = []
    for entry in DETECTORS.entries():
        cls = entry.obj
        size = getattr(cls, "input_size", None)
        rows.append(
            {
                "kind": "detector",
                "name": entry.name,
                "origin": entry.origin,
                "source": entry.source,
                "labels": list(getattr(cls, "labels", ())),
                "input_size": list(size) if size else None,
                "params": dict(getattr(cls, "params_schema", {})),
            }
        )
    for entry in TRACKERS.entries():
        rows.append(
            {
                "kind": "tracker",
                "name": entry.name,
                "origin": entry.origin,
                "source": entry.source,
                "labels": [],
                "input_size": None,
                "params": dict(getattr(entry.obj, "params_schema", {})),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    header = ("KIND", "NAME", "ORIGIN", "INPUT", "LABELS")
    table = [
        (
            r["kind"],
            r["name"],
            f"{r['origin']} ({r['source']})",
            "x".join(map(str, r["input_size"])) if r["input_size"] else "any",
            _describe_labels(r["labels"]) if r["kind"] == "detector" else "-",
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in [header, *table]) for i in range(len(header))]
    for row in [header, *table]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print("\nA plugin can also be named in a pipeline as package.module:ClassName (origin: dotted path).")
    return EXIT_OK


# ---------------------------------------------------------------------------- schema
def cmd_schema(args: argparse.Namespace) -> int:
    if args.pipeline:
        from orchestrator.config import pipeline_schema

        print(json.dumps(pipeline_schema(), indent=2))
    else:
        from orchestrator.events import events_schema

        print(json.dumps(events_schema(), indent=2))
    return EXIT_OK


# ---------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m orchestrator",
        description="Real-time hands-and-objects pipelines: detectors as plugins, tracking, relations, JSON events.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
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

    validate = sub.add_parser(
        "validate",
        help="check a pipeline file and print it resolved",
        description="Check PIPELINE; print it resolved (exit 0) or every error as file:line: field: message.",
    )
    validate.add_argument("pipeline", metavar="PIPELINE")
    validate.set_defaults(handler=cmd_validate)

    plugins = sub.add_parser(
        "plugins",
        help="list detector and tracker plugins",
        description="List registered plugins with their origin, labels and input size.",
    )
    plugins.add_argument("--json", action="store_true", help="print a JSON list, with each plugin's parameter schema")
    plugins.set_defaults(handler=cmd_plugins)

    schema = sub.add_parser(
        "schema", help="print the JSON Schema of event records", description="Print the JSON Schema of event records."
    )
    schema.add_argument("--pipeline", action="store_true", help="print the pipeline file schema instead")
    schema.set_defaults(handler=cmd_schema)

    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except Exception as exc:
        code = exit_code(exc)
        if code is None:
            raise  # not a user's mistake nor a failed run: a bug, whose traceback is the report
        # Config errors are already `file:line: field: message` lines, as editors expect them.
        _eprint(str(exc) if isinstance(exc, ConfigError) else f"error: {exc}")
        return code
    except KeyboardInterrupt:
        _eprint("interrupted")
        return EXIT_SIGINT
