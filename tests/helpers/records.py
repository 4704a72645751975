"""Checks of event records against the published JSON Schema."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def validate_records(records: Sequence[Mapping[str, Any]]) -> None:
    """Check every record against the events JSON Schema, and ``seq`` counting 0, 1, 2, ...

    Raises ``jsonschema.ValidationError`` (or AssertionError for ``seq``) naming the record.
    """
    import jsonschema

    from orchestrator.events import events_schema

    validator = jsonschema.Draft202012Validator(events_schema())
    for index, record in enumerate(records):
        errors = sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path))
        if errors:
            raise jsonschema.ValidationError(f"record {index} ({record.get('type')!r}): {errors[0].message}")
        assert record["seq"] == index, f"record {index} has seq {record['seq']}"
