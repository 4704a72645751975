"""The pipeline hash of the resume key, and one thread per model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.batch.fingerprint import pipeline_hash, with_threads
from orchestrator.config import load_pipeline, parse_pipeline
from orchestrator.errors import UserError


def _hash(path: Path) -> str:
    return pipeline_hash(load_pipeline(path), path.read_bytes())


def test_same_pipeline_same_hash_and_what_changes_it(make_pipeline: Callable[..., Path], tmp_path: Path) -> None:
    path = make_pipeline()
    first = _hash(path)
    assert _hash(path) == first
    path.write_text(path.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    commented = _hash(path)
    assert commented != first  # the file's text counts, comments included
    fixture = tmp_path / "boxes.yaml"
    fixture.write_text(fixture.read_text(encoding="utf-8").replace("hand", "hand ", 1), encoding="utf-8")
    assert _hash(path) != commented  # so does a file a parameter names (the scripted boxes)


def test_a_model_version_is_part_of_the_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "version: 1\ndetectors:\n  hands: {plugin: hands.mediapipe}\n"
    config = parse_pipeline(text, Path("p.yaml"))
    before = pipeline_hash(config, text.encode())
    from orchestrator.modelstore import ModelStore

    real = ModelStore.manifest

    def other_version(self: ModelStore, name: str) -> object:
        from dataclasses import replace

        return replace(real(self, name), version="9.9.9")

    monkeypatch.setattr(ModelStore, "manifest", other_version)
    assert pipeline_hash(config, text.encode()) != before


@pytest.mark.parametrize(
    ("params", "threads", "expected"),
    [
        ("{}", 1, 1),  # has the parameter, unset: one thread per model
        ("{num_threads: 3}", 1, 3),  # the pipeline's own choice is kept
        ("{}", None, None),  # no override: the plugin's default
        ("{}", 2, 2),
    ],
)
def test_with_threads(params: str, threads: int | None, expected: int | None) -> None:
    text = f"version: 1\ndetectors:\n  hands: {{plugin: hands.mediapipe, params: {params}}}\n"
    config = with_threads(parse_pipeline(text, Path("p.yaml")), threads)
    assert config.detector("hands").params.get("num_threads") == expected


def test_an_unknown_model_does_not_break_the_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "version: 1\ndetectors:\n  hands: {plugin: hands.mediapipe}\n"
    config = parse_pipeline(text, Path("p.yaml"))
    from orchestrator.modelstore import ModelStore

    def unknown(self: ModelStore, name: str) -> object:
        raise UserError(f"unknown model {name!r}")

    monkeypatch.setattr(ModelStore, "manifest", unknown)
    assert len(pipeline_hash(config, text.encode())) == 64
