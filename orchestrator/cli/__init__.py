"""``python -m orchestrator``: run, validate, plugins, schema, and the model and benchmark commands.

User mistakes end in a one-line ``error: ...`` on stderr and a non-zero exit (2 for bad input,
1 for a failed run), never a traceback. Records go to ``--events`` (stdout with ``-``); every
message for people goes to stderr, so a pipe carries only records.

Each command lives in a module with ``register(subparsers)``, listed in `COMMAND_MODULES`
(``orchestrator.cli.run``, ``.validate``, ``.plugins``, ``.schema``, then the model,
evaluation and benchmark commands); exit codes come from ``orchestrator.errors.exit_code``.

Example:
    >>> args = build_parser().parse_args(["schema", "--pipeline"])
    >>> args.command, args.pipeline
    ('schema', True)
"""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Sequence
from typing import NoReturn

from orchestrator.cli.console import eprint, silence_stdout
from orchestrator.errors import EXIT_OK, EXIT_SIGINT, ConfigError, exit_code

#: Modules contributing commands, in the order ``--help`` lists them; each has ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = (
    "orchestrator.cli.run",
    "orchestrator.cli.validate",
    "orchestrator.cli.plugins",
    "orchestrator.cli.schema",
    "orchestrator.modelstore.cli",
    "orchestrator.evaluation.detection_cli",
    "orchestrator.evaluation.tracking_cli",
    "orchestrator.evaluation.relations_cli",
    "orchestrator.cli.export",
    "orchestrator.cli.batch",
    "orchestrator.bench.detector",
    "orchestrator.bench.runtime",
    "orchestrator.bench.pipeline",
    "orchestrator.bench.streams",
)

# FFmpeg (inside OpenCV) logs its own errors straight to stderr ("moov atom not found") before we
# report the same problem in one line; keep only its fatal messages unless the user asks for more.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "8")


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse whose usage mistakes are one line (the mistake, and where the usage is), exit 2.

    Subcommand parsers are made of the same class, so every command's mistakes read alike.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command; each sets ``handler(args) -> exit code``."""
    parser = OneLineErrorParser(
        prog="python -m orchestrator",
        description="Real-time hands-and-objects pipelines: detectors as plugins, tracking, relations, JSON events.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command, map its failure to an exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except BrokenPipeError:
        silence_stdout()
        return EXIT_OK
    except Exception as exc:
        code = exit_code(exc)
        if code is None:
            raise  # not a user's mistake nor a failed run: a bug, whose traceback is the report
        # Config errors are already `file:line: field: message` lines, as editors expect them.
        eprint(str(exc) if isinstance(exc, ConfigError) else f"error: {exc}")
        return code
    except KeyboardInterrupt:
        eprint("interrupted")
        return EXIT_SIGINT


__all__ = ["COMMAND_MODULES", "build_parser", "main"]
