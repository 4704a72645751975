"""The events writer: opened at the first record, appends without truncating, never leaves half a record."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.events import JsonlSink


@pytest.mark.parametrize(("append", "kept"), [(False, ""), (True, "old\n")])
def test_the_file_is_opened_at_the_first_record(tmp_path: Path, append: bool, kept: str) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("old\n", encoding="utf-8")
    sink = JsonlSink(str(path), append=append)
    assert path.read_text(encoding="utf-8") == "old\n"  # a run that never writes leaves it as it was
    sink.write({"seq": 0})
    sink.close()
    assert path.read_text(encoding="utf-8") == kept + '{"seq":0}\n'


@pytest.mark.parametrize("half", [b'{"seq":2,"ty', b"", b"{"])
def test_abandon_cuts_a_half_written_record(tmp_path: Path, half: bytes) -> None:
    """What a second Ctrl-C arriving in the middle of a write leaves: the file ends at a whole record."""
    path = tmp_path / "e.jsonl"
    sink = JsonlSink(str(path))
    sink.write({"seq": 0})
    sink.write({"seq": 1})
    whole = path.read_bytes()
    os.write(sink._fd, half)  # a short write of the next record
    sink._in_flight = 40
    sink.abandon()
    sink.close()
    assert path.read_bytes() == whole
