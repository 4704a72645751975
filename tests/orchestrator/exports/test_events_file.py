"""Reading events files back: real ones load, anything else is a one-line error naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import DATA_DIR, run_cli

from orchestrator.errors import UserError
from orchestrator.events import SCHEMA_ID
from orchestrator.exports.events_file import SUPPORTED_SCHEMAS, read_events

GOLDEN = DATA_DIR / "golden"
GOOD = '{"schema":"orchestrator.events/2","seq":0,"type":"tracks","frame":0,"time":0.0,"tracks":[]}\n'


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.glob("*.jsonl")))
def test_golden_streams_load(name: str) -> None:
    path = GOLDEN / name
    events = read_events(path)
    assert len(events.records) == len(path.read_text(encoding="utf-8").splitlines())
    assert [r["seq"] for r in events.records] == list(range(len(events.records)))


def test_current_schema_is_read() -> None:
    # The version runs write today must be readable, whatever it is bumped to.
    assert SUPPORTED_SCHEMAS[-1] == SCHEMA_ID


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no records"),
        ("\n\n", "no records"),
        ("frame,hand,xmin\n0,left,1\n", ":1: not an events file: the line is not JSON"),
        ("[1, 2]\n", ":1: not an events file: expected a JSON object per line, got list"),
        ('{"type": "tracks", "frame": 0, "time": 0}\n', ":1: not an events file: 'schema' is None"),
        (GOOD.replace("events/2", "events/99"), ":1: schema 'orchestrator.events/99' is not supported"),
        (GOOD + GOOD.replace('"frame":0', '"frame":-1'), ":2: 'frame' must be an integer >= 0, got -1"),
        (GOOD.replace('"time":0.0', '"time":"0"'), ":1: 'time' must be a number of seconds"),
        (GOOD.replace('"type":"tracks",', ""), ":1: record without a 'type' string"),
        (GOOD + GOOD[:40] + "\n", ":2: not an events file: the line is not JSON"),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as info:
        read_events(path)
    assert message in str(info.value) and str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"cannot read events file .*missing\.jsonl"):
        read_events(tmp_path / "missing.jsonl")
    with pytest.raises(UserError, match="is a folder"):
        read_events(tmp_path)
    binary = tmp_path / "video.jsonl"
    binary.write_bytes(b"\xff\xd8\xff\xe0 not text")
    with pytest.raises(UserError, match="not UTF-8 text"):
        read_events(binary)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["README.md", "--to", "mot"], "README.md:1: not an events file"),
        ([str(GOLDEN / "flicker.jsonl"), "--to", "mot"], "no 'tracks' records; the run must write them"),
        ([str(GOLDEN / "flicker.jsonl"), "--to", "coco"], "no 'detections' records"),
        ([str(GOLDEN / "flicker.jsonl"), "--to", "csv", "--detector", "hands"], "--detector applies to"),
        ([str(GOLDEN / "flicker.jsonl"), "--to", "mot", "--results-only"], "--results-only applies to --to coco"),
        (["missing.jsonl", "--to", "csv"], "cannot read events file missing.jsonl"),
    ],
)
def test_cli_bad_input_exit_2(args: list[str], message: str) -> None:
    result = run_cli("export", *args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and message in result.stderr


def test_a_last_line_cut_short_is_left_out_and_flagged(tmp_path: Path) -> None:
    """A run killed mid-write leaves a last line without its newline: the records before it are read."""
    path = tmp_path / "events.jsonl"
    path.write_text(GOOD + GOOD + GOOD[:40], encoding="utf-8")
    events = read_events(path)
    assert len(events.records) == 2 and events.cut_last_line
    path.write_text(GOOD + GOOD, encoding="utf-8")
    assert not read_events(path).cut_last_line


def test_export_refuses_to_write_over_its_events_file(tmp_path: Path) -> None:
    events = tmp_path / "ev.jsonl"
    events.write_text((GOLDEN / "two_hands_two_objects.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    before = events.read_bytes()
    result = run_cli("export", str(events), "--to", "csv", "--out", str(events))
    assert result.returncode == 2 and "is the events file" in result.stderr and result.stderr.count("\n") == 1
    assert events.read_bytes() == before
