"""``schema [--pipeline]``: print the JSON Schema of event records, or of pipeline files.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="orchestrator")
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["schema", "--pipeline"]).pipeline
    True
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from orchestrator.errors import EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the schema as indented JSON."""
    if args.pipeline:
        from orchestrator.config import pipeline_schema

        print(json.dumps(pipeline_schema(), indent=2))
    else:
        from orchestrator.events import events_schema

        print(json.dumps(events_schema(), indent=2))
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add the ``schema`` command to an argparse ``subparsers`` object."""
    schema = subparsers.add_parser(
        "schema", help="print the JSON Schema of event records", description="Print the JSON Schema of event records."
    )
    schema.add_argument("--pipeline", action="store_true", help="print the pipeline file schema instead")
    schema.set_defaults(handler=cmd_schema)
