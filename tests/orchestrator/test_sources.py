"""Image-folder sources: which files are frames (the shared clutter case), undecodable images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli, shared_path, write_pipeline

from orchestrator.sources import MAX_SKIPPED_NAMES, ImageFolderSource, open_source


def test_os_clutter_in_an_image_folder_is_not_frames(tmp_path: Path) -> None:
    # ../shared/cases/folder-with-clutter: .DS_Store, an AppleDouble ._frame_01.jpg, Thumbs.db,
    # desktop.ini and notes.txt beside three real frames.
    folder = shared_path("cases/folder-with-clutter/clutter")
    assert [p.name for p in ImageFolderSource(str(folder)).paths] == ["frame_01.jpg", "frame_02.jpg", "frame_03.jpg"]
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        """
        version: 1
        source: {uri: 0}
        detectors:
          n: {plugin: testing.noop}
        """,
    )
    result = run_cli("run", pipeline, "--source", folder, "--events", tmp_path / "e.jsonl", "-q")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "e.jsonl").read_text().splitlines()[-1])
    assert (summary["status"], summary["frames"]["read"], summary["frames"]["processed"]) == ("completed", 3, 3)


def test_a_folder_named_like_an_image_is_not_a_frame(tmp_path: Path) -> None:
    import cv2
    import numpy as np

    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "extra.jpg").mkdir()
    (tmp_path / "._a.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    assert [p.name for p in ImageFolderSource(str(tmp_path)).paths] == ["a.png"]


def _folder_with_bad_images(folder: Path, bad: tuple[int, ...], total: int = 5) -> Path:
    import cv2
    import numpy as np

    folder.mkdir()
    for i in range(1, total + 1):
        if i in bad:
            (folder / f"f{i}.png").write_bytes(b"\x89PNG\r\n cut short")
        else:
            cv2.imwrite(str(folder / f"f{i}.png"), np.full((6, 8, 3), i, np.uint8))
    return folder


@pytest.mark.parametrize(
    ("bad", "times", "status", "names"),
    [
        ((), [0.0, 0.1, 0.2, 0.3, 0.4], "completed", []),
        ((2, 4), [0.0, 0.2, 0.4], "truncated", ["f2.png", "f4.png"]),  # a skipped image leaves its gap in time
        ((1, 2, 3, 4, 5), [], "truncated", ["f1.png", "f2.png", "f3.png", "f4.png", "f5.png"]),
    ],
)
def test_undecodable_images_are_skipped_counted_and_named(
    tmp_path: Path, bad: tuple[int, ...], times: list[float], status: str, names: list[str]
) -> None:
    source = ImageFolderSource(str(_folder_with_bad_images(tmp_path / "f", bad)), fps=10)
    frames = list(iter(source.read, None))
    assert [time_s for _, time_s in frames] == pytest.approx(times)
    assert [int(image[0, 0, 0]) for image, _ in frames] == [i for i in range(1, 6) if i not in bad]
    assert (source.end_status, source.frames_skipped, source.skipped_names) == (status, len(bad), names)


def test_skipped_names_are_capped_but_the_count_is_whole(tmp_path: Path) -> None:
    total = MAX_SKIPPED_NAMES + 5
    source = ImageFolderSource(str(_folder_with_bad_images(tmp_path / "f", tuple(range(1, total)), total)))
    assert len(list(iter(source.read, None))) == 1
    assert source.frames_skipped == total - 1
    assert source.skipped_names == [f"f{i}.png" for i in range(1, MAX_SKIPPED_NAMES + 1)]


def test_on_bad_frame_stop_ends_with_an_error_naming_the_image(tmp_path: Path) -> None:
    folder = _folder_with_bad_images(tmp_path / "f", (3,))
    source = open_source(str(folder), on_bad_frame="stop")
    assert len(list(iter(source.read, None))) == 2  # the frames before it are delivered
    assert source.end_status == "error"
    assert source.end_error == (
        f"{folder / 'f3.png'}: cannot decode image (corrupt, unreadable or not an image; on_bad_frame: stop)"
    )
    assert source.frames_skipped == 0 and source.read() is None
