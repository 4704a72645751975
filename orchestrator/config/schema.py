"""The JSON Schema of pipeline files: ``schemas/pipeline.schema.json`` with the relations section composed in.

The file holds every section but ``relations``, whose schema `orchestrator.relations.RELATIONS_SCHEMA`
owns; `pipeline_schema` puts it (and its ``$defs``) under the file's ``$defs``, so one schema
checks a whole file once and ``python -m orchestrator schema --pipeline`` prints all of it.

Example:
    >>> schema = pipeline_schema()
    >>> schema["properties"]["relations"]["then"], sorted(schema["$defs"])
    ({'$ref': '#/$defs/relations'}, ['predicate', 'relation', 'relations'])
    >>> schema["$defs"]["relations"]["required"]
    ['objects', 'report']
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from orchestrator.relations import RELATIONS_SCHEMA

#: Keys of `RELATIONS_SCHEMA` that belong to a schema document, not to the section it describes.
_DOCUMENT_KEYS = ("$schema", "$id", "$defs")


@cache
def pipeline_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of pipeline files, relations included; cached, do not modify."""
    text = resources.files("orchestrator").joinpath("schemas/pipeline.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    section = {key: value for key, value in RELATIONS_SCHEMA.items() if key not in _DOCUMENT_KEYS}
    # The relations' own `$ref`s ("#/$defs/relation") resolve against the root: their $defs go there too.
    schema["$defs"] = {**schema.get("$defs", {}), "relations": section, **RELATIONS_SCHEMA["$defs"]}
    return schema
