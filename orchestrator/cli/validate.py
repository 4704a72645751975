"""``validate PIPELINE``: print the resolved pipeline (exit 0), or every error of the file (exit 2).

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
from typing import Any

import yaml

from orchestrator.errors import EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Load the pipeline and construct its detectors; print it resolved, as YAML, on stdout."""
    from orchestrator.config import instantiate, load_pipeline

    config = load_pipeline(args.pipeline)
    for _, detector in instantiate(config):
        detector.close()
    yaml.safe_dump(config.to_dict(), sys.stdout, sort_keys=False, default_flow_style=None, width=120)
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
