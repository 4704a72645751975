"""``batch`` over ../shared's real files: three egodex clips, two cards clips and a corrupt file.

The issue's case with the scripted detector (the real model's run is measured by ``bench-batch``
and in the README): five whole outputs and one error row, exit 1; a second run skips the five
and retries the corrupt one. Skips, naming the missing path, without ../shared.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import shared_path

from orchestrator.batch.index import read_index
from orchestrator.cli import main


def test_five_outputs_one_error_row_and_a_rerun_retries_only_the_error(
    make_pipeline: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    read_output: Callable[[Path], Any],
) -> None:
    egodex = shared_path("data/egodex")
    cards = shared_path("data/cards")
    corrupt = shared_path("cases/truncated-video/no_moov.mp4")
    inputs = tmp_path / "inputs.txt"
    inputs.write_text(f"# the issue's batch\n{egodex}\n{cards}/*.webm\n{corrupt}\n", encoding="utf-8")
    out = tmp_path / "out"
    arguments = ["batch", str(make_pipeline()), str(inputs), "--out", str(out), "--workers", "2"]

    assert main(arguments) == 1
    err = capsys.readouterr().err
    assert "batch: 5 done, 1 failed, 0 skipped" in err
    rows = read_index(out / "index.csv")
    failed = [row for row in rows.values() if row.status == "failed"]
    assert [row.input for row in failed] == [str(corrupt)] and "\n" not in failed[0].error
    outputs = sorted(p.name for p in out.glob("*.jsonl"))
    assert outputs == [
        "add_remove_lid_0.jsonl",
        "basic_pick_and_place_0.jsonl",
        "cards_topdown_0.jsonl",
        "cards_topdown_2.jsonl",
        "insert_remove_2.jsonl",
    ]
    for row in rows.values():
        if row.status == "done":
            assert read_output(out / f"{row.name}.jsonl")[-1]["frames"]["processed"] == row.frames > 90

    assert main(arguments) == 1
    assert "batch: 0 done, 1 failed, 5 skipped" in capsys.readouterr().err


def test_a_truncated_video_is_done_and_says_so(make_pipeline: Callable[..., Path], tmp_path: Path) -> None:
    """A video cut short is processed as far as it decodes; its index row says truncated (new-user trial)."""
    cut = shared_path("cases/truncated-video/cut.avi")
    out = tmp_path / "out"
    assert main(["batch", str(make_pipeline()), str(cut), "--out", str(out), "--workers", "1", "-q"]) == 0
    row = read_index(out / "index.csv")[str(cut)]
    assert row.status == "done" and row.frames == 19
    assert row.error == "truncated: 19 frames processed of 30 the container states"
