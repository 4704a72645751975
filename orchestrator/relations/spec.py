"""The ``relations:`` section of a pipeline: its JSON Schema, frozen specs, and `parse_relations`.

The grammar is documented in `orchestrator.relations`. Validation happens in two stages, like
the rest of the pipeline file: `RELATIONS_SCHEMA` checks structure and ranges (so
``orchestrator.config`` can report ``file:line: path: message`` for it), then `parse_relations`
checks what a schema cannot (names that must exist elsewhere in the pipeline, mutually
exclusive keys, which ``near`` limit goes with which measure) and builds the specs.

Example:
    >>> spec, issues = parse_relations(
    ...     {"objects": {"detector": "objects"},
    ...      "report": {"holding": {"objects": ["cup"], "when": {"overlap": {"min_iou": 0.05}}}}},
    ...     detector_names=["hands", "objects"], object_labels=["cup", "bottle", "person"])
    >>> issues, spec.relations[0].name, spec.relations[0].enter_frames, spec.relations[0].exit_frames
    ([], 'holding', 3, 5)
    >>> parse_relations({"objects": {"detector": "objs"}, "report": {"r": {"when": {"contains": None}}}},
    ...                 detector_names=["hands", "objects"], object_labels=None)[1]
    [(('relations', 'objects', 'detector'), "unknown detector 'objs'; the pipeline's detectors: hands, objects")]
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from orchestrator.relations.predicates import DIRECTIONS, NEAR_MEASURES, Issue, Predicate, build_predicate

#: Defaults of the temporal rules: a relation needs 3 consecutive frames to start (0.1 s at
#: 30 fps: one-frame detector flicker never starts one) and 5 failing frames to end (a hand
#: briefly hiding the object, or a detector running every few frames, does not split it).
DEFAULT_ENTER_FRAMES = 3
DEFAULT_EXIT_FRAMES = 5
#: Labels the object detector gives to a hand or an arm (COCO has no "hand" class).
DEFAULT_NOT_HAND_LABELS: tuple[str, ...] = ("person",)
DEFAULT_MIN_HAND_OVERLAP = 0.5
#: The object tracker when ``objects.tracker`` is absent: class-aware, so a track keeps its label.
DEFAULT_OBJECT_TRACKER: tuple[str, Mapping[str, Any]] = ("sort", {"class_aware": True})
#: Relation names: the same rule as detector names (they appear in records and logs).
NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_.-]*$"

_ROOT = ("relations",)


# --------------------------------------------------------------------------- JSON Schema
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

#: JSON Schema (draft 2020-12) of the whole ``relations:`` section. Validate it on its own
#: (its ``$ref``s point into its own ``$defs``), e.g. with ``config._schema_issues(raw,
#: RELATIONS_SCHEMA, ("relations",), lines, file)``.
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
                    "description": "The tracker of object boxes (default: sort with class_aware: true).",
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
                            "type": "array",
                            "uniqueItems": True,
                            "items": {"type": "string", "minLength": 1},
                            "description": "Only boxes with these labels can be taken for a hand (default [person]; "
                            "[] turns the filter off).",
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
                "update_every_frames": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 100000,
                    "description": "Emit relation.update every this many frames while active (0: never; default 0).",
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
                "all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/predicate"}},
                "any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/predicate"}},
            },
        },
    },
}


# --------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class ObjectTrackerSpec:
    """The object tracker's shape; the runtime builds it (``type`` is a registered tracker name)."""

    type: str = DEFAULT_OBJECT_TRACKER[0]
    params: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_OBJECT_TRACKER[1]))


@dataclass(frozen=True)
class NotHandSpec:
    """Which object boxes are taken for a hand (and ignored). ``labels=()`` turns the filter off."""

    labels: tuple[str, ...] = DEFAULT_NOT_HAND_LABELS
    min_hand_overlap: float = DEFAULT_MIN_HAND_OVERLAP

    def __post_init__(self) -> None:
        if not 0.0 < self.min_hand_overlap <= 1.0:
            raise ValueError(f"not_hand: min_hand_overlap must lie in (0, 1], got {self.min_hand_overlap!r}")
        object.__setattr__(self, "labels", tuple(self.labels))


@dataclass(frozen=True)
class ObjectsSpec:
    """Where object boxes come from and which of them are ignored as hands."""

    detector: str
    tracker: ObjectTrackerSpec = field(default_factory=ObjectTrackerSpec)
    not_hand: NotHandSpec = field(default_factory=NotHandSpec)


@dataclass(frozen=True)
class RelationSpec:
    """One named relation: the labels it applies to, its predicate and its temporal rules.

    Exactly one of ``enter_frames`` / ``enter_seconds`` is set after construction (the frames
    default fills in when neither is given), and likewise for ``exit_*``.

    Example:
        >>> from orchestrator.relations.predicates import Contains
        >>> r = RelationSpec("in_hand", Contains(), objects=("cup",), enter_seconds=0.2)
        >>> r.enter_frames, r.enter_seconds, r.exit_frames, r.applies_to("cup"), r.applies_to("bowl")
        (None, 0.2, 5, True, False)
    """

    name: str
    when: Predicate
    objects: tuple[str, ...] | None = None  # None: any label
    enter_frames: int | None = None
    enter_seconds: float | None = None
    exit_frames: int | None = None
    exit_seconds: float | None = None
    update_every_frames: int = 0

    def __post_init__(self) -> None:
        for stage, default in (("enter", DEFAULT_ENTER_FRAMES), ("exit", DEFAULT_EXIT_FRAMES)):
            frames, seconds = getattr(self, f"{stage}_frames"), getattr(self, f"{stage}_seconds")
            if frames is not None and seconds is not None:
                raise ValueError(f"relation {self.name!r}: give {stage}_frames or {stage}_seconds, not both")
            if frames is None and seconds is None:
                object.__setattr__(self, f"{stage}_frames", default)
            elif frames is not None and (isinstance(frames, bool) or not isinstance(frames, int) or frames < 1):
                raise ValueError(f"relation {self.name!r}: {stage}_frames must be an integer >= 1, got {frames!r}")
            elif seconds is not None and not (
                isinstance(seconds, int | float) and math.isfinite(seconds) and seconds > 0
            ):
                raise ValueError(f"relation {self.name!r}: {stage}_seconds must be a number > 0, got {seconds!r}")
        if isinstance(self.update_every_frames, bool) or self.update_every_frames < 0:
            raise ValueError(
                f"relation {self.name!r}: update_every_frames must be >= 0, got {self.update_every_frames}"
            )
        if self.objects is not None:
            object.__setattr__(self, "objects", tuple(self.objects))

    def applies_to(self, label: str) -> bool:
        """Whether an object with this label can take part in the relation."""
        return self.objects is None or label in self.objects

    def to_config(self) -> dict[str, Any]:
        """The relation as YAML would give it, defaults filled in."""
        out: dict[str, Any] = {"objects": "any" if self.objects is None else list(self.objects)}
        out["when"] = self.when.to_config()
        for stage in ("enter", "exit"):
            frames = getattr(self, f"{stage}_frames")
            out.update(
                {f"{stage}_frames": frames}
                if frames is not None
                else {f"{stage}_seconds": getattr(self, f"{stage}_seconds")}
            )
        out["update_every_frames"] = self.update_every_frames
        return out


@dataclass(frozen=True)
class RelationsSpec:
    """The whole ``relations:`` section; ``relations`` keeps the YAML order (it orders records)."""

    objects: ObjectsSpec
    relations: tuple[RelationSpec, ...]

    def __post_init__(self) -> None:
        names = [r.name for r in self.relations]
        if len(set(names)) != len(names):
            raise ValueError(f"relation names must be unique, got {names}")

    def to_dict(self) -> dict[str, Any]:
        """The resolved section (defaults filled in), e.g. for ``orchestrator validate``."""
        return {
            "objects": {
                "detector": self.objects.detector,
                "tracker": {"type": self.objects.tracker.type, "params": dict(self.objects.tracker.params)},
                "not_hand": {
                    "labels": list(self.objects.not_hand.labels),
                    "min_hand_overlap": self.objects.not_hand.min_hand_overlap,
                },
            },
            "report": {r.name: r.to_config() for r in self.relations},
        }


# --------------------------------------------------------------------------- parsing
def schema_issues(raw: Any) -> list[Issue]:
    """Structure problems of a ``relations:`` section as ``(path, message)``, jsonschema's wording.

    ``orchestrator.config`` words these better (and adds lines) with its own ``_schema_issues``;
    this is for using `parse_relations` on its own.
    """
    validator = jsonschema.Draft202012Validator(RELATIONS_SCHEMA)
    errors = sorted(validator.iter_errors(raw), key=lambda e: [str(p) for p in e.absolute_path])
    return [((*_ROOT, *error.absolute_path), error.message) for error in errors]


def _close(word: str, choices: Sequence[str]) -> str:
    matches = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def parse_relations(
    raw: Mapping[str, Any] | None,
    detector_names: Sequence[str],
    object_labels: Sequence[str] | None = None,
) -> tuple[RelationsSpec | None, list[Issue]]:
    """Check a ``relations:`` section and build its spec.

    Args:
        raw: the section as ``yaml.safe_load`` gives it (``None`` or ``{}``: no relations).
        detector_names: the pipeline's detector names (``objects.detector`` must be one).
        object_labels: the labels the object detector can give, when known; each label under a
            relation's ``objects`` must be one of them. ``not_hand.labels`` is not checked (the
            default ``person`` is harmless when the detector is restricted to other classes).

    Returns:
        ``(spec, [])``, or ``(None, issues)`` where each issue is ``(path, message)`` and the path
        starts at the pipeline's top (``("relations", "report", "holding", "enter_frames")``), ready
        for ``config``'s line lookup. Structure problems come first, in jsonschema's wording (only
        when there are any does nothing else get checked); ``(None, [])`` means no relations.
    """
    if raw is None or (isinstance(raw, Mapping) and not raw):
        return None, []
    issues = schema_issues(raw)
    if issues:
        return None, issues

    objects_raw = raw["objects"]
    detector = objects_raw["detector"]
    if detector not in detector_names:
        issues.append(
            (
                (*_ROOT, "objects", "detector"),
                f"unknown detector {detector!r}; the pipeline's detectors: {', '.join(detector_names) or '(none)'}",
            )
        )
    tracker_raw = objects_raw.get("tracker")
    tracker = (
        ObjectTrackerSpec()
        if tracker_raw is None
        else ObjectTrackerSpec(tracker_raw["type"], dict(tracker_raw.get("params") or {}))
    )
    not_hand_raw = objects_raw.get("not_hand") or {}
    not_hand = NotHandSpec(
        labels=tuple(not_hand_raw.get("labels", DEFAULT_NOT_HAND_LABELS)),
        min_hand_overlap=float(not_hand_raw.get("min_hand_overlap", DEFAULT_MIN_HAND_OVERLAP)),
    )

    relations: list[RelationSpec] = []
    for name, entry in raw["report"].items():
        base = (*_ROOT, "report", name)
        before = len(issues)
        labels = entry.get("objects", "any")
        if isinstance(labels, str):
            if labels != "any":
                issues.append(
                    (
                        (*base, "objects"),
                        f"expected a list of object labels or 'any', got {labels!r} (write [{labels}])",
                    )
                )
            labels = None
        elif object_labels is not None:
            known = list(object_labels)
            for index, label in enumerate(labels):
                if label not in known:
                    issues.append(
                        (
                            (*base, "objects", index),
                            f"unknown object label {label!r}{_close(label, known)}; "
                            f"labels of detector {detector!r}: {', '.join(known) or '(none)'}",
                        )
                    )
        for stage in ("enter", "exit"):
            if f"{stage}_frames" in entry and f"{stage}_seconds" in entry:
                issues.append(((*base, f"{stage}_seconds"), f"give {stage}_frames or {stage}_seconds, not both"))
        predicate, predicate_issues = build_predicate(entry["when"], (*base, "when"))
        issues += predicate_issues
        if len(issues) > before or predicate is None:
            continue
        relations.append(
            RelationSpec(
                name=name,
                when=predicate,
                objects=None if labels is None else tuple(labels),
                enter_frames=entry.get("enter_frames"),
                enter_seconds=entry.get("enter_seconds"),
                exit_frames=entry.get("exit_frames"),
                exit_seconds=entry.get("exit_seconds"),
                update_every_frames=entry.get("update_every_frames", 0),
            )
        )
    if issues:
        return None, issues
    return RelationsSpec(ObjectsSpec(detector, tracker, not_hand), tuple(relations)), []
