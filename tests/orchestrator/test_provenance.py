"""The stream header's facts: a pipeline hash that is the same on every machine, and the package version."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from helpers import make_video, write_fixture, write_pipeline

from orchestrator import provenance
from orchestrator.config import load_pipeline

PIPELINE = """
version: 1
source: {{uri: clip.avi}}
detectors:
  hands: {{plugin: testing.scripted, params: {{fixture: boxes.yaml{extra}}}}}
outputs: {{events: {events}, records: [detections]}}
"""


def _digest(folder: Path, extra: str = "", events: str = "out.jsonl", box: float = 10.0) -> str:
    make_video(folder / "clip.avi", frames=2)
    write_fixture(folder / "boxes.yaml", {0: [{"box": [box, 10, 40, 40]}]})
    path = write_pipeline(folder / "p.yaml", PIPELINE.format(extra=extra, events=events))
    return provenance.pipeline_digest(load_pipeline(path))


def test_the_same_pipeline_elsewhere_has_the_same_hash(tmp_path: Path) -> None:
    """Absolute paths (the source, the fixture, the events file) differ; the hash does not."""
    assert _digest(tmp_path / "one") == _digest(tmp_path / "two" / "deeper", events="elsewhere.jsonl")


@pytest.mark.parametrize(
    "change",
    [{"extra": ", fail_at_frame: 3"}, {"box": 12.0}],
    ids=["a parameter", "the fixture's bytes"],
)
def test_what_the_pipeline_does_changes_the_hash(tmp_path: Path, change: dict) -> None:
    assert _digest(tmp_path / "one") != _digest(tmp_path / "two", **change)


def test_version_is_the_installed_distributions_or_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    assert provenance.project_version() == metadata.version("hands-orchestrator")

    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(provenance.metadata, "version", missing)
    assert provenance.project_version() == "unknown"
