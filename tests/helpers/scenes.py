"""A scripted scene as a pipeline: a video, scripted hand and object detectors, a hand tracker and relations.

The golden streams, the export tests and the embedding tests all run this shape of pipeline,
differing only in the boxes, the object detector's schedule, the relations and the records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from helpers.cli import write_pipeline
from helpers.media import make_video, write_fixture

Boxes = dict[int, list[dict[str, Any]]]

#: The hand tracker the scripted scenes use: a hand is confirmed on its 2nd frame, kept 5 unseen.
HAND_TRACKER = {"type": "sort", "detector": "hands", "params": {"min_hits": 2, "max_age_frames": 5}}


def scene_pipeline(
    folder: Path,
    hands: Boxes | None,
    objects: Boxes | None,
    relations: dict[str, Any],
    *,
    frames: int,
    objects_every: int = 1,
    object_labels: tuple[str, ...] = ("person", "cup", "bottle"),
    records: tuple[str, ...] = (),
) -> Path:
    """Write ``clip.avi`` (``frames`` frames, 320x240), the fixtures and ``p.yaml`` in ``folder``.

    ``hands`` / ``objects`` are written as ``hands.yaml`` / ``objects.yaml`` (None: the caller has
    written that fixture itself); ``relations`` is the pipeline's ``relations:`` section and
    ``records`` its ``outputs.records``. Returns the pipeline's path.
    """
    video = make_video(folder / "clip.avi", frames=frames, size=(320, 240))
    if hands is not None:
        write_fixture(folder / "hands.yaml", hands, labels=("hand",))
    if objects is not None:
        write_fixture(folder / "objects.yaml", objects, labels=object_labels)
    objects_entry: dict[str, Any] = {"plugin": "testing.scripted", "params": {"fixture": "objects.yaml"}}
    if objects_every != 1:
        objects_entry["schedule"] = {"every_n_frames": objects_every}
    pipeline: dict[str, Any] = {
        "version": 1,
        "source": {"uri": video.name},
        "detectors": {
            "hands": {"plugin": "testing.scripted", "params": {"fixture": "hands.yaml"}},
            "objects": objects_entry,
        },
        "tracker": HAND_TRACKER,
        "relations": relations,
    }
    if records:
        pipeline["outputs"] = {"records": list(records)}
    return write_pipeline(folder / "p.yaml", yaml.safe_dump(pipeline, sort_keys=False))
