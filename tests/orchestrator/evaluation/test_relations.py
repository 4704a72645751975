"""Scoring relation intervals against labelled contacts: exact counts on hand-made intervals (offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import UserError
from orchestrator.evaluation.relations import (
    COUNT_KEYS,
    Contact,
    RelationInterval,
    fit_contacts,
    load_contacts,
    majority_side,
    nearest_label_side,
    relation_intervals,
    score_relations,
    temporal_iou,
    with_sides,
)


def _rel(rid: int, start: int, end: int, side: str | None, name: str = "holding") -> RelationInterval:
    return RelationInterval(rid, name, hand_id=1, start=start, end=end, side=side)


# ----------------------------------------------------------------------------- temporal IoU
def test_temporal_iou_counts_both_ends() -> None:
    assert temporal_iou(0, 9, 0, 9) == 1.0
    assert temporal_iou(0, 9, 0, 2) == 0.3  # 3 shared frames over 10
    assert temporal_iou(0, 9, 9, 9) == 0.1  # one shared frame
    assert temporal_iou(0, 9, 10, 20) == 0.0  # adjacent, no shared frame
    assert temporal_iou(0, 9, 5, 14) == 5 / 15


# ----------------------------------------------------------------------------- scoring
def test_exactly_the_threshold_counts_and_just_below_does_not() -> None:
    contacts = [Contact("c", "left", 0, 9)]
    at = score_relations(contacts, [_rel(1, 0, 2, "left")], min_tiou=0.3)  # 3/10
    below = score_relations(contacts, [_rel(1, 0, 1, "left")], min_tiou=0.3)  # 2/10
    assert at["overall"] == {
        "contacts": 1,
        "found": 1,
        "relations": 1,
        "matched": 1,
        "recall": 1.0,
        "precision": 1.0,
    }
    assert below["overall"] == {
        "contacts": 1,
        "found": 0,
        "relations": 1,
        "matched": 0,
        "recall": 0.0,
        "precision": 0.0,
    }
    # Other decimal thresholds met exactly: 7/10, 1/3 (as its nearest float), 1.
    assert score_relations(contacts, [_rel(1, 0, 6, "left")], min_tiou=0.7)["overall"]["found"] == 1
    assert (
        score_relations([Contact("c", "left", 0, 2)], [_rel(1, 0, 0, "left")], min_tiou=1 / 3)["overall"]["found"] == 1
    )
    assert score_relations(contacts, [_rel(1, 0, 9, "left")], min_tiou=1.0)["overall"]["found"] == 1


def test_side_mismatch_and_unknown_side_match_nothing() -> None:
    contacts = [Contact("c", "left", 0, 9)]
    result = score_relations(contacts, [_rel(1, 0, 9, "right"), _rel(2, 0, 9, None)])
    assert result["overall"] == {
        "contacts": 1,
        "found": 0,
        "relations": 2,
        "matched": 0,
        "recall": 0.0,
        "precision": 0.0,
    }
    # The side compares without case or surrounding spaces.
    assert score_relations(contacts, [_rel(1, 0, 9, " Left")])["overall"]["found"] == 1


def test_two_relations_on_one_contact_both_match_and_it_is_found_once() -> None:
    contacts = [Contact("c", "right", 10, 29)]
    relations = [_rel(1, 10, 19, "right"), _rel(2, 15, 29, "right", name="touching")]
    result = score_relations(contacts, relations)
    assert result["overall"] == {
        "contacts": 1,
        "found": 1,
        "relations": 2,
        "matched": 2,
        "recall": 1.0,
        "precision": 1.0,
    }
    assert result["detail"]["contacts"][0]["found_by"] == [1, 2]
    assert result["by_relation"]["holding"]["found"] == result["by_relation"]["touching"]["found"] == 1


def test_mixed_case_exact_numbers_per_relation_and_overall() -> None:
    contacts = [Contact("c", "left", 0, 9), Contact("c", "right", 0, 9), Contact("c", "right", 50, 59)]
    relations = [
        _rel(1, 0, 2, "left"),  # 0.3 with the left contact
        _rel(2, 0, 9, "left", name="touching"),  # the same contact again
        _rel(3, 50, 59, "left"),  # the right contact's frames, wrong side
        _rel(4, 30, 40, "right", name="touching"),  # overlaps nothing
        _rel(5, 0, 9, "right", name="near"),  # not a contact kind: ignored
    ]
    result = score_relations(contacts, relations, kinds=("holding", "touching"))
    assert set(result) == {"overall", "by_relation", "detail"}
    assert result["overall"] == {
        "contacts": 3,
        "found": 1,
        "relations": 4,
        "matched": 2,
        "recall": 0.3333,
        "precision": 0.5,
    }
    assert result["by_relation"] == {
        "holding": {"contacts": 3, "found": 1, "relations": 2, "matched": 1, "recall": 0.3333, "precision": 0.5},
        "touching": {"contacts": 3, "found": 1, "relations": 2, "matched": 1, "recall": 0.3333, "precision": 0.5},
    }
    assert [r["best_tiou"] for r in result["detail"]["relations"]] == [0.3, 1.0, 0.0, 0.0]
    assert [r["matched"] for r in result["detail"]["relations"]] == [True, True, False, False]


def test_a_kind_without_relations_has_no_precision() -> None:
    result = score_relations([Contact("c", "left", 0, 9)], [], kinds=("holding", "touching"))
    assert list(result["by_relation"]) == ["holding", "touching"]
    assert result["overall"] == dict(zip(COUNT_KEYS, (1, 0, 0, 0, 0.0, None), strict=True))


def test_min_tiou_outside_the_unit_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="min_tiou"):
        score_relations([], [], min_tiou=0.0)


# ----------------------------------------------------------------------------- relations from records
def test_relation_intervals_from_records_open_ones_end_on_the_last_frame() -> None:
    records = [
        {"type": "relation.start", "frame": 3, "relation_id": 2, "relation": "touching", "hand_id": 4},
        {"type": "relation.start", "frame": 1, "relation_id": 1, "relation": "holding", "hand_id": 4},
        {"type": "relation.end", "frame": 7, "relation_id": 1, "relation": "holding", "hand_id": 4},
    ]
    got = relation_intervals(records, last_frame=19)
    assert [(r.relation_id, r.relation, r.hand_id, r.start, r.end) for r in got] == [
        (1, "holding", 4, 1, 7),
        (2, "touching", 4, 3, 19),
    ]


def test_sides_from_tracks_majority_over_the_relations_frames() -> None:
    box = (0.0, 0.0, 10.0, 10.0)
    # Track 1 is "left" on frames 0-5, "right" on 6-7, unknown on 8-9; track 2 has no side.
    tracks = {f: {1: (box, "left" if f < 6 else ("right" if f < 8 else None)), 2: (box, None)} for f in range(10)}
    relations = [
        RelationInterval(1, "holding", 1, 0, 9),
        RelationInterval(2, "holding", 1, 5, 9),  # left 1, right 2
        RelationInterval(3, "holding", 1, 4, 7),  # left 2, right 2: a tie
        RelationInterval(4, "holding", 2, 0, 9),  # no side at all
        RelationInterval(5, "holding", 3, 0, 9),  # a track never reported
    ]
    assert [r.side for r in with_sides(relations, tracks)] == ["left", "right", None, None, None]


def test_sides_from_labels_nearest_centre() -> None:
    tracks = {f: {1: ((100.0, 100.0, 140.0, 140.0), "right")} for f in range(4)}
    labels = {
        0: [("left", (90.0, 90.0, 150.0, 150.0)), ("right", (300.0, 100.0, 340.0, 140.0))],
        1: [("left", (95.0, 95.0, 150.0, 150.0))],
        2: [("right", (0.0, 0.0, 10.0, 10.0))],
        # frame 3: no labels, no vote
    }
    got = with_sides([RelationInterval(1, "holding", 1, 0, 3)], tracks, labels)
    assert got[0].side == "left"  # 2 votes left, 1 right, whatever the track itself says
    assert nearest_label_side((0, 0, 10, 10), [("left", (0, 0, 4, 10)), ("right", (6, 0, 10, 10))]) is None
    assert nearest_label_side((0, 0, 10, 10), []) is None


def test_majority_side() -> None:
    assert majority_side(["left", "LEFT", "right"]) == "left"
    assert majority_side([]) is None
    assert majority_side(["right", None, None]) == "right"


# ----------------------------------------------------------------------------- contacts CSV
def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "contacts.csv"
    path.write_text(text)
    return path


def test_load_contacts_keeps_the_clips_rows(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "clip,hand,start_frame,end_frame,object,note\nv,right,18,79,cup,a note, with a comma\n\nw,left,1,2,lid,\n"
        "v,left,21,80,cup,\n",
    )
    assert load_contacts(path, "v") == [Contact("v", "right", 18, 79, "cup"), Contact("v", "left", 21, 80, "cup")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clip,hand,start_frame,end_frame\nv,left,1,2\n", "missing column.*object"),
        ("clip,side,start_frame,end_frame,object\nv,left,1,2,cup\n", "missing column.*hand"),
        ("clip,hand,start_frame,end_frame,object\nv,both,1,2,cup\n", ":2: hand must be left or right"),
        ("clip,hand,start_frame,end_frame,object\nv,left,a,2,cup\n", ":2: start_frame must be an integer"),
        ("clip,hand,start_frame,end_frame,object\nv,left,5,2,cup\n", ":2: end_frame 2 is before start_frame 5"),
        ("clip,hand,start_frame,end_frame,object\nw,left,1,2,cup\n", "no contact for clip 'v'.*clips there: w"),
        ("", "empty file"),
    ],
)
def test_load_contacts_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        load_contacts(_csv(tmp_path, text), "v")


def test_load_contacts_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read contacts"):
        load_contacts(tmp_path / "nope.csv", "v")


@pytest.mark.parametrize(
    ("frames", "trimmed", "expected", "warnings"),
    [
        (40, False, [(0, 9), (30, 39)], []),  # all inside
        (35, True, [(0, 9), (30, 34)], []),  # --max-frames 35: cut at frame 34, silently
        (20, True, [(0, 9)], []),  # --max-frames 20: the second one is left out
        (35, False, [(0, 9), (30, 34)], ["contact right 30-39 (lid) of clip 'c' ends after the clip's last frame 34"]),
    ],
)
def test_fit_contacts_to_the_frames_scored(frames: int, trimmed: bool, expected: list, warnings: list) -> None:
    contacts = [Contact("c", "left", 0, 9, "cup"), Contact("c", "right", 30, 39, "lid")]
    kept, said = fit_contacts(contacts, frames, trimmed)
    assert [(c.start, c.end) for c in kept] == expected
    assert len(said) == len(warnings) and all(w in s for w, s in zip(warnings, said, strict=True))


def test_a_contact_after_the_clip_is_an_error() -> None:
    with pytest.raises(
        UserError, match=r"contacts.csv: contact right 30-39 \(lid\) of clip 'c' starts after the clip's last frame 19"
    ):
        fit_contacts([Contact("c", "right", 30, 39, "lid")], 20, trimmed=False, source="contacts.csv")
