"""The ``sources:`` section (several named streams): resolution and one-line errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from helpers import make_video, run_cli

from orchestrator.config import ConfigError, load_pipeline
from orchestrator.config.spec import StreamSource

DETECTORS = "detectors:\n  hands: {plugin: testing.noop}\n"


def _write(folder: Path, text: str) -> Path:
    path = folder / "p.yaml"
    path.write_text("version: 1\n" + textwrap.dedent(text).lstrip("\n") + DETECTORS, encoding="utf-8")
    return path


def test_sources_resolve_against_the_pipeline_and_keep_their_order(tmp_path: Path) -> None:
    make_video(tmp_path / "a.avi", frames=2)
    config = load_pipeline(
        _write(tmp_path, "source: {timeout_s: 2}\nsources: {right: a.avi, left: 0, cam: 'rtsp://x/1'}\n")
    )
    assert config.sources == (
        StreamSource("right", str(tmp_path / "a.avi")),
        StreamSource("left", 0),
        StreamSource("cam", "rtsp://x/1"),
    )
    assert config.source.uri is None and config.source.timeout_s == 2  # the source options apply to all
    assert config.to_dict()["sources"] == {"right": str(tmp_path / "a.avi"), "left": 0, "cam": "rtsp://x/1"}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("sources: {}", "2: sources: must not be empty (at least 1 entry)"),
        ("sources: {1cam: 0}", "2: sources: name '1cam' must match ^[A-Za-z_][A-Za-z0-9_]*$"),
        ("sources: {cam-left: 0}", "2: sources: name 'cam-left' must match ^[A-Za-z_][A-Za-z0-9_]*$"),
        ("sources: [a.avi]", "2: sources: expected object, got a list ['a.avi']"),
        ("sources: {a: missing.avi}", "2: sources.a: no such file or folder: {dir}/missing.avi"),
        ("sources: {a: ''}", "2: sources.a: empty: expected a file, folder, URL or camera index"),
        (
            "sources: {1: 0}",
            "2: sources: name 1 must be a string; quote it",
        ),
        (
            "source: {uri: 0}\nsources: {a: 1}",
            "3: sources: give either source.uri (one stream) or sources: (several), not both",
        ),
    ],
)
def test_bad_sources_are_one_line_each(tmp_path: Path, section: str, message: str) -> None:
    path = _write(tmp_path, section + "\n")
    with pytest.raises(ConfigError) as info:
        load_pipeline(path)
    assert str(info.value) == f"{path}:{message.format(dir=tmp_path)}"


def test_validate_prints_a_pipeline_with_sources_that_validates_again(tmp_path: Path) -> None:
    make_video(tmp_path / "a.avi", frames=2)
    path = _write(tmp_path, "sources: {left: a.avi, right: 0}\n")
    result = run_cli("validate", path)
    assert result.returncode == 0, result.stderr
    again = tmp_path / "resolved.yaml"
    again.write_text(result.stdout, encoding="utf-8")
    assert load_pipeline(again).sources == load_pipeline(path).sources
