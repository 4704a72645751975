"""The relations: section: its JSON Schema (checked once), parse_relations' specs and issues, spec dataclasses."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from orchestrator.relations import (
    RELATIONS_SCHEMA,
    AllOf,
    Contains,
    Direction,
    Near,
    NotHandSpec,
    ObjectsSpec,
    ObjectTrackerSpec,
    Overlap,
    RelationSpec,
    RelationsSpec,
    parse_relations,
    schema_issues,
)

DETECTORS = ["hands", "objects"]
LABELS = ["person", "bottle", "cup", "bowl"]

EXAMPLE = yaml.safe_load(
    textwrap.dedent(
        """
        objects:
          detector: objects
          tracker: {type: sort, params: {class_aware: true, min_hits: 1, max_age_frames: 15}}
          not_hand:
            labels: [person]
            min_hand_overlap: 0.5
        report:
          holding:
            objects: [cup, bottle]
            when:
              all:
                - overlap: {min_iou: 0.05, min_object_covered: 0.3}
                - near: {max_gap: 0.25}
            enter_frames: 3
            exit_frames: 5
            update_every_frames: 15
          above_hand:
            when: {above: {min_offset: 0.1}}
            enter_seconds: 0.2
            exit_seconds: 0.5
        """
    )
)


def with_changes(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """EXAMPLE with the value at ``path`` replaced (``...`` deletes the key)."""
    raw = copy.deepcopy(EXAMPLE)
    target = raw
    for part in path[:-1]:
        target = target[part]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return raw


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(RELATIONS_SCHEMA)
    assert jsonschema.Draft202012Validator(RELATIONS_SCHEMA).is_valid(EXAMPLE)


def test_the_example_parses_to_frozen_specs() -> None:
    spec, issues = parse_relations(EXAMPLE, DETECTORS, LABELS)
    assert issues == []
    assert spec == RelationsSpec(
        objects=ObjectsSpec(
            "objects",
            ObjectTrackerSpec("sort", {"class_aware": True, "min_hits": 1, "max_age_frames": 15}),
            NotHandSpec(("person",), 0.5),
        ),
        relations=(
            RelationSpec(
                "holding",
                AllOf((Overlap(min_iou=0.05, min_object_covered=0.3), Near(max_gap=0.25))),
                objects=("cup", "bottle"),
                enter_frames=3,
                exit_frames=5,
                update_every_frames=15,
            ),
            RelationSpec("above_hand", Direction("above", 0.1), enter_seconds=0.2, exit_seconds=0.5),
        ),
    )
    with pytest.raises(AttributeError):
        spec.relations[0].name = "other"  # type: ignore[misc]


def test_defaults_and_resolved_dict() -> None:
    raw = {"objects": {"detector": "objects"}, "report": {"touching": {"when": {"contains": None}}}}
    spec, issues = parse_relations(raw, DETECTORS, None)
    assert issues == []
    assert spec is not None
    assert spec.to_dict() == {
        "objects": {
            "detector": "objects",
            "tracker": {"type": "sort", "params": {"label_vote": True, "high_score": 0.0, "low_score": 0.0}},
            "not_hand": {"labels": ["person"], "min_hand_overlap": 0.5},
        },
        "report": {
            "touching": {
                "objects": "any",
                "when": {"contains": {"min_object_covered": 1.0, "margin": 0.0}},
                "enter_frames": 3,
                "exit_frames": 5,
                "update_every_frames": 0,
            }
        },
    }
    # The resolved dict is itself a valid section that parses to the same spec.
    assert parse_relations(spec.to_dict(), DETECTORS, LABELS) == (spec, [])


def test_resolved_dict_of_the_example_round_trips() -> None:
    spec, _ = parse_relations(EXAMPLE, DETECTORS, LABELS)
    assert spec is not None
    assert parse_relations(spec.to_dict(), DETECTORS, LABELS) == (spec, [])


@pytest.mark.parametrize("raw", [None, {}])
def test_no_relations(raw: Any) -> None:
    assert parse_relations(raw, DETECTORS, LABELS) == (None, [])


def test_not_hand_can_be_turned_off() -> None:
    spec, issues = parse_relations(with_changes(("objects", "not_hand"), {"labels": []}), DETECTORS, LABELS)
    assert issues == [] and spec is not None
    assert spec.objects.not_hand == NotHandSpec((), 0.5)


@pytest.mark.parametrize("score", [0.08, 0.17, 0.9])
def test_the_default_object_tracker_tracks_what_a_low_score_detector_reports(score: float) -> None:
    # CenterNet sees egodex table objects at 0.08-0.3: the default object tracker must follow them
    # (it took the hands' high_score 0.5 and started no track on them).
    from detectors.detections import Detections
    from orchestrator.registry import TRACKERS

    tracker_spec = ObjectsSpec("objects").tracker
    tracker = TRACKERS.get(tracker_spec.type).obj(**tracker_spec.params)
    for frame in range(3):
        cup = Detections.from_lists([[100 + frame, 100, 160, 180]], [score], [41], ["cup"])
        tracks = tracker.update(frame, [(frame, cup)])
    assert [(t.track_id, t.label, str(t.state)) for t in tracks] == [(1, "cup", "confirmed")]


def test_not_hand_any_label() -> None:
    spec, issues = parse_relations(with_changes(("objects", "not_hand"), {"labels": "any"}), DETECTORS, LABELS)
    assert issues == [] and spec is not None
    assert spec.objects.not_hand == NotHandSpec(None, 0.5)
    assert spec.to_dict()["objects"]["not_hand"]["labels"] == "any"
    assert parse_relations(spec.to_dict(), DETECTORS, LABELS) == (spec, [])
    spec, issues = parse_relations(with_changes(("objects", "not_hand"), {"labels": "person"}), DETECTORS, LABELS)
    assert spec is None and issues == [
        (
            ("relations", "objects", "not_hand", "labels"),
            "expected a list of labels or 'any', got 'person' (write [person])",
        )
    ]


HOLDING = ("relations", "report", "holding")
SEMANTIC_ISSUES = [
    (
        "unknown-detector",
        ("objects", "detector"),
        "object",
        [(("relations", "objects", "detector"), "unknown detector 'object'; the pipeline's detectors: hands, objects")],
    ),
    (
        "unknown-label",
        ("report", "holding", "objects"),
        ["cup", "botle"],
        [
            (
                (*HOLDING, "objects", 1),
                "unknown object label 'botle' (did you mean 'bottle'?); labels of detector 'objects': "
                "person, bottle, cup, bowl",
            )
        ],
    ),
    (
        "label-not-a-list",
        ("report", "holding", "objects"),
        "cup",
        [((*HOLDING, "objects"), "expected a list of object labels or 'any', got 'cup' (write [cup])")],
    ),
    (
        "both-enter",
        ("report", "holding", "enter_seconds"),
        0.1,
        [((*HOLDING, "enter_seconds"), "give enter_frames or enter_seconds, not both")],
    ),
    (
        "both-exit",
        ("report", "holding", "exit_seconds"),
        0.1,
        [((*HOLDING, "exit_seconds"), "give exit_frames or exit_seconds, not both")],
    ),
    (
        "near-wrong-limit",
        ("report", "holding", "when", "all", 1),
        {"near": {"max_distance": 1.0}},
        [((*HOLDING, "when", "all", 1, "near"), "max_distance does not apply to measure 'gap'; use max_gap")],
    ),
    (
        "near-without-limit",
        ("report", "holding", "when"),
        {"near": {"measure": "centers"}},
        [((*HOLDING, "when", "near"), "measure 'centers' needs max_distance (a multiple of the hand box's diagonal)")],
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "issues"), [c[1:] for c in SEMANTIC_ISSUES], ids=[c[0] for c in SEMANTIC_ISSUES]
)
def test_semantic_issues(path: tuple, value: Any, issues: list) -> None:
    assert parse_relations(with_changes(path, value), DETECTORS, LABELS) == (None, issues)


def test_labels_are_not_checked_when_unknown() -> None:
    raw = with_changes(("report", "holding", "objects"), ["anything"])
    spec, issues = parse_relations(raw, DETECTORS, None)
    assert issues == [] and spec is not None and spec.relations[0].objects == ("anything",)


def test_not_hand_labels_are_not_checked_against_the_detector() -> None:
    """A detector restricted to table-top classes never says 'person': the default filter is harmless."""
    spec, issues = parse_relations(EXAMPLE, DETECTORS, ["cup", "bottle"])
    assert issues == [] and spec is not None


def test_every_issue_is_collected() -> None:
    raw = with_changes(("objects", "detector"), "nope")
    raw["report"]["holding"]["enter_seconds"] = 1.0
    raw["report"]["above_hand"]["objects"] = ["cupp"]
    _, issues = parse_relations(raw, DETECTORS, LABELS)
    assert [path for path, _ in issues] == [
        ("relations", "objects", "detector"),
        (*HOLDING, "enter_seconds"),
        ("relations", "report", "above_hand", "objects", 0),
    ]


SCHEMA_ISSUES = [
    ("unknown-key", ("report", "holding", "enter"), 3, (*HOLDING, "enter"), "unknown key 'enter'; expected one of"),
    ("enter-zero", ("report", "holding", "enter_frames"), 0, None, "value 0 is out of range: must be >= 1"),
    ("enter-float", ("report", "holding", "enter_frames"), 1.5, None, "expected integer, got a number 1.5"),
    ("seconds-zero", ("report", "holding", "exit_seconds"), 0, None, "value 0 is out of range: must be > 0"),
    ("iou-range", ("report", "holding", "when", "all", 0, "overlap", "min_iou"), 1.5, None, "must be <= 1"),
    ("two-keys", ("report", "holding", "when", "near"), {"max_gap": 1}, (*HOLDING, "when"), "at most 1 key(s)"),
    ("bad-predicate", ("report", "holding", "when"), {"inside": {}}, (*HOLDING, "when", "inside"), "unknown key"),
    ("empty-all", ("report", "holding", "when"), {"all": []}, (*HOLDING, "when", "all"), "should be non-empty"),
    ("empty-report", ("report",), {}, ("relations", "report"), "must not be empty"),
    ("no-detector", ("objects", "detector"), ..., ("relations", "objects"), "missing required key 'detector'"),
    ("no-when", ("report", "holding", "when"), ..., HOLDING, "missing required key 'when'"),
    ("bad-name", ("report", "hold ing"), {"when": {"above": None}}, ("relations", "report"), "must match"),
    ("tracker-no-type", ("objects", "tracker"), {"params": {}}, ("relations", "objects", "tracker"), "key 'type'"),
    (
        "measure",
        ("report", "holding", "when"),
        {"near": {"measure": "edge", "max_gap": 1}},
        (*HOLDING, "when", "near", "measure"),
        "expected one of gap, centers; got 'edge'",
    ),
    ("hand-overlap", ("objects", "not_hand", "min_hand_overlap"), 0, None, "must be > 0"),
]


@pytest.mark.parametrize(
    ("path", "value", "where", "message"), [c[1:] for c in SCHEMA_ISSUES], ids=[c[0] for c in SCHEMA_ISSUES]
)
def test_structure_issues_use_the_schema(path: tuple, value: Any, where: tuple | None, message: str) -> None:
    """Structure is the schema's alone, in the one wording of detectors.params; parse_relations does not repeat it."""
    issues = schema_issues(with_changes(path, value))
    assert len(issues) == 1
    got_path, got_message = issues[0]
    assert got_path == (where if where is not None else ("relations", *path))
    assert message in got_message


def test_valid_sections_have_no_schema_issues() -> None:
    assert schema_issues(EXAMPLE) == []


def test_config_reports_schema_issues_with_lines() -> None:
    """How orchestrator.config words the schema's errors, with the YAML line of each."""
    from orchestrator.config.issues import IssueLog
    from orchestrator.config.yaml_lines import load_yaml

    text = textwrap.dedent(
        """\
        relations:
          objects:
            detector: objects
          report:
            holding:
              enter_frames: 0
              when:
                overlaps: {min_iou: 0.1}
        """
    )
    data, lines = load_yaml(text, "p.yaml")
    log = IssueLog("p.yaml", Path("."), lines)
    assert not log.check(data["relations"], RELATIONS_SCHEMA, ("relations",))
    assert [str(i) for i in log.issues] == [
        "p.yaml:6: relations.report.holding.enter_frames: value 0 is out of range: must be >= 1",
        "p.yaml:8: relations.report.holding.when.overlaps: unknown key 'overlaps'; expected one of: "
        "above, all, any, below, contains, fingertips_in, grasp, left_of, moves_with, near, overlap, right_of",
    ]


def test_pipeline_schema_composes_the_relations_schema() -> None:
    """One check for the whole file: the pipeline schema holds the relations section, so it reports the same."""
    from orchestrator.config import pipeline_schema

    validator = jsonschema.Draft202012Validator(pipeline_schema())
    pipeline = {"version": 1, "detectors": {"hands": {"plugin": "x"}}}
    for relations in (EXAMPLE, {}, None):
        assert validator.is_valid({**pipeline, "relations": relations})
    broken = with_changes(("report", "holding", "enter_frames"), 0)
    assert [list(e.absolute_path) for e in validator.iter_errors({**pipeline, "relations": broken})] == [
        ["relations", "report", "holding", "enter_frames"]
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"enter_frames": 2, "enter_seconds": 0.1}, "relation 'r': give enter_frames or enter_seconds, not both"),
        ({"exit_frames": 0}, "relation 'r': exit_frames must be an integer >= 1, got 0"),
        ({"exit_seconds": -1.0}, "relation 'r': exit_seconds must be a number > 0, got -1.0"),
        ({"update_every_frames": -1}, "relation 'r': update_every_frames must be >= 0, got -1"),
    ],
)
def test_relation_spec_is_checked(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as info:
        RelationSpec("r", Contains(), **kwargs)
    assert str(info.value) == message


def test_relation_names_are_unique_and_not_hand_range_checked() -> None:
    with pytest.raises(ValueError, match="unique"):
        RelationsSpec(ObjectsSpec("objects"), (RelationSpec("r", Contains()), RelationSpec("r", Contains())))
    with pytest.raises(ValueError, match=r"min_hand_overlap must lie in \(0, 1\]"):
        NotHandSpec(min_hand_overlap=0.0)
