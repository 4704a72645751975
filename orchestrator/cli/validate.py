"""``validate PIPELINE``: print the resolved pipeline (exit 0), or every error of the file (exit 2).

The printed pipeline is itself a valid pipeline file (``validate`` accepts it again): where each
plugin comes from is a comment above it, a second stage keeps its ``input:``.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="orchestrator")
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["validate", "p.yaml"]).pipeline
    'p.yaml'
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

import yaml

from orchestrator.errors import EXIT_OK

if TYPE_CHECKING:
    from orchestrator.config import PipelineConfig


def resolved_document(config: PipelineConfig) -> tuple[list[str], dict[str, Any]]:
    """The resolved pipeline as a pipeline file: comment lines (each plugin's origin) and the document.

    Example:
        >>> from pathlib import Path
        >>> from orchestrator.config import parse_pipeline
        >>> config = parse_pipeline("version: 1\\ndetectors:\\n  idle: {plugin: testing.noop}\\n", Path("p.yaml"))
        >>> comments, document = resolved_document(config)
        >>> comments, document["detectors"]
        (['# detectors.idle: testing.noop (built-in)'], {'idle': {'plugin': 'testing.noop', 'params': {}, \
'schedule': {'every_n_frames': 1}}})
    """
    document = config.to_dict()
    comments = []
    for spec in config.detectors:
        entry = dict(document["detectors"][spec.name])
        comments.append(f"# detectors.{spec.name}: {spec.plugin} ({entry.pop('origin', spec.origin)})")
        if spec.input is not None:
            # A second stage runs on its input's frames: input, no schedule (the file would be refused).
            entry.pop("schedule", None)
            entry = {"plugin": entry.pop("plugin"), "input": spec.input, **entry}
        document["detectors"][spec.name] = entry
    return comments, document


def cmd_validate(args: argparse.Namespace) -> int:
    """Load the pipeline and construct its detectors; print it resolved, as YAML, on stdout."""
    from orchestrator.config import instantiate, load_pipeline

    config = load_pipeline(args.pipeline)
    for _, detector in instantiate(config):
        detector.close()
    comments, document = resolved_document(config)
    sys.stdout.write("".join(f"{line}\n" for line in comments))
    yaml.safe_dump(document, sys.stdout, sort_keys=False, default_flow_style=None, width=120)
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add the ``validate`` command to an argparse ``subparsers`` object."""
    validate = subparsers.add_parser(
        "validate",
        help="check a pipeline file and print it resolved",
        description="Check PIPELINE; print it resolved (exit 0) or every error as file:line: field: message.",
    )
    validate.add_argument("pipeline", metavar="PIPELINE")
    validate.set_defaults(handler=cmd_validate)
