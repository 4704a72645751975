"""Batch inputs: videos, folders, globs and list files expanded; names unique and stable."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.batch.inputs import assign_names, expand_inputs, path_digest
from orchestrator.errors import UserError

FILES = ("v/a.mp4", "v/b.MOV", "v/notes.txt", "v/sub/c.avi", "w/a.mp4", "w/d.webm", "x/readme.md")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for rel in FILES:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    (tmp_path / "list.txt").write_text(
        "# the two clips\n\nv/a.mp4\n  w/d.webm  \n# w/a.mp4 is left out\nv/sub\n", encoding="utf-8"
    )
    return tmp_path


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["v"], ["v/a.mp4", "v/b.MOV"]),  # a folder: its videos (not notes.txt, not the subfolder's)
        (["v/sub/c.avi", "v"], ["v/sub/c.avi", "v/a.mp4", "v/b.MOV"]),  # argument order kept
        (["list.txt"], ["v/a.mp4", "w/d.webm", "v/sub/c.avi"]),  # comments, blanks, spaces, a folder
        (["*/a.mp4"], ["v/a.mp4", "w/a.mp4"]),
        (["**/*.avi"], ["v/sub/c.avi"]),  # ** recurses
        (["w/*"], ["w/a.mp4", "w/d.webm"]),
        (["v", "v/a.mp4", "list.txt"], ["v/a.mp4", "v/b.MOV", "w/d.webm", "v/sub/c.avi"]),  # each once
        (["x/readme.md"], ["x/readme.md"]),  # a file named as such is an input, whatever its suffix
    ],
)
def test_expand(tree: Path, arguments: list[str], expected: list[str]) -> None:
    assert expand_inputs(arguments, base=tree) == [tree / rel for rel in expected]


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("missing.mp4", "input missing.mp4: no such file or folder"),
        ("x", "input x: folder has no videos"),
        ("*/nothing.mp4", "input */nothing.mp4: the pattern matches no file"),
    ],
)
def test_bad_inputs_are_one_line_errors(tree: Path, argument: str, message: str) -> None:
    with pytest.raises(UserError) as caught:
        expand_inputs([argument], base=tree)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_a_list_naming_a_missing_file_names_it(tree: Path) -> None:
    (tree / "bad.list").write_text("v/a.mp4\nv/gone.mp4\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"input v/gone.mp4: no such file or folder"):
        expand_inputs(["bad.list"], base=tree)


def test_a_list_naming_itself_does_not_recurse_forever(tree: Path) -> None:
    (tree / "self.txt").write_text("self.txt\n", encoding="utf-8")
    with pytest.raises(UserError, match="nested more than 4 deep"):
        expand_inputs(["self.txt"], base=tree)


def test_names_unique_case_insensitively_and_stable_with_known_names() -> None:
    a, b, c = Path("/d1/clip.mp4"), Path("/d2/clip.mp4"), Path("/d3/CLIP.avi")
    names = assign_names([a, b, c])
    assert names == {a: "clip", b: f"clip-{path_digest(b)}", c: f"CLIP-{path_digest(c)}"}
    # Resumed with the arguments in another order: each input keeps the name the index gives it.
    assert assign_names([c, b, a], known=names) == {c: names[c], b: names[b], a: names[a]}
    # Without an index, the first one of a stem gets it plain.
    assert assign_names([b, a])[b] == "clip"


def test_a_later_run_never_takes_the_name_of_an_input_it_does_not_run() -> None:
    """Another video of the same name, in a later batch into the same folder, must not overwrite
    the earlier input's output (new-user trial: a resume then skipped on someone else's records)."""
    first, other = Path("/shared/add_remove_lid_0.mp4"), Path("/tmp/x/add_remove_lid_0.mp4")
    known = assign_names([first])
    assert assign_names([other], known=known) == {other: f"add_remove_lid_0-{path_digest(other)}"}
    assert assign_names([first, other], known=known)[first] == "add_remove_lid_0"
