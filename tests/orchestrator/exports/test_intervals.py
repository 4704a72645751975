"""Relations to an interval table (CSV): columns and values on golden event streams and on a real run."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from helpers import DATA_DIR, run_cli
from helpers.scenes import scene_pipeline

from orchestrator.errors import UserError
from orchestrator.exports.events_file import read_events
from orchestrator.exports.intervals import COLUMNS, export_intervals, hand_tracker

# ``scripted_run`` (conftest.py): a real run's pipeline, video and events file (with tracks records).
ScriptedRun = Any
GOLDEN = DATA_DIR / "golden"

HEADER = (
    "relation_id,relation,hand,side,object,label,start_frame,end_frame,start_s,end_s,"
    "duration_frames,duration_s,reason,mean_score,max_score,carried_frames"
)
# The golden streams' relations, as tests/data/golden/*.jsonl have them (no tracks records: no sides).
EXPECTED = {
    "approach_and_grasp": [
        "1,near,1,,1,cup,8,39,0.266667,1.3,32,1.066667,end_of_stream,0.876,1.0,0",
        "2,holding,1,,1,cup,17,33,0.566667,1.1,17,0.566667,released,0.9512,1.0,0",
    ],
    "hand_leaves_frame": [
        "1,near,1,,1,cup,1,24,0.033333,0.8,24,0.8,hand_lost,1.0,1.0,0",
        "2,holding,1,,1,cup,1,24,0.033333,0.8,24,0.8,hand_lost,1.0,1.0,0",
    ],
    "two_hands_two_objects": [
        "1,near,1,,1,cup,1,39,0.033333,1.3,39,1.3,end_of_stream,1.0,1.0,0",
        "2,near,2,,2,bottle,1,39,0.033333,1.3,39,1.3,end_of_stream,1.0,1.0,0",
        "3,holding,1,,1,cup,1,39,0.033333,1.3,39,1.3,end_of_stream,0.9423,1.0,0",
        "4,holding,2,,2,bottle,1,39,0.033333,1.3,39,1.3,end_of_stream,0.7549,1.0,0",
    ],
}


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_golden_streams(scenario: str) -> None:
    result = run_cli("export", GOLDEN / f"{scenario}.jsonl", "--to", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [HEADER, *EXPECTED[scenario]]
    assert tuple(HEADER.split(",")) == COLUMNS


def test_carried_frames() -> None:
    """A cup carried in the hand, unseen, for 21 frames of its holding (golden defaults_carried_in_hand)."""
    rows = list(csv.DictReader(io.StringIO(export_intervals(read_events(GOLDEN / "defaults_carried_in_hand.jsonl")))))
    assert [(r["relation"], r["object"], r["carried_frames"]) for r in rows] == [
        ("holding", "1", "21"),
        ("near", "1", "0"),
        ("near", "2", "0"),
    ]


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.jsonl")), ids=lambda p: p.stem)
def test_every_relation_once_with_its_end(path: Path) -> None:
    records = read_events(path).records
    rows = list(csv.DictReader(io.StringIO(export_intervals(read_events(path)))))
    ends = {r["relation_id"]: r for r in records if r["type"] == "relation.end"}
    assert [int(r["relation_id"]) for r in rows] == sorted(ends)
    for row in rows:
        end = ends[int(row["relation_id"])]
        assert (int(row["end_frame"]), float(row["end_s"]), row["reason"]) == (end["frame"], end["time"], end["reason"])
        assert int(row["duration_frames"]) == int(row["end_frame"]) - int(row["start_frame"]) + 1


def test_sides_from_the_hand_tracks(scripted_run: ScriptedRun) -> None:
    events = read_events(scripted_run.events)
    # The object tracker numbers its tracks from 1 too: the hand tracker is told by the onset boxes.
    assert hand_tracker(list(events.records)) == "hands"
    rows = list(csv.DictReader(io.StringIO(export_intervals(events))))
    assert [(r["relation"], r["side"], r["label"]) for r in rows] == [
        ("holding", "right", "bottle"),
        ("holding", "left", "cup"),
    ]


def test_open_relation_ends_on_the_last_frame(tmp_path: Path) -> None:
    """A file cut before its relation.end records (a killed run): the relation is open to the last frame."""
    lines = (GOLDEN / "approach_and_grasp.jsonl").read_text(encoding="utf-8").splitlines()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(line for line in lines if '"relation.end"' not in line) + "\n")
    rows = list(csv.DictReader(io.StringIO(export_intervals(read_events(cut)))))
    # The last record left is the relation.update on frame 29.
    assert [(r["reason"], r["end_frame"], r["end_s"], r["duration_frames"], r["mean_score"]) for r in rows] == [
        ("open", "29", "0.966667", "22", ""),
        ("open", "29", "0.966667", "13", ""),
    ]


def test_missing_records_and_fields(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"schema":"orchestrator.events/2","seq":0,"type":"tracks","frame":0,"time":0.0,"tracks":[]}\n')
    with pytest.raises(UserError, match=r"no 'relation\.start' records; the run must write them"):
        export_intervals(read_events(path))
    lines = (GOLDEN / "approach_and_grasp.jsonl").read_text(encoding="utf-8").splitlines()
    start = next(line for line in lines if '"relation.start"' in line)
    path.write_text(start.replace('"hand_id":1,', "") + "\n")
    with pytest.raises(UserError, match=r"record seq 1 \(relation.start, frame 8\): field 'hand_id' must be int"):
        export_intervals(read_events(path))


def test_a_relations_stream_without_relations_is_the_header_line(tmp_path: Path) -> None:
    """The hand never comes near the cup: no relation record, but the stream's header lists the
    pipeline's relations, so the table is empty rather than an error."""
    hands = {i: [{"box": [10, 10, 50, 60], "score": 0.9, "label": "hand"}] for i in range(8)}
    cups = {i: [{"box": [250, 180, 290, 230], "score": 0.6, "label": "cup"}] for i in range(8)}
    relations = {
        "objects": {"detector": "objects"},
        "report": {"holding": {"when": {"overlap": {"min_object_covered": 0.5}}}},
    }
    pipeline = scene_pipeline(tmp_path, hands, cups, relations, frames=8)
    events = tmp_path / "events.jsonl"
    assert run_cli("run", pipeline, "--events", events, "-q").returncode == 0
    records = read_events(events).records
    assert records[0]["relations"] == ["holding"] and not [r for r in records if r["type"].startswith("relation")]
    result = run_cli("export", events, "--to", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [HEADER]
    # Without the header (a file cut to its frame records) nothing says relations were asked for.
    headless = tmp_path / "headless.jsonl"
    headless.write_text("".join(line + "\n" for line in events.read_text().splitlines()[1:]))
    result = run_cli("export", headless, "--to", "csv")
    assert result.returncode == 2 and "no 'relation.start' records" in result.stderr
