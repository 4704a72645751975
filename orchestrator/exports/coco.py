"""Detections as COCO JSON: what pycocotools and other COCO tools read.

`coco_results` gives one object::

    {"images": [{"id": 0, "frame": 0, "time": 0.0, "file_name": "frame_000000"}, ...],
     "categories": [{"id": 1, "name": "cup"}, {"id": 2, "name": "hand"}],
     "annotations": [{"id": 1, "image_id": 0, "category_id": 2, "bbox": [x, y, w, h],
                      "score": 0.9, "area": w * h, "iscrowd": 0, "detector": "hands"}, ...]}

- ``images``: one per frame with a ``detections`` record of a chosen detector (frames where a
  detector ran and found nothing included: they count for false positives), ``id`` the events'
  ``frame`` (0-based), ``file_name`` the record's ``file`` when it has one (image-folder
  sources), else ``frame_NNNNNN``; ``width``/``height`` when the file has a ``stream.start``
  record with them.
- ``categories``: every label, sorted by name, numbered from 1 (the detectors' own class ids
  differ between detectors, so they are not used).
- ``annotations``: the COCO *results* list (``image_id``, ``category_id``, ``bbox`` as
  ``x, y, width, height`` pixels, ``score``) with ``id``, ``area`` and ``iscrowd`` added, so the
  file is also a COCO dataset: ``COCO(path)`` loads it, and ``coco.loadRes(annotations)`` takes
  the list as results. ``results_only`` gives the bare list instead, as evaluation servers take.

Example:
    >>> record = {"type": "detections", "frame": 4, "time": 0.133, "detector": "hands",
    ...           "detections": [{"box": [10.0, 20.0, 70.0, 100.0], "score": 0.9, "label": "hand"}]}
    >>> out = coco_results([record])
    >>> out["categories"], out["annotations"][0]["bbox"], out["images"][0]["file_name"]
    ([{'id': 1, 'name': 'hand'}], [10.0, 20.0, 60.0, 80.0], 'frame_000004')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from orchestrator.errors import UserError
from orchestrator.exports.events_file import EventsFile


def coco_results(
    detections_records: Iterable[Mapping[str, Any]], frame_size: tuple[int, int] | None = None
) -> dict[str, Any]:
    """The COCO object (see the module docstring) of ``detections`` records.

    ``frame_size`` (``width, height`` pixels), when known, is written on every image.
    """
    records = sorted(detections_records, key=lambda r: r["frame"])  # stable: detector order kept per frame
    labels = sorted({str(d["label"]) for r in records for d in r["detections"]})
    category = {label: i for i, label in enumerate(labels, start=1)}
    images: dict[int, dict[str, Any]] = {}
    annotations: list[dict[str, Any]] = []
    for record in records:
        frame = int(record["frame"])
        if frame not in images:
            image: dict[str, Any] = {
                "id": frame,
                "frame": frame,
                "time": record["time"],
                "file_name": str(record.get("file") or f"frame_{frame:06d}"),
            }
            if frame_size is not None:
                image["width"], image["height"] = frame_size
            images[frame] = image
        for detection in record["detections"]:
            x1, y1, x2, y2 = (float(v) for v in detection["box"])
            w, h = round(x2 - x1, 2), round(y2 - y1, 2)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": frame,
                    "category_id": category[str(detection["label"])],
                    "bbox": [round(x1, 2), round(y1, 2), w, h],
                    "score": float(detection["score"]),
                    "area": round(w * h, 4),
                    "iscrowd": 0,
                    "detector": record.get("detector", ""),
                }
            )
    return {
        "images": list(images.values()),
        "categories": [{"id": i, "name": label} for label, i in category.items()],
        "annotations": annotations,
    }


def _frame_size(events: EventsFile) -> tuple[int, int] | None:
    """``(width, height)`` from a ``stream.start`` record, when the file has one with both."""
    for record in events.of_type("stream.start"):
        width, height = record.get("width"), record.get("height")
        if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
            return width, height
    return None


def export_coco(
    events: EventsFile, detector: str | None = None, results_only: bool = False
) -> dict[str, Any] | list[dict[str, Any]]:
    """The COCO object of ``events``' detections, or with ``results_only`` the bare results list.

    ``detector`` keeps one detector's detections (default: every detector's). Raises `UserError`
    without detections records, for an unknown ``detector``, or for a malformed detection.
    """
    records = events.require("detections", "outputs.records: [detections]")
    if detector is not None:
        records = events.select_detector(records, detector)
    for record in records:
        for detection in events.field(record, "detections", list):
            box = detection.get("box") if isinstance(detection, dict) else None
            if (
                not isinstance(box, list)
                or len(box) != 4
                or not isinstance(detection.get("score"), (int, float))
                or not isinstance(detection.get("label"), str)
            ):
                raise UserError(
                    f"{events.path}: detections record seq {record.get('seq')} (frame {record['frame']}): "
                    f"a detection needs box [x1, y1, x2, y2], score and label, got {detection!r}"
                )
    out = coco_results(records, _frame_size(events))
    if results_only:
        return [{k: a[k] for k in ("image_id", "category_id", "bbox", "score")} for a in out["annotations"]]
    return out
