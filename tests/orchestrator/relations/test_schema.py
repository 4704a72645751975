"""The relations section's schema: the one check of its structure (what `build_predicate` may assume)."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.relations.schema import schema_issues

NAMES = "above, all, any, below, contains, fingertips_in, grasp, left_of, moves_with, near, overlap, right_of"
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


@pytest.mark.parametrize(
    ("when", "issues"),
    [
        ({"fingertips_in": None}, []),
        ({"all": [{"grasp": {"margin": 0.1}}, {"moves_with": {"window_frames": 3, "min_cosine": -0.5}}]}, []),
        (
            {"fingertips_in": {"min_tips": 0}},
            [((*WHEN, "fingertips_in", "min_tips"), "value 0 is out of range: must be >= 1")],
        ),
        (
            {"fingertips_in": {"min_tips": 6}},
            [((*WHEN, "fingertips_in", "min_tips"), "value 6 is out of range: must be <= 5")],
        ),
        (
            {"fingertips_in": {"min_tips": 2.5}},
            [((*WHEN, "fingertips_in", "min_tips"), "expected integer, got a number 2.5")],
        ),
        (
            {"fingertips_in": {"margin": -0.1}},
            [((*WHEN, "fingertips_in", "margin"), "value -0.1 is out of range: must be >= 0")],
        ),
        ({"grasp": {"margin": 1.5}}, [((*WHEN, "grasp", "margin"), "value 1.5 is out of range: must be <= 1")]),
        (
            {"grasp": {"min_tips": 2}},
            [((*WHEN, "grasp", "min_tips"), "unknown key 'min_tips'; expected one of: margin")],
        ),
        (
            {"moves_with": {"window_frames": 0}},
            [((*WHEN, "moves_with", "window_frames"), "value 0 is out of range: must be >= 1")],
        ),
        (
            {"moves_with": {"window_frames": 301}},
            [((*WHEN, "moves_with", "window_frames"), "value 301 is out of range: must be <= 300")],
        ),
        (
            {"moves_with": {"min_cosine": 1.5}},
            [((*WHEN, "moves_with", "min_cosine"), "value 1.5 is out of range: must be <= 1")],
        ),
        (
            {"moves_with": {"min_length_ratio": 0}},
            [((*WHEN, "moves_with", "min_length_ratio"), "value 0 is out of range: must be > 0")],
        ),
        (
            {"moves_with": {"max_length_ratio": 101}},
            [((*WHEN, "moves_with", "max_length_ratio"), "value 101 is out of range: must be <= 100")],
        ),
        (
            {"moves_with": {"min_hand_motion": 0}},
            [((*WHEN, "moves_with", "min_hand_motion"), "value 0 is out of range: must be > 0")],
        ),
    ],
)
def test_contact_predicates_are_checked_by_the_schema(when: Any, issues: list) -> None:
    assert schema_issues(section(when)) == issues


RELATION = ("relations", "report", "r")


@pytest.mark.parametrize(
    ("keys", "issues"),
    [
        ({"min_object_score": 0.2, "min_object_size": 0.1}, []),
        ({"min_object_score": 0, "min_object_size": 10}, []),
        ({"min_object_score": 1.2}, [((*RELATION, "min_object_score"), "value 1.2 is out of range: must be <= 1")]),
        ({"min_object_score": "high"}, [((*RELATION, "min_object_score"), "expected number, got a string 'high'")]),
        ({"min_object_size": -1}, [((*RELATION, "min_object_size"), "value -1 is out of range: must be >= 0")]),
        ({"min_object_size": 11}, [((*RELATION, "min_object_size"), "value 11 is out of range: must be <= 10")]),
    ],
)
def test_object_minimums_are_checked_by_the_schema(keys: dict, issues: list) -> None:
    raw = {"objects": {"detector": "objects"}, "report": {"r": {"when": {"contains": None}, **keys}}}
    assert schema_issues(raw) == issues
