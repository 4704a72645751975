"""Tracks to MOTChallenge text: the format MOT tools read, and back through ``eval-tracking --labels``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli

from orchestrator.errors import UserError
from orchestrator.exports.events_file import read_events
from orchestrator.exports.mot import export_mot

# ``scripted_run`` (conftest.py): a real run's pipeline, video and events file (tracks of hands and objects).
ScriptedRun = Any


def _tracks(run: ScriptedRun, detector: str) -> list[dict]:
    return [r for r in read_events(run.events).of_type("tracks") if r["detector"] == detector]


def test_lines_are_the_tracks(scripted_run: ScriptedRun) -> None:
    text = export_mot(read_events(scripted_run.events), detector="hands")
    lines = [line.split(",") for line in text.splitlines()]
    expected = [(r["frame"], t) for r in _tracks(scripted_run, "hands") for t in r["tracks"]]
    assert len(lines) == len(expected) > 60
    for fields, (frame, track) in zip(lines, expected, strict=True):
        x1, y1, x2, y2 = track["box"]
        assert len(fields) == 10 and fields[7:] == ["-1", "-1", "-1"]
        assert int(fields[0]) == frame + 1 and int(fields[1]) == track["track_id"]
        assert [float(v) for v in fields[2:6]] == pytest.approx([x1, y1, x2 - x1, y2 - y1], abs=0.005)
        assert float(fields[6]) == track["score"]


@pytest.mark.filterwarnings("ignore:Operation with tuple is deprecated")  # inside motmetrics.io
def test_motmetrics_reads_it(scripted_run: ScriptedRun, tmp_path: Path) -> None:
    import motmetrics as mm

    out = tmp_path / "tracks.txt"
    result = run_cli("export", scripted_run.events, "--to", "mot", "--detector", "hands", "--out", out)
    assert result.returncode == 0, result.stderr
    table = mm.io.loadtxt(str(out), fmt="mot15-2D")
    assert len(table) == sum(len(r["tracks"]) for r in _tracks(scripted_run, "hands"))
    assert sorted(table.index.get_level_values("Id").unique()) == [1, 2]


def test_round_trip_through_eval_tracking(scripted_run: ScriptedRun, tmp_path: Path) -> None:
    """Exported tracks as ground truth for the same run score perfectly; the baseline does not."""
    gt = tmp_path / "gt.txt"
    assert run_cli("export", scripted_run.events, "--to", "mot", "--detector", "hands", "--out", gt).returncode == 0
    scores = {}
    for tracker in ("sort", "none"):
        result = run_cli(
            "eval-tracking", "--pipeline", scripted_run.pipeline, "--source", scripted_run.video,
            "--labels", gt, "--tracker", tracker, "--json",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        scores[tracker] = json.loads(result.stdout)
    assert scores["sort"]["idf1"] == 1.0 and scores["sort"]["mota"] == 1.0 and scores["sort"]["mean_iou"] == 1.0
    assert scores["sort"]["gt_tracks"] == 2 and scores["sort"]["id_switches"] == 0
    # Numbered MOT identities are not sides: no side accuracy rather than a false 0.
    assert scores["sort"]["side_accuracy"] is None
    assert scores["none"]["idf1"] < 1.0  # the comparison can fail


def test_two_trackers_need_a_choice(scripted_run: ScriptedRun) -> None:
    events = read_events(scripted_run.events)
    with pytest.raises(UserError, match=r"tracks records of several detectors \(hands, objects\); choose one"):
        export_mot(events)
    with pytest.raises(UserError, match="no tracks records of detector 'feet'; there are: hands, objects"):
        export_mot(events, detector="feet")
    objects = export_mot(events, detector="objects").splitlines()
    assert len(objects) == sum(len(r["tracks"]) for r in _tracks(scripted_run, "objects"))


def test_malformed_track_is_named(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"schema":"orchestrator.events/2","seq":5,"type":"tracks","frame":3,"time":0.1,"detector":"hands",'
        '"tracks":[{"track_id":1,"box":[0,0,1],"score":0.5}]}\n'
    )
    with pytest.raises(UserError, match=r"seq 5 \(frame 3\): a track needs track_id, box"):
        export_mot(read_events(path))
