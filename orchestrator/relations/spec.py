"""The ``relations:`` section of a pipeline as frozen specs, and `parse_relations`, which builds them.

The grammar is documented in `orchestrator.relations`. Structure and ranges are checked once,
by the schema (`orchestrator.relations.schema.RELATIONS_SCHEMA`, composed into the pipeline
file's schema, so ``orchestrator.config`` reports ``file:line: path: message``). `parse_relations`
takes a section the schema accepts, checks only what a schema cannot say (names that must exist
elsewhere in the pipeline, mutually exclusive keys, which ``near`` limit goes with which
measure) and builds the specs.

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

from detectors.geometry import Box, diagonal
from orchestrator.relations.predicates import Issue, Predicate, build_predicate

#: Defaults of the temporal rules: a relation needs 3 consecutive frames to start (0.1 s at
#: 30 fps: one-frame detector flicker never starts one) and 5 failing frames to end (a hand
#: briefly hiding the object, or a detector running every few frames, does not split it).
DEFAULT_ENTER_FRAMES = 3
DEFAULT_EXIT_FRAMES = 5
#: Labels the object detector gives to a hand or an arm (COCO has no "hand" class).
DEFAULT_NOT_HAND_LABELS: tuple[str, ...] = ("person",)
DEFAULT_MIN_HAND_OVERLAP = 0.5
#: The object tracker when ``objects.tracker`` is absent: label-agnostic with a label vote, so an
#: object keeps one track (one id) when the detector's label for it flips ("bottle", then "cup"),
#: and its label is the score-weighted majority of its detections' labels. Every detection the
#: object detector reports may start a track (``high_score`` and ``low_score`` 0): the detector's
#: own thresholds (``score_threshold``, ``class_thresholds``) already chose what is an object, and
#: the tracker's hand default (0.5) started no track at all on CenterNet's table objects (0.1-0.3).
DEFAULT_OBJECT_TRACKER: tuple[str, Mapping[str, Any]] = (
    "sort",
    {"label_vote": True, "high_score": 0.0, "low_score": 0.0},
)

_ROOT = ("relations",)


# --------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class ObjectTrackerSpec:
    """The object tracker's shape; the runtime builds it (``type`` is a registered tracker name)."""

    type: str = DEFAULT_OBJECT_TRACKER[0]
    params: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_OBJECT_TRACKER[1]))


@dataclass(frozen=True)
class NotHandSpec:
    """Which object boxes are taken for a hand (and ignored).

    ``labels=()`` turns the filter off; ``labels=None`` (YAML ``any``) lets a box of any label be
    a hand: CenterNet sees a bare hand as "bottle 0.11" or "cell phone 0.10" on egocentric footage.
    """

    labels: tuple[str, ...] | None = DEFAULT_NOT_HAND_LABELS
    min_hand_overlap: float = DEFAULT_MIN_HAND_OVERLAP

    def __post_init__(self) -> None:
        if not 0.0 < self.min_hand_overlap <= 1.0:
            raise ValueError(f"not_hand: min_hand_overlap must lie in (0, 1], got {self.min_hand_overlap!r}")
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))

    @property
    def active(self) -> bool:
        """Whether any box can be taken for a hand (``labels`` not empty)."""
        return self.labels is None or bool(self.labels)

    def may_be_hand(self, label: str) -> bool:
        """Whether a box with this label can be taken for a hand."""
        return self.labels is None or label in self.labels


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
    max_carried_frames: int = 0  # frames an active relation outlives its object's track (0: none)
    grace_frames: int = 0  # frames an active relation waits for a lost track's successor (0: none)
    max_per_hand: int | None = None  # at most this many active at once per hand; None: no limit
    min_object_score: float | None = None  # None: no minimum
    min_object_size: float | None = None  # object diagonal / hand diagonal; None: no minimum

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
        if self.max_per_hand is not None and (isinstance(self.max_per_hand, bool) or self.max_per_hand < 1):
            raise ValueError(f"relation {self.name!r}: max_per_hand must be >= 1, got {self.max_per_hand}")
        if isinstance(self.max_carried_frames, bool) or self.max_carried_frames < 0:
            raise ValueError(f"relation {self.name!r}: max_carried_frames must be >= 0, got {self.max_carried_frames}")
        if isinstance(self.grace_frames, bool) or not isinstance(self.grace_frames, int) or self.grace_frames < 0:
            raise ValueError(f"relation {self.name!r}: grace_frames must be an integer >= 0, got {self.grace_frames!r}")
        if isinstance(self.update_every_frames, bool) or self.update_every_frames < 0:
            raise ValueError(
                f"relation {self.name!r}: update_every_frames must be >= 0, got {self.update_every_frames}"
            )
        if self.objects is not None:
            object.__setattr__(self, "objects", tuple(self.objects))
        for key, high in (("min_object_score", 1.0), ("min_object_size", 10.0)):
            value = getattr(self, key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= high
            ):
                raise ValueError(f"relation {self.name!r}: {key} must be a number in [0, {high:g}], got {value!r}")

    def applies_to(self, label: str) -> bool:
        """Whether an object with this label can take part in the relation."""
        return self.objects is None or label in self.objects

    def admits(self, hand_box: Box, object_box: Box, object_score: float) -> bool:
        """Whether an object is sure and large enough: ``min_object_score`` and ``min_object_size``.

        The size is the object box's diagonal over the hand box's; an object failing either
        fails the relation's predicate on that frame (as a label it does not apply to does).

        Example:
            >>> from orchestrator.relations.predicates import Contains
            >>> r = RelationSpec("holding", Contains(), min_object_score=0.1, min_object_size=0.2)
            >>> r.admits((0, 0, 30, 40), (0, 0, 6, 8), 0.1), r.admits((0, 0, 30, 40), (0, 0, 6, 7), 0.5)
            (True, False)
        """
        if self.min_object_score is not None and object_score < self.min_object_score:
            return False
        return self.min_object_size is None or diagonal(object_box) >= self.min_object_size * diagonal(hand_box)

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
        if self.max_carried_frames:  # only when set, so configs written before it read the same
            out["max_carried_frames"] = self.max_carried_frames
        if self.grace_frames:  # likewise
            out["grace_frames"] = self.grace_frames
        if self.max_per_hand is not None:
            out["max_per_hand"] = self.max_per_hand
        for key in ("min_object_score", "min_object_size"):  # only when set: no minimum by default
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
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
                    "labels": "any" if self.objects.not_hand.labels is None else list(self.objects.not_hand.labels),
                    "min_hand_overlap": self.objects.not_hand.min_hand_overlap,
                },
            },
            "report": {r.name: r.to_config() for r in self.relations},
        }


# --------------------------------------------------------------------------- parsing
def _close(word: str, choices: Sequence[str]) -> str:
    matches = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def parse_relations(
    raw: Mapping[str, Any] | None,
    detector_names: Sequence[str],
    object_labels: Sequence[str] | None = None,
) -> tuple[RelationsSpec | None, list[Issue]]:
    """Build the spec of a ``relations:`` section the schema accepts, checking what the schema cannot.

    Args:
        raw: the section as ``yaml.safe_load`` gives it (``None`` or ``{}``: no relations), valid
            against `RELATIONS_SCHEMA` (check with `schema_issues`, or as part of the pipeline
            file); on data the schema rejects this may raise KeyError, TypeError or AttributeError.
        detector_names: the pipeline's detector names (``objects.detector`` must be one).
        object_labels: the labels the object detector can give, when known; each label under a
            relation's ``objects`` must be one of them. ``not_hand.labels`` is not checked (the
            default ``person`` is harmless when the detector is restricted to other classes).

    Returns:
        ``(spec, [])``, or ``(None, issues)`` where each issue is ``(path, message)`` and the path
        starts at the pipeline's top (``("relations", "report", "holding", "enter_frames")``), ready
        for ``config``'s line lookup; every such issue is collected. ``(None, [])`` means no relations.
    """
    if raw is None or (isinstance(raw, Mapping) and not raw):
        return None, []
    issues: list[Issue] = []

    objects_raw = raw["objects"]
    detector = objects_raw["detector"]
    if detector not in detector_names:
        names = ", ".join(map(str, detector_names)) or "(none)"
        issues.append(
            ((*_ROOT, "objects", "detector"), f"unknown detector {detector!r}; the pipeline's detectors: {names}")
        )
    tracker_raw = objects_raw.get("tracker")
    tracker = (
        ObjectTrackerSpec()
        if tracker_raw is None
        else ObjectTrackerSpec(tracker_raw["type"], dict(tracker_raw.get("params") or {}))
    )
    not_hand_raw = objects_raw.get("not_hand") or {}
    not_hand_labels = not_hand_raw.get("labels", DEFAULT_NOT_HAND_LABELS)
    if isinstance(not_hand_labels, str) and not_hand_labels != "any":
        issues.append(
            (
                (*_ROOT, "objects", "not_hand", "labels"),
                f"expected a list of labels or 'any', got {not_hand_labels!r} (write [{not_hand_labels}])",
            )
        )
        not_hand_labels = DEFAULT_NOT_HAND_LABELS
    not_hand = NotHandSpec(
        labels=None if not_hand_labels == "any" else tuple(not_hand_labels),
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
                max_carried_frames=entry.get("max_carried_frames", 0),
                grace_frames=entry.get("grace_frames", 0),
                max_per_hand=entry.get("max_per_hand"),
                min_object_score=entry.get("min_object_score"),
                min_object_size=entry.get("min_object_size"),
            )
        )
    if issues:
        return None, issues
    return RelationsSpec(ObjectsSpec(detector, tracker, not_hand), tuple(relations)), []
