"""The one parameter check (`detectors.params`): messages for every kind of mistake."""

from __future__ import annotations

import math

import pytest

from detectors.params import check_params


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n": 0}, "demo tracker: parameter n: value 0 is out of range: must be >= 1"),
        ({"n": 6}, "demo tracker: parameter n: value 6 is out of range: must be <= 5"),
        ({"x": 1.0}, "demo tracker: parameter x: value 1.0 is out of range: must be < 1"),
        ({"x": math.inf}, "demo tracker: parameter x: expected number, got inf, which is not finite"),
        ({"mode": "fast"}, "demo tracker: parameter mode: expected one of a, b; got 'fast'"),
        ({"other": 1}, "demo tracker: parameter other: unknown key 'other'; expected one of: mode, n, x"),
    ],
)
def test_check_params_messages(params: dict, message: str) -> None:
    schema = {
        "properties": {
            "n": {"type": "integer", "minimum": 1, "maximum": 5},
            "x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "mode": {"type": "string", "enum": ["a", "b"]},
        },
        "additionalProperties": False,
    }
    with pytest.raises(ValueError) as info:
        check_params("demo tracker", schema, params)
    assert str(info.value) == message


def test_an_enum_says_null_as_yaml_does() -> None:
    schema = {"type": "object", "properties": {"model": {"enum": ["full", "lite"]}}}
    with pytest.raises(ValueError, match=r"^m: parameter model: expected one of full, lite; got null$"):
        check_params("m", schema, {"model": None})
