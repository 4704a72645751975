"""The JSON Schema of the ``relations:`` section, and `schema_issues`, its one check.

Structure and ranges are the schema's job: a pipeline file is checked once, against the
pipeline schema that composes `RELATIONS_SCHEMA` (``orchestrator.config.schema``), with the
file's lines. `schema_issues` checks a section on its own, with the same wording (the one
dialect of ``detectors.params``), before `orchestrator.relations.spec.parse_relations` builds it.

Example:
    >>> schema_issues({"objects": {"detector": "objects"}, "report": {"r": {"when": {"near": {"max_gap": 11}}}}})
    [(('relations', 'report', 'r', 'when', 'near', 'max_gap'), 'value 11 is out of range: must be <= 10')]
"""

from __future__ import annotations

from typing import Any

from detectors.params import schema_problems
from orchestrator.relations.predicates import (
    DIRECTIONS,
    FINGERTIP_NAMES,
    MAX_LENGTH_RATIO,
    MAX_WINDOW_FRAMES,
    NEAR_MEASURES,
    Issue,
)
from orchestrator.relations.spec import DEFAULT_ENTER_FRAMES, DEFAULT_EXIT_FRAMES

#: Relation names: the same rule as detector names (they appear in records and logs).
NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_.-]*$"


def _fraction(description: str, *, open_low: bool = True) -> dict[str, Any]:
    low = {"exclusiveMinimum": 0} if open_low else {"minimum": 0}
    return {"type": "number", **low, "maximum": 1, "description": description}


def _diagonals(description: str, *, open_low: bool = False) -> dict[str, Any]:
    low = {"exclusiveMinimum": 0} if open_low else {"minimum": 0}
    return {"type": "number", **low, "maximum": 10, "description": description + " (× the hand box's diagonal)"}


_DIRECTION_SCHEMA: dict[str, Any] = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "properties": {"min_offset": _diagonals("Least offset of the centres in that direction (default 0)")},
}

#: JSON Schema (draft 2020-12) of the whole ``relations:`` section. Its ``$ref``s point into its
#: own ``$defs``; ``orchestrator.config.schema`` composes it into the pipeline file's schema.
RELATIONS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "orchestrator.pipeline.relations/1",
    "title": "The relations: section of a pipeline",
    "type": "object",
    "additionalProperties": False,
    "required": ["objects", "report"],
    "properties": {
        "objects": {
            "type": "object",
            "additionalProperties": False,
            "required": ["detector"],
            "description": "Where object boxes come from.",
            "properties": {
                "detector": {"type": "string", "minLength": 1, "description": "The pipeline detector of objects."},
                "tracker": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["type"],
                    "description": "The tracker of object boxes (default: sort, label-agnostic with label_vote: true, "
                    "high_score and low_score 0: every detection the object detector reports may start a track).",
                    "properties": {
                        "type": {"type": "string", "minLength": 1, "description": "Registered tracker name."},
                        "params": {"type": "object", "description": "Keyword parameters of the tracker."},
                    },
                },
                "not_hand": {
                    "type": "object",
                    "additionalProperties": False,
                    "description": "Object boxes that are a hand (COCO calls hands and arms 'person') are ignored.",
                    "properties": {
                        "labels": {
                            "type": ["array", "string"],
                            "uniqueItems": True,
                            "items": {"type": "string", "minLength": 1},
                            "description": "Only boxes with these labels can be taken for a hand (default [person]; "
                            "[] turns the filter off; 'any': a box of any label, for detectors that call a hand "
                            "'bottle' or 'cell phone').",
                        },
                        "min_hand_overlap": _fraction(
                            "A box is a hand when a hand box covers at least this share of it, or their IoU is at "
                            "least this (default 0.5)."
                        ),
                    },
                },
            },
        },
        "report": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": NAME_PATTERN},
            "additionalProperties": {"$ref": "#/$defs/relation"},
            "description": "The relations to report, by name.",
        },
    },
    "$defs": {
        "relation": {
            "type": "object",
            "additionalProperties": False,
            "required": ["when"],
            "properties": {
                "objects": {
                    "type": ["array", "string"],
                    "minItems": 1,
                    "uniqueItems": True,
                    "items": {"type": "string", "minLength": 1},
                    "description": "Object labels the relation applies to, or 'any' (default any).",
                },
                "when": {"$ref": "#/$defs/predicate"},
                "enter_frames": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 100000,
                    "description": f"Consecutive held frames to start (default {DEFAULT_ENTER_FRAMES}).",
                },
                "enter_seconds": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "maximum": 3600,
                    "description": "Or: seconds of source time it must hold to start.",
                },
                "exit_frames": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 100000,
                    "description": f"Consecutive frames it must fail to end (default {DEFAULT_EXIT_FRAMES}).",
                },
                "exit_seconds": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "maximum": 3600,
                    "description": "Or: seconds of source time it must fail to end.",
                },
                "max_per_hand": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 100,
                    "description": "At most this many of these relations active per hand at once (default: no limit). "
                    "When more objects qualify, the best-scoring start and the others wait as candidates.",
                },
                "max_carried_frames": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 100000,
                    "description": "While active, the relation outlives its object's track by up to this many frames "
                    "when the hand is still there (the object is in the hand: carried with the hand's motion, and "
                    "taken up again by a new object track where the carried box is). 0 (default): it ends at once.",
                },
                "grace_frames": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 100000,
                    "description": "While active, the relation waits up to this many frames for a lost hand or object "
                    "track to be replaced: a new hand track of the same side, or a new object track where the object "
                    "was last seen, continues it (same relation_id); otherwise it ends hand_lost / object_lost at "
                    "its last held frame. 0 (default): it ends at once.",
                },
                "update_every_frames": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 100000,
                    "description": "Emit relation.update every this many frames while active (0: never; default 0).",
                },
                "min_object_score": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 1,
                    "description": "Objects whose track score is below this fail the predicate (default: no minimum).",
                },
                "min_object_size": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 10,
                    "description": "Objects whose box diagonal is below this × the hand box's diagonal fail the "
                    "predicate (default: no minimum).",
                },
            },
        },
        "predicate": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
            "description": "Exactly one of the predicates below.",
            "properties": {
                "overlap": {
                    "type": "object",
                    "additionalProperties": False,
                    "minProperties": 1,
                    "properties": {
                        "min_iou": _fraction("Holds when IoU >= this"),
                        "min_object_covered": _fraction("... or when the hand covers this share of the object"),
                    },
                },
                "contains": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "properties": {
                        "min_object_covered": _fraction("Share of the object inside the hand box (default 1)"),
                        "margin": _fraction(
                            "The hand box is grown by this × its diagonal on each side (default 0)", open_low=False
                        ),
                    },
                },
                "near": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "measure": {"enum": list(NEAR_MEASURES), "description": "gap (default) or centers"},
                        "max_gap": _diagonals("measure gap: the largest gap between the boxes"),
                        "max_distance": _diagonals("measure centers: the largest centre distance", open_low=True),
                    },
                },
                **dict.fromkeys(DIRECTIONS, _DIRECTION_SCHEMA),
                "fingertips_in": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "description": "Fingertips (hand keypoints) on the object box; never holds without keypoints.",
                    "properties": {
                        "min_tips": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": len(FINGERTIP_NAMES),
                            "description": "Holds when at least this many of the 5 fingertips are on it (default 2)",
                        },
                        "margin": _fraction(
                            "The object box is grown by this × the hand box's diagonal on each side (default 0.05)",
                            open_low=False,
                        ),
                    },
                },
                "grasp": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "description": "Thumb tip and another fingertip on opposite sides of the object's centre along "
                    "its wider axis, or both on the object; never holds without keypoints.",
                    "properties": {
                        "margin": _fraction(
                            "The object box is grown by this × the hand box's diagonal on each side (default 0.05)",
                            open_low=False,
                        ),
                    },
                },
                "moves_with": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "description": "The object's displacement agrees with the hand's over a window of frames.",
                    "properties": {
                        "window_frames": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_WINDOW_FRAMES,
                            "description": "Displacements over this many processed frames (default 5)",
                        },
                        "min_cosine": {
                            "type": "number",
                            "minimum": -1,
                            "maximum": 1,
                            "description": "Least cosine of the angle between the two displacements (default 0.8)",
                        },
                        "min_length_ratio": {
                            "type": "number",
                            "exclusiveMinimum": 0,
                            "maximum": MAX_LENGTH_RATIO,
                            "description": "Least object / hand displacement length (default 0.5)",
                        },
                        "max_length_ratio": {
                            "type": "number",
                            "exclusiveMinimum": 0,
                            "maximum": MAX_LENGTH_RATIO,
                            "description": "Largest object / hand displacement length (default 2)",
                        },
                        "min_hand_motion": _diagonals(
                            "Below this hand displacement it is undecided and does not hold (default 0.1)",
                            open_low=True,
                        ),
                    },
                },
                "all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/predicate"}},
                "any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/predicate"}},
            },
        },
    },
}


def schema_issues(raw: Any) -> list[Issue]:
    """Every way a ``relations:`` section fails `RELATIONS_SCHEMA`, as ``(path, message)`` sorted by path.

    Paths start at the pipeline's top (``("relations", "report", "holding", "enter_frames")``);
    ``[]`` means `parse_relations` may build the section.
    """
    return [(("relations", *p.path), p.message) for p in schema_problems(raw, RELATIONS_SCHEMA)]
