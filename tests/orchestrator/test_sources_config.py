"""The pipeline's ``source:`` options for faults (timeout_s, reconnect, on_bad_frame) and decode_threads."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orchestrator.config import ConfigError, load_pipeline
from orchestrator.config.spec import ReconnectSpec, SourceSpec


def _pipeline(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "p.yaml"
    text = f"""
        version: 1
        source: {source}
        detectors:
          hands: {{plugin: testing.noop}}
        """
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("source", "timeout_s", "reconnect", "on_bad_frame"),
    [
        ("{uri: 'rtsp://cam/1'}", 5.0, ReconnectSpec(5, 8.0), "skip"),
        (
            "{uri: 'rtsp://cam/1', timeout_s: 2, reconnect: {attempts: 0, max_delay_s: 0.5}, on_bad_frame: stop}",
            2.0,
            ReconnectSpec(0, 0.5),
            "stop",
        ),
        ("{uri: 0, reconnect: {max_delay_s: 30}}", 5.0, ReconnectSpec(5, 30.0), "skip"),
    ],
)
def test_source_options_and_their_defaults(
    tmp_path: Path, source: str, timeout_s: float, reconnect: ReconnectSpec, on_bad_frame: str
) -> None:
    config = load_pipeline(_pipeline(tmp_path, source))
    spec = config.source
    assert (spec.timeout_s, spec.reconnect, spec.on_bad_frame) == (timeout_s, reconnect, on_bad_frame)
    shown = config.to_dict()["source"]
    assert shown["timeout_s"] == timeout_s and shown["on_bad_frame"] == on_bad_frame
    assert shown["reconnect"] == {"attempts": reconnect.attempts, "max_delay_s": reconnect.max_delay_s}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{uri: 0, timeout_s: 0}", "source.timeout_s: value 0 is out of range: must be > 0"),
        ("{uri: 0, reconnect: {attempts: -1}}", "source.reconnect.attempts: value -1 is out of range: must be >= 0"),
        ("{uri: 0, reconnect: {attempts: 1.5}}", "source.reconnect.attempts: expected integer, got a number 1.5"),
        ("{uri: 0, reconnect: {max_delay_s: 0}}", "source.reconnect.max_delay_s: value 0 is out of range: must be > 0"),
        ("{uri: 0, on_bad_frame: maybe}", "source.on_bad_frame: expected one of skip, stop; got 'maybe'"),
        ("{uri: 0, decode_threads: -1}", "source.decode_threads: value -1 is out of range: must be >= 0"),
        ("{uri: 0, decode_threads: two}", "source.decode_threads: expected integer, got a string 'two'"),
    ],
)
def test_bad_source_options_are_one_line_each(tmp_path: Path, source: str, message: str) -> None:
    path = _pipeline(tmp_path, source)
    with pytest.raises(ConfigError) as info:
        load_pipeline(path)
    assert str(info.value).splitlines() == [f"{path}:2: {message}"]


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: SourceSpec(0, timeout_s=0), "source.timeout_s must be > 0 seconds, got 0"),
        (lambda: SourceSpec(0, on_bad_frame="drop"), "source.on_bad_frame must be one of skip, stop, got 'drop'"),
        (lambda: SourceSpec(0, decode_threads=-2), "source.decode_threads must be an integer >= 0, got -2"),
        (lambda: ReconnectSpec(attempts=-1), "reconnect.attempts must be an integer >= 0, got -1"),
        (lambda: ReconnectSpec(attempts=True), "reconnect.attempts must be an integer >= 0, got True"),
        (lambda: ReconnectSpec(max_delay_s=0), "reconnect.max_delay_s must be > 0 seconds, got 0"),
    ],
)
def test_specs_check_themselves(make, error: str) -> None:
    with pytest.raises(ValueError) as info:
        make()
    assert str(info.value) == error


@pytest.mark.parametrize(
    ("source", "threads"), [("{uri: 0}", 1), ("{uri: 0, decode_threads: 0}", 0), ("{uri: 0, decode_threads: 3}", 3)]
)
def test_decode_threads_default_and_shown(tmp_path: Path, source: str, threads: int) -> None:
    config = load_pipeline(_pipeline(tmp_path, source))
    assert config.source.decode_threads == threads
    assert config.to_dict()["source"]["decode_threads"] == threads
