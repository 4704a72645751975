"""The relations section's schema: the one check of its structure (what `build_predicate` may assume)."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.relations.schema import schema_issues

NAMES = "above, all, any, below, contains, left_of, near, overlap, right_of"
WHEN = ("relations", "report", "r", "when")


def section(when: Any) -> dict[str, Any]:
    return {"objects": {"detector": "objects"}, "report": {"r": {"when": when}}}


@pytest.mark.parametrize(
    ("when", "issues"),
    [
        ({"overlap": {"min_iou": 0.1}}, []),
        ({"any": [{"above": None}, {"near": {"max_gap": 1}}]}, []),
        (
            {"overlap": {"min_iou": 0.1}, "near": {"max_gap": 1}},
            [(WHEN, "expected at most 1 key(s), got 2: overlap, near")],
        ),
        ({"touching": {}}, [((*WHEN, "touching"), f"unknown key 'touching'; expected one of: {NAMES}")]),
        ([{"above": None}], [(WHEN, "expected object, got a list [{'above': None}]")]),
        ({"all": []}, [((*WHEN, "all"), "[] should be non-empty")]),
        ({"above": {"offset": 1}}, [((*WHEN, "above", "offset"), "unknown key 'offset'; expected one of: min_offset")]),
        ({"above": 3}, [((*WHEN, "above"), "expected object or null, got an integer 3")]),
        ({"overlap": {"min_iou": 2}}, [((*WHEN, "overlap", "min_iou"), "value 2 is out of range: must be <= 1")]),
    ],
)
def test_structure_is_checked_by_the_schema(when: Any, issues: list) -> None:
    assert schema_issues(section(when)) == issues
