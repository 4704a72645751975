"""pipelines/table_scene.yaml on the real egodex clips: the contact figures its comments and the README state.

Slow (MediaPipe hands and CenterNet on 1080p clips, about 20 s a clip on 2 cores): marked real_model.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import shared_path

from orchestrator.evaluation.relations_cli import evaluate_relations

PIPELINE = Path(__file__).resolve().parents[3] / "pipelines" / "table_scene.yaml"

# (clip, contacts found, contact relations, matched): the shipped figures (README, table_scene.yaml).
FIGURES = [
    ("add_remove_lid_0", 2, 4, 4),  # the right hand holding the lid (80-93) is missed: no detector sees the lid
    ("basic_pick_and_place_0", 1, 2, 2),
    # The right hand on a second box CenterNet draws over the hub's plugged end: holding 100-104, touching 110-131.
    ("insert_remove_2", 2, 6, 4),
]
# Together: 5 of 6 contacts found, 10 of 12 contact relations matched (precision 0.83).


@pytest.mark.real_model
@pytest.mark.parametrize(("clip", "found", "relations", "matched"), FIGURES)
def test_contact_figures(real_models: Path, clip: str, found: int, relations: int, matched: int) -> None:
    video = shared_path(f"data/egodex/{clip}.mp4")
    result = evaluate_relations(PIPELINE, str(video), shared_path("data/egodex/contacts.csv"))
    overall = result["overall"]
    assert (overall["found"], overall["relations"], overall["matched"]) == (found, relations, matched)
    assert overall["precision"] >= (0.8 if clip != "insert_remove_2" else 0.65)
    if clip == "add_remove_lid_0":
        # Each hand has one holding relation with the cup over at least 80 % of its labelled interval.
        for contact in result["detail"]["contacts"]:
            if contact["object"] != "cup":
                continue
            held = [
                r for r in result["detail"]["relations"] if r["relation"] == "holding" and r["side"] == contact["hand"]
            ]
            assert len(held) == 1
            start, end = (
                max(held[0]["start_frame"], contact["start_frame"]),
                min(held[0]["end_frame"], contact["end_frame"]),
            )
            assert end - start + 1 >= 0.8 * (contact["end_frame"] - contact["start_frame"] + 1)
