"""Batch fixtures: short clips, scripted pipelines, the test plugins' folder, outputs read back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import make_video, write_fixture

#: The folder of ``batch_plugins.py`` (``plugin: batch_plugins:Crash``), put on the path by `plugin_path`.
PLUGIN_DIR = Path(__file__).resolve().parent


@pytest.fixture
def clips(tmp_path: Path) -> dict[str, Path]:
    """Short clips (two share the stem ``a``), a 160-pixel-wide one, and a broken file."""
    videos = tmp_path / "videos"
    found = {
        "a": make_video(videos / "a.avi", frames=12),
        "b": make_video(videos / "b.avi", frames=15),
        "other_a": make_video(tmp_path / "other" / "a.avi", frames=9),
        "narrow": make_video(tmp_path / "narrow" / "narrow.avi", frames=12, size=(160, 120)),
    }
    broken = videos / "broken.avi"
    broken.write_bytes(b"RIFF not really a video" * 20)
    found["broken"] = broken
    return found


@pytest.fixture
def make_pipeline(tmp_path: Path) -> Callable[..., Path]:
    """``make_pipeline(crash=None, delay_ms=0)``: a scripted hand, tracked, over any clip.

    ``crash``: the `batch_plugins.Crash` parameters as flow YAML (``{width: 160, how: exit}``),
    added as a second detector.
    """
    fixture = write_fixture(
        tmp_path / "boxes.yaml", {i: [{"box": [10 + i, 20, 60 + i, 90]}] for i in range(40)}, labels=("hand",)
    )

    def make(crash: str | None = None, delay_ms: float = 0, name: str = "p.yaml") -> Path:
        lines = [
            "version: 1",
            "detectors:",
            "  hands:",
            "    plugin: testing.scripted",
            f"    params: {{fixture: {fixture.name}, delay_ms: {delay_ms}}}",
        ]
        if crash is not None:
            lines += ["  crash:", "    plugin: batch_plugins:Crash", f"    params: {crash}"]
        lines += ["tracker: {type: sort, detector: hands}", "outputs: {records: [tracks]}"]
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return make


@pytest.fixture
def plugin_path(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Puts `batch_plugins` on the path of this process, its spawned workers, Ray and subprocesses."""
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    monkeypatch.setenv("PYTHONPATH", str(PLUGIN_DIR))
    return PLUGIN_DIR


def _read_output(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n"), f"{path} does not end with a whole line"
    records = [json.loads(line) for line in text.splitlines()]
    assert records and records[-1]["type"] == "summary", f"{path} has no summary at its end"
    return records


@pytest.fixture
def read_output() -> Callable[[Path], list[dict[str, Any]]]:
    """The records of a batch output; fails the test unless every line is whole JSON and the last a summary."""
    return _read_output


def _body(path: Path) -> str:
    return "".join(line + "\n" for line in path.read_text(encoding="utf-8").splitlines()[:-1])


@pytest.fixture
def body() -> Callable[[Path], str]:
    """An output without its summary (which has timings): equal between runs of the same input."""
    return _body
