"""DIR/index.csv: rows validated, appended, read back (last wins), a cut last line ignored, resume keys."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.batch.index import COLUMNS, IndexAppender, IndexRow, is_current, read_index, write_index
from orchestrator.errors import UserError

DONE = IndexRow("/v/a,b.mp4", "a,b", "done", 30, 29.97, 2, "", "ab" * 32, 1000, 17, "cd" * 32, 1.5)
FAILED = IndexRow("/v/c.mp4", "c", "failed", 0, 0.0, 0, 'c.mp4: "moov" atom not found', "", 5, 6, "cd" * 32, 0.1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": "skipped"}, "status must be one of done, failed"),
        ({"output_sha256": "abc"}, "64-hex-digit output_sha256"),
        ({"status": "failed", "output_sha256": "", "error": ""}, "needs its error"),
        ({"error": "two\nlines"}, "one line"),
        ({"name": "../escape"}, "plain, visible file stem"),
        ({"name": ".hidden"}, "plain, visible file stem"),
    ],
)
def test_rows_are_validated(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(DONE, **changes)


def test_append_read_last_row_wins_and_compact(tmp_path: Path) -> None:
    path = tmp_path / "index.csv"
    with IndexAppender(path) as index:
        index.append(replace(DONE, status="failed", error="first try", output_sha256=""))
        index.append(FAILED)
        index.append(DONE)  # the retry succeeded
    assert read_index(path) == {DONE.input: DONE, FAILED.input: FAILED}  # commas and quotes survive
    write_index(path, read_index(path))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(COLUMNS) and len(lines) == 3
    assert read_index(path) == {DONE.input: DONE, FAILED.input: FAILED}
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


def test_a_line_cut_by_a_kill_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "index.csv"
    with IndexAppender(path) as index:
        index.append(FAILED)
    with open(path, "a", encoding="utf-8") as file:
        file.write('"/v/a,b.mp4",a,do')  # the batch was killed in the middle of this write
    assert read_index(path) == {FAILED.input: FAILED}
    with IndexAppender(path) as index:  # the next batch appends after the cut line; that row still reads
        index.append(DONE)
    assert read_index(path)[DONE.input] == DONE


def test_someone_elses_csv_is_not_taken_for_an_index(tmp_path: Path) -> None:
    path = tmp_path / "index.csv"
    path.write_text("name,score\nx,1\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"index.csv: not a batch index"):
        read_index(path)


@pytest.mark.parametrize(
    ("row", "key", "output_exists", "current"),
    [
        (DONE, (1000, 17, "cd" * 32), True, True),
        (DONE, (1000, 17, "cd" * 32), False, False),  # output deleted: redo
        (DONE, (1001, 17, "cd" * 32), True, False),  # size changed
        (DONE, (1000, 18, "cd" * 32), True, False),  # touched
        (DONE, (1000, 17, "ef" * 32), True, False),  # another pipeline
        (replace(DONE, status="failed", error="x", output_sha256=""), (1000, 17, "cd" * 32), True, False),
        (None, (1000, 17, "cd" * 32), True, False),
    ],
)
def test_is_current(tmp_path: Path, row: IndexRow | None, key: tuple, output_exists: bool, current: bool) -> None:
    if output_exists:
        (tmp_path / "a,b.jsonl").write_text("{}\n", encoding="utf-8")
    assert is_current(row, *key, tmp_path) is current
