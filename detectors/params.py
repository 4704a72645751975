"""Parameters checked against a JSON Schema: one check, one dialect, for every plugin and file.

Plugins (detectors, trackers) declare ``params_schema`` (JSON Schema draft 2020-12) and call
`check_params` from ``__init__``, so direct construction is checked as strictly as a pipeline
file is. The application validates whole pipeline files with the same `schema_problems`, and
attaches the YAML line of each problem's path.

Example:
    >>> schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}},
    ...           "additionalProperties": False}
    >>> [p.message for p in schema_problems({"n": 0, "m": 1}, schema)]
    ["unknown key 'm'; expected one of: n", 'value 0 is out of range: must be >= 1']
    >>> check_params("demo", schema, {"n": 0})
    Traceback (most recent call last):
    ...
    detectors.errors.ParamsError: demo: parameter n: value 0 is out of range: must be >= 1
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
import jsonschema.validators

from detectors.errors import ParamsError

_BOUNDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}


def _is_integer(checker: object, value: object) -> bool:
    # JSON Schema counts 2.0 as an integer; a count given as a float is a slip we report instead.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(checker: object, value: object) -> bool:
    # JSON has no NaN or infinity; YAML and Python do, and they pass every range check unnoticed.
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": _is_integer, "number": _is_number}
    ),
)


@dataclass(frozen=True)
class Problem:
    """One way an instance fails its schema.

    Attributes:
        path: where it is, as keys and list indices from the instance's root.
        message: what is wrong and what was expected, one line.
        line_path: the path whose position best shows the problem (for a bad key, the key itself).
    """

    path: tuple[Any, ...]
    message: str
    line_path: tuple[Any, ...]


def dotted(path: tuple[Any, ...]) -> str:
    """``("a", 0, "b")`` → ``"a[0].b"``.

    >>> dotted(("detectors", "hands", "params", "nms_iou"))
    'detectors.hands.params.nms_iou'
    """
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def describe_type(value: Any) -> str:
    """The JSON name of a Python value's type, with its article ("an integer").

    >>> describe_type(True), describe_type(None)
    ('a boolean', 'null')
    """
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def schema_problems(instance: Any, schema: Mapping[str, Any]) -> list[Problem]:
    """Every way ``instance`` fails ``schema`` (draft 2020-12), sorted by path, each a one-line `Problem`.

    Stricter than plain JSON Schema in two ways: ``integer`` means an integral number, so ``2.0``
    and ``True`` are not integers; ``number`` means a finite one (no NaN, no infinity).
    """
    problems: list[Problem] = []
    validator = _Validator(schema)
    for error in sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]):
        path = tuple(error.absolute_path)
        kind = error.validator
        if kind == "additionalProperties" and isinstance(error.instance, Mapping):
            known = sorted(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in known:
                    message = f"unknown key {key!r}; expected one of: {', '.join(known) or '(none)'}"
                    problems.append(Problem((*path, key), message, (*path, key)))
            continue
        line_path = path
        if kind == "required":
            missing = error.message.split("'")[1] if "'" in error.message else error.message
            message = f"missing required key {missing!r}"
        elif kind == "type":
            wanted = (
                error.validator_value if isinstance(error.validator_value, str) else " or ".join(error.validator_value)
            )
            got = describe_type(error.instance) + ("" if error.instance is None else f" {error.instance!r}")
            if isinstance(error.instance, float) and not math.isfinite(error.instance):
                got = f"{error.instance!r}, which is not finite"
            message = f"expected {wanted}, got {got}"
        elif kind in _BOUNDS:
            message = f"value {error.instance!r} is out of range: must be {_BOUNDS[kind]} {error.validator_value}"
        elif kind == "enum":
            got = "null" if error.instance is None else repr(error.instance)  # as the YAML or JSON says it
            message = f"expected one of {', '.join(map(str, error.validator_value))}; got {got}"
        elif kind == "const":
            message = f"expected {error.validator_value!r}, got {error.instance!r}"
        elif kind in ("minProperties", "maxProperties") and path[-1:] == ("schedule",):
            message = "give exactly one of every_n_frames or max_fps"
        elif kind == "maxProperties" and isinstance(error.instance, Mapping):
            keys = ", ".join(map(str, error.instance))
            message = f"expected at most {error.validator_value} key(s), got {len(error.instance)}: {keys}"
        elif kind == "minProperties":
            message = f"must not be empty (at least {error.validator_value} entry)"
        elif "propertyNames" in error.relative_schema_path:
            # jsonschema reports a bad key as a `pattern` error on the mapping; point at the key itself.
            message = f"name {error.instance!r} must match {error.validator_value}"
            line_path = (*path, error.instance)
        else:
            message = error.message
        problems.append(Problem(path, message, line_path))
    return problems


def check_params(owner: str, schema: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    """Raise `ParamsError` for the first way ``params`` fails ``schema``; ``owner`` names the plugin.

    Raises:
        ParamsError: ``"{owner}: parameter {path}: {message}"``, one line.
    """
    problems = schema_problems(dict(params), schema)
    if problems:
        first = problems[0]
        raise ParamsError(f"{owner}: parameter {dotted(first.path) or '(params)'}: {first.message}")
