"""The Python API: ``orchestrator.run`` as an iterator and with a callback."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from helpers import make_video, validate_records, write_fixture, write_pipeline

import orchestrator
from orchestrator.errors import PipelineError, UserError


@pytest.fixture()
def pipeline(tmp_path: Path) -> Path:
    make_video(tmp_path / "clip.avi", frames=12)
    write_fixture(tmp_path / "hands.yaml", {i: [{"box": [10 + i, 20, 70 + i, 100]}] for i in range(12)})
    return write_pipeline(
        tmp_path / "p.yaml",
        """
        version: 1
        source: {uri: clip.avi}
        detectors:
          hands: {plugin: testing.scripted, params: {fixture: hands.yaml}}
        tracker: {type: sort, detector: hands}
        """,
    )


def test_iterator_yields_records_and_records_override(pipeline: Path) -> None:
    records = list(orchestrator.run(pipeline, records=("tracks",)))
    validate_records(records)
    assert [r["type"] for r in records] == ["stream.start"] + ["tracks"] * 12 + ["summary"]
    assert records[0]["records"] == ["tracks"]  # the header says which records the override asked for
    assert records[6]["tracks"][0]["track_id"] == 1


def test_callback_gets_every_record_and_returns_the_summary(pipeline: Path) -> None:
    seen: list[dict] = []
    summary = orchestrator.run(pipeline, records=("detections",), callback=seen.append)
    assert summary["type"] == "summary" and summary is seen[-1]
    assert seen[0]["type"] == "stream.start" and len(seen) == 1 + 12 + 1


def test_breaking_out_stops_the_run(pipeline: Path) -> None:
    before = threading.active_count()
    for record in orchestrator.run(pipeline, records=("detections",)):
        assert record["frame"] == 0
        break
    assert threading.active_count() == before


def test_detector_failure_raises_after_the_summary(tmp_path: Path, pipeline: Path) -> None:
    text = pipeline.read_text().replace("fixture: hands.yaml}", "fixture: hands.yaml, fail_at_frame: 3}")
    broken = write_pipeline(tmp_path / "broken.yaml", text)
    seen: list[dict] = []
    with pytest.raises(PipelineError, match="failed on frame 3"):
        orchestrator.run(broken, callback=seen.append)
    assert seen[-1]["status"] == "error"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (5.5, "source: expected a file, folder or URL (str or path), a camera index (int) or an iterable of "),
        (object(), "got object"),
        (True, "got bool"),
        (np.zeros((4, 6, 3), np.uint8), "source: one image (4, 6, 3) is not a sequence of frames: pass a list"),
    ],
    ids=["float", "object", "bool", "one-image"],
)
def test_a_source_of_another_kind_is_a_one_line_user_error(pipeline: Path, source: object, message: str) -> None:
    with pytest.raises(UserError) as caught:
        orchestrator.run(pipeline, source=source)
    assert message in str(caught.value) and "\n" not in str(caught.value)
