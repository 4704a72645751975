"""MOTChallenge text as ground truth for ``eval-tracking --labels``: read, told apart from CSV, same scores."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from helpers import shared_path

from orchestrator.errors import UserError
from orchestrator.evaluation.tracking import (
    is_mot_text,
    load_hand_labels,
    load_mot_labels,
    load_track_labels,
    tracking_metrics,
)

CSV_HEADER = "frame,hand,xmin,ymin,xmax,ymax,joint_confidence,visible_fraction\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_gt_and_results_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "gt.txt",
        "1,1,10,20,30,40,1,1,1.0\n"  # MOT17 gt: conf flag, class, visibility
        "1,2,100.5,20,30,40,1,-1,-1,-1\n"  # results layout
        "\n"
        "3, 1, 12, 20, 30, 40, 0.9, -1, -1, -1\n"  # spaces after commas
        "4,1,14,20,30,40,0,1,1.0\n",  # ignore flag: left out
    )
    assert load_mot_labels(path) == {
        0: [(1, (10.0, 20.0, 40.0, 60.0)), (2, (100.5, 20.0, 130.5, 60.0))],
        2: [(1, (12.0, 20.0, 42.0, 60.0))],
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,1,10,20,30\n", ":1: expected at least 7 fields frame,id,bb_left,bb_top,bb_width,bb_height,conf, got 5"),
        ("0,1,10,20,30,40,1\n", ":1: frame must be >= 1 (MOTChallenge frames are 1-based), got 0"),
        ("1,1,10,20,30,40,1\n1,x,10,20,30,40,1\n", ":2: id must be an integer, got 'x'"),
        ("1,1,10,20,-3,40,1\n", ":1: bb_width and bb_height must be >= 0"),
        ("1,1,10,nan,30,40,1\n", ":1: bb_top must be finite"),
        ("1,1,10,20,30,40,1\n1,1,11,20,30,40,1\n", ":2: id 1 appears twice on frame 1"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "gt.txt", text)
    with pytest.raises(UserError) as info:
        load_mot_labels(path)
    assert str(info.value).startswith(str(path)) and message in str(info.value)


@pytest.mark.parametrize(
    ("name", "text", "is_mot"),
    [
        ("gt.txt", "1,1,10,20,30,40,1,-1,-1,-1\n", True),
        ("labels.csv", "\n1,1,10,20,30,40,1,1,1.0\n", True),  # content decides, not the extension
        ("gt.txt", CSV_HEADER + "0,left,1,2,3,4,0.5,1\n", False),
        ("x.txt", "1,1,10,20\n", False),  # too few fields: the CSV reader reports it
        ("empty.txt", "", False),
    ],
)
def test_format_by_content(tmp_path: Path, name: str, text: str, is_mot: bool) -> None:
    assert is_mot_text(_write(tmp_path, name, text)) is is_mot


def test_csv_still_read_and_errors_still_csv(tmp_path: Path) -> None:
    path = _write(tmp_path, "h.csv", CSV_HEADER + "0,left,1,2,3,4,0.5,1\n")
    assert load_track_labels(path) == {0: [("left", (1.0, 2.0, 3.0, 4.0))]}
    with pytest.raises(UserError, match="missing column"):
        load_track_labels(_write(tmp_path, "bad.txt", "1,1,10,20\n"))
    with pytest.raises(UserError, match="cannot read hand labels"):
        load_track_labels(tmp_path / "missing.txt")


def _as_mot(csv_path: Path, out: Path) -> Path:
    """An egodex hands CSV rewritten as MOTChallenge gt (left -> id 1, right -> id 2)."""
    ids = {"left": 1, "right": 2}
    with csv_path.open(newline="") as handle:
        lines = [
            f"{int(r['frame']) + 1},{ids[r['hand']]},{r['xmin']},{r['ymin']},"
            f"{float(r['xmax']) - float(r['xmin'])},{float(r['ymax']) - float(r['ymin'])},1,-1,-1,-1\n"
            for r in csv.DictReader(handle)
        ]
    out.write_text("".join(lines))
    return out


def test_real_labels_score_the_same_in_either_layout(tmp_path: Path) -> None:
    """The egodex labels as CSV and as MOTChallenge text give the same figures for MediaPipe's hands."""
    labels = shared_path("data/egodex/add_remove_lid_0_hands.csv")
    landmarks = shared_path("data/egodex/add_remove_lid_0_mediapipe.csv")
    predictions: dict[int, list[tuple[int, tuple[float, ...]]]] = {}
    with landmarks.open(newline="") as handle:
        for row in csv.DictReader(handle):
            xs = [float(row[f"x{i}"]) for i in range(21)]
            ys = [float(row[f"y{i}"]) for i in range(21)]
            box = (min(xs), min(ys), max(xs), max(ys))
            predictions.setdefault(int(row["frame"]), []).append((int(row["hand"]) + 1, box))
    frames = range(max(predictions) + 1)
    from_csv = tracking_metrics(load_hand_labels(labels), predictions, frames, match="centre").to_dict()
    from_mot = tracking_metrics(load_track_labels(_as_mot(labels, tmp_path / "gt.txt")), predictions, frames,
                                match="centre").to_dict()  # fmt: skip
    assert from_csv["gt_tracks"] == 2 and from_csv["frames"] == 94 and from_csv["idf1"] > 0.5
    assert from_mot == from_csv
