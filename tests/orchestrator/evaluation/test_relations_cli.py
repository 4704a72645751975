"""``eval-relations`` end to end: a scripted two-hand clip with exact counts, bad input, and a real egodex clip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import make_video, shared_path, write_fixture, write_pipeline

from orchestrator.evaluation.relations_cli import evaluate_relations

FRAMES = 40
COUNTS = {"contacts", "found", "relations", "matched", "recall", "precision"}


def _left_x(frame: int) -> int:
    """The left hand moves right onto the cup (on it from frame 12 to 28), then back."""
    return 20 + 8 * min(frame, 15) - 8 * max(0, frame - 25)


def _scene(tmp_path: Path, contacts: str) -> tuple[Path, Path, Path, Path]:
    """Left hand passes over a cup; the right hand rests on a bottle throughout. Hand labels = scripted boxes.

    The scripted detector gives no sides, so sides come from the hand labels (``--hands``) only.
    """
    video = make_video(tmp_path / "clip.avi", frames=FRAMES, size=(320, 240))
    hands: dict[int, list[dict[str, object]]] = {}
    rows = ["frame,hand,xmin,ymin,xmax,ymax"]
    for i in range(FRAMES):
        left, right = [_left_x(i), 100, _left_x(i) + 60, 180], [250, 20, 310, 100]
        hands[i] = [{"box": left}, {"box": right}]
        rows += [f"{i},left,{','.join(map(str, left))}", f"{i},right,{','.join(map(str, right))}"]
    objects = {
        i: [
            {"box": [150, 120, 190, 170], "label": "cup", "score": 0.6},
            {"box": [255, 30, 295, 80], "label": "bottle", "score": 0.6},
        ]
        for i in range(FRAMES)
    }
    write_fixture(tmp_path / "hands.yaml", hands, labels=("hand",))
    write_fixture(tmp_path / "objects.yaml", objects, labels=("cup", "bottle"))
    labels = tmp_path / "clip_hands.csv"
    labels.write_text("\n".join(rows) + "\n")
    contacts_csv = tmp_path / "contacts.csv"
    contacts_csv.write_text("clip,hand,start_frame,end_frame,object,note\n" + contacts)
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        """
        version: 1
        detectors:
          hands: {plugin: testing.scripted, params: {fixture: hands.yaml}}
          objects: {plugin: testing.scripted, params: {fixture: objects.yaml}}
        tracker: {type: sort, detector: hands, params: {min_hits: 1, max_age_frames: 5}}
        relations:
          objects:
            detector: objects
            tracker: {type: sort, params: {min_hits: 1, max_age_frames: 5}}
          report:
            holding:
              objects: any
              when: {overlap: {min_object_covered: 0.5}}
              enter_frames: 1
              exit_frames: 1
            near:
              objects: any
              when: {near: {max_gap: 0.5}}
              enter_frames: 1
              exit_frames: 1
        outputs: {records: []}
        """,
    )
    return pipeline, video, contacts_csv, labels


# The relations (holding): right hand on the bottle 0-39, left hand on the cup 12-28 (17 frames).
CONTACTS = (
    "clip,left,14,26,cup,tIoU 13/17 with the left holding\n"
    "clip,right,0,10,bottle,tIoU 11/40 = 0.275 with the right holding\n"
    "clip,left,33,39,cup,nothing there\n"
    "other,right,0,39,cup,another clip: ignored\n"
)


def test_exact_counts_with_sides_from_hand_labels(tmp_path: Path) -> None:
    pipeline, video, contacts, labels = _scene(tmp_path, CONTACTS)
    result = evaluate_relations(pipeline, str(video), contacts, hands=labels, kinds=("holding",))
    spans = [(r["side"], r["start_frame"], r["end_frame"]) for r in result["detail"]["relations"]]
    assert sorted(spans) == [("left", 12, 28), ("right", 0, 39)]
    assert result["overall"] == {
        "contacts": 3,
        "found": 1,
        "relations": 2,
        "matched": 1,
        "recall": 0.3333,
        "precision": 0.5,
    }
    assert result["by_relation"] == {"holding": result["overall"]}
    assert (result["clip"], result["sides"], result["frames"]) == ("clip", "labels", FRAMES)
    # A lower bar takes the right hand's relation too (0.275).
    looser = evaluate_relations(pipeline, str(video), contacts, hands=labels, kinds=("holding",), min_tiou=0.25)
    assert (looser["overall"]["found"], looser["overall"]["matched"], looser["overall"]["precision"]) == (2, 2, 1.0)


def test_without_sides_nothing_matches(tmp_path: Path) -> None:
    # The scripted hands carry no side: every relation's side is unknown, and matches no contact.
    pipeline, video, contacts, _ = _scene(tmp_path, CONTACTS)
    result = evaluate_relations(pipeline, str(video), contacts, kinds=("holding", "near"))
    assert result["sides"] == "tracks"
    assert {r["side"] for r in result["detail"]["relations"]} == {None}
    assert (result["overall"]["found"], result["overall"]["matched"]) == (0, 0)
    assert (
        result["overall"]["relations"]
        == result["by_relation"]["holding"]["relations"] + (result["by_relation"]["near"]["relations"])
    )


def test_cli_json_shape_and_text(tmp_path: Path, run_cli) -> None:
    pipeline, video, contacts, labels = _scene(tmp_path, CONTACTS)
    args = ("eval-relations", "--pipeline", pipeline, "--source", video, "--contacts", contacts, "--hands", labels)
    result = run_cli(*args, "--kinds", "holding", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out["overall"]) == COUNTS and set(out["by_relation"]) == {"holding"}
    assert set(out["by_relation"]["holding"]) == COUNTS
    assert (out["overall"]["found"], out["overall"]["matched"]) == (1, 1)
    assert out["kinds"] == ["holding"] and out["min_tiou"] == 0.3
    text = run_cli(*args, "--kinds", "holding", "--min-tiou", "0.25")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[1].split() == ["relation", "contacts", "found", "relations", "matched", "recall", "precision"]
    assert lines[3].split() == ["overall", "3", "2", "2", "2", "0.6667", "1.0000"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--contacts": "missing.csv"}, "cannot read contacts"),
        ({"--kinds": "holding,touching"}, "touching not among the pipeline's relations (holding, near)"),
        ({"--min-tiou": "0"}, "--min-tiou must lie in (0, 1]"),
        ({"--hands": "missing_hands.csv"}, "cannot read hand labels"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, run_cli, change: dict[str, str], message: str) -> None:
    pipeline, video, contacts, _ = _scene(tmp_path, CONTACTS)
    options = {"--pipeline": str(pipeline), "--source": str(video), "--contacts": str(contacts), "--kinds": "holding"}
    options.update({k: str(tmp_path / v) if v.endswith(".csv") else v for k, v in change.items()})
    result = run_cli("eval-relations", *[x for kv in options.items() for x in kv])
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("contacts", "message"),
    [
        ("other,left,0,9,cup,\n", "no contact for clip 'clip'"),
        ("clip,left,0,9\n", "expected"),
        ("clip,left,14,26,cup,\nclip,right,45,60,lid,\n", "contact right 45-60 (lid) of clip 'clip' starts after"),
    ],
)
def test_bad_contacts_exit_2(tmp_path: Path, run_cli, contacts: str, message: str) -> None:
    pipeline, video, contacts_csv, _ = _scene(tmp_path, contacts)
    args = ("eval-relations", "--pipeline", pipeline, "--source", video, "--contacts", contacts_csv)
    result = run_cli(*args, "--kinds", "holding")
    assert result.returncode == 2 and message in result.stderr and result.stderr.count("\n") == 1


def test_a_missing_source_is_its_own_error(tmp_path: Path, run_cli) -> None:
    pipeline, _, contacts, _ = _scene(tmp_path, CONTACTS)
    result = run_cli(
        "eval-relations", "--pipeline", pipeline, "--source", tmp_path / "clip2.avi", "--contacts", contacts
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert f"--source {tmp_path / 'clip2.avi'}: no such file" in result.stderr


def test_max_frames_scores_the_contacts_of_the_frames_processed(tmp_path: Path) -> None:
    # 20 frames: the left contact 14-26 is cut to 14-19, the one at 33-39 is left out; the left
    # holding (12-28 on the whole clip) runs 12-19: tIoU 6/8; the right one 0-19: tIoU 11/20 with
    # the right contact 0-10 (0.275 on the whole clip, where it runs 0-39).
    pipeline, video, contacts, labels = _scene(tmp_path, CONTACTS)
    result = evaluate_relations(pipeline, str(video), contacts, hands=labels, kinds=("holding",), max_frames=20)
    assert result["frames"] == 20 and result["warnings"] == []
    assert [(c["hand"], c["start_frame"], c["end_frame"]) for c in result["detail"]["contacts"]] == [
        ("left", 14, 19),
        ("right", 0, 10),
    ]
    assert (result["overall"]["contacts"], result["overall"]["found"], result["overall"]["matched"]) == (2, 2, 2)


def test_a_contact_past_the_clip_end_is_cut_with_a_warning(tmp_path: Path, run_cli) -> None:
    pipeline, video, contacts, labels = _scene(tmp_path, "clip,left,14,45,cup,\n")
    args = ("eval-relations", "--pipeline", pipeline, "--source", video, "--contacts", contacts, "--hands", labels)
    result = run_cli(*args, "--kinds", "holding", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("warning: ") == 1 and "ends after the clip's last frame 39: cut there" in result.stderr
    out = json.loads(result.stdout)
    assert out["detail"]["contacts"][0]["end_frame"] == 39 and len(out["warnings"]) == 1


def test_unknown_column_exit_2(tmp_path: Path, run_cli) -> None:
    pipeline, video, _, _ = _scene(tmp_path, CONTACTS)
    bad = tmp_path / "bad.csv"
    bad.write_text("clip,side,start_frame,end_frame,object\nclip,left,0,9,cup\n")
    result = run_cli("eval-relations", "--pipeline", pipeline, "--source", video, "--contacts", bad)
    assert result.returncode == 2 and "missing column(s) hand" in result.stderr


@pytest.mark.real_model
def test_real_clip_prints_the_json_shape(real_models: Path, run_cli) -> None:
    video = shared_path("data/egodex/add_remove_lid_0.mp4")
    contacts = shared_path("data/egodex/contacts.csv")
    result = run_cli(
        "eval-relations",
        "--pipeline",
        "pipelines/table_scene.yaml",
        "--source",
        video,
        "--contacts",
        contacts,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out["overall"]) == COUNTS
    assert out["overall"]["contacts"] == 3  # add_remove_lid_0 has three labelled contacts
    assert set(out["by_relation"]) == {"holding", "touching"}
    assert all(set(counts) == COUNTS for counts in out["by_relation"].values())
    assert out["clip"] == "add_remove_lid_0" and out["frames"] == 94
