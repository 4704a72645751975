"""Sources: which files of an image folder are frames (the shared clutter case)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run_cli, shared_path, write_pipeline

from orchestrator.sources import ImageFolderSource


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
