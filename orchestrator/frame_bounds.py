"""Boxes stay in the frame: what the application does to detections and tracks before anyone sees them.

A plugin may return boxes that stick out of the frame, or lie wholly beyond it (a detector
decoding anchors past the border, a third-party plugin's bug); a tracker's motion model carries
a lost hand past the border. Records, the scene and the relations only ever see boxes inside
the ``width`` × ``height`` frame the detectors saw:

* a detection is clipped to the frame; one wholly outside it is dropped (and counted by the
  caller, `orchestrator.scene_builder.SceneBuilder.boxes_dropped`);
* a track's box is clipped the same way; a track predicted wholly outside the frame is not
  reported on that frame (the tracker keeps it, so it can come back).

Keypoints are left as they are: a hand's landmarks may lie outside the frame (MediaPipe
predicts the part of the hand the image cut off), and they are finite by construction.

Example:
    >>> d = Detections.from_lists([[-30, 10, 40, 50], [330, 0, 400, 40]], [0.9, 0.8], [0, 0], ["hand", "hand"])
    >>> kept, dropped = detections_in_frame(d, (320, 240))
    >>> kept.boxes.tolist(), dropped
    ([[0.0, 10.0, 40.0, 50.0]], 1)
    >>> track_in_frame(Track(1, (-24, 100, -14, 160), 0.9, "hand", 0), (320, 240)) is None
    True
"""

from __future__ import annotations

import dataclasses

import numpy as np

from detectors.detections import Detections
from detectors.geometry import clip_box, clip_boxes, overlaps_frame, overlaps_frame_mask
from trackers.track import Track


def detections_in_frame(detections: Detections, frame_size: tuple[int, int]) -> tuple[Detections, int]:
    """``detections`` with boxes clipped to the ``(width, height)`` frame, those wholly outside dropped.

    Returns the detections kept (the same object when nothing changes) and how many were dropped.
    Keypoints, scores, labels and sides of the kept detections are unchanged.

    Example:
        >>> d = Detections.from_lists([[10, 10, 20, 20]], [0.9], [0], ["hand"])
        >>> detections_in_frame(d, (320, 240))[0] is d
        True
    """
    if len(detections) == 0:
        return detections, 0
    width, height = frame_size
    keep = overlaps_frame_mask(detections.boxes, width, height)
    clipped = clip_boxes(detections.boxes, width, height)
    if keep.all() and np.array_equal(clipped, detections.boxes):
        return detections, 0
    kept = detections.select(keep) if not keep.all() else detections
    boxes = clipped[keep]
    return (
        Detections(
            boxes,
            kept.scores,
            kept.class_ids,
            kept.labels,
            kept.keypoints,
            kept.keypoint_names,
            kept.sides,
            kept.side_scores,
        ),
        int((~keep).sum()),
    )


def track_in_frame(track: Track, frame_size: tuple[int, int]) -> Track | None:
    """``track`` with its box clipped to the ``(width, height)`` frame, or None when the box is wholly outside.

    Example:
        >>> track_in_frame(Track(1, (-6.4, 100, 40, 160), 0.9, "hand", 0), (320, 240)).box
        (0.0, 100.0, 40.0, 160.0)
    """
    width, height = frame_size
    if not overlaps_frame(track.box, width, height):
        return None
    box = clip_box(track.box, width, height)
    return track if box == track.box else dataclasses.replace(track, box=box)


def tracks_in_frame(tracks: tuple[Track, ...], frame_size: tuple[int, int]) -> tuple[Track, ...]:
    """`track_in_frame` of each track, those wholly outside left out, order kept."""
    return tuple(t for t in (track_in_frame(track, frame_size) for track in tracks) if t is not None)
