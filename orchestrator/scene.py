"""The scene: what the pipeline knows about one frame once its detector results are applied.

`orchestrator.scene_builder.SceneBuilder` produces one `Scene` per processed frame; renderers
(`orchestrator.render`), the ``run`` command's viewer and `Runtime.on_frame` hooks read it as it
is. A `Scene` is immutable: it can be handed to another thread (the render thread) without a copy.

Coordinates are pixels of the frame the detectors saw (after ``source.resize``), ``x`` to the
right and ``y`` downwards, boxes as ``x1, y1, x2, y2``.

Example:
    >>> from trackers.track import Track
    >>> hand, cup = Track(1, (0, 0, 10, 10), 0.9, "hand", 0), Track(7, (5, 0, 15, 10), 0.8, "cup", 41)
    >>> scene = Scene(12, 0.4, (320, 240), hands=(hand,), objects=(cup,),
    ...               relations=(ActiveRelation("touching", hand, cup),), staleness_frames={"hands": 0})
    >>> [(r.name, r.hand_id, r.object_id) for r in scene.relations]
    [('touching', 1, 7)]
    >>> scene.staleness_frames["hands"], scene.frame_size
    (0, (320, 240))
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from detectors.detections import Detections
from trackers.track import Track


def _is_positive_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


@dataclass(frozen=True)
class ActiveRelation:
    """A relation that holds on this frame between one hand track and one object track.

    Attributes:
        name: the relation's name in the pipeline's ``relations.report`` section.
        hand_track: the hand's track on this frame (its box in pixels).
        object_track: the object's track on this frame.

    Raises `ValueError` for an empty name or a track that is not a `Track`.

    Example:
        >>> hand, cup = Track(1, (10, 10, 50, 50), 0.9, "hand", 0), Track(7, (40, 40, 90, 90), 0.8, "cup", 41)
        >>> relation = ActiveRelation("holding", hand, cup)
        >>> relation.hand_id, relation.object_id, relation.object_track.label
        (1, 7, 'cup')
    """

    name: str
    hand_track: Track
    object_track: Track

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"relation name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.hand_track, Track) or not isinstance(self.object_track, Track):
            raise ValueError(f"relation {self.name!r}: hand_track and object_track must be Track values")

    @property
    def hand_id(self) -> int:
        """Track id of the hand (the hand tracker's id space)."""
        return self.hand_track.track_id

    @property
    def object_id(self) -> int:
        """Track id of the object (the object tracker's id space)."""
        return self.object_track.track_id


@dataclass(frozen=True, eq=False)
class Scene:
    """One processed frame: tracks, active relations, raw detections and detector staleness.

    Attributes:
        frame_index: 0-based index of the frame in the source.
        time_s: source time of the frame, seconds.
        frame_size: ``(width, height)`` in pixels of the frame the detectors saw.
        hands: hand tracks reported on this frame (empty without a ``tracker:`` section).
        objects: object tracks reported on this frame (empty without a ``relations:`` section).
        relations: relations active on this frame, in record order (relation's position in the
            pipeline, then hand id, then object id); each refers to tracks of `hands` and `objects`.
        detections: raw detections of the detectors that answered on this very frame, by
            detector name, in the pipeline's detector order (a read-only mapping).
        staleness_frames: per detector, in the pipeline's order, frames since its last result:
            0 when it answered on this frame; ``frame_index + 1`` when it has not answered yet.

    Sequences are stored as tuples and mappings as read-only views of a copy, so a scene never
    changes after construction. Raises `ValueError` for a negative frame index, a non-finite time,
    a size that is not two positive integers, or a relation whose hand or object id is not on
    this frame.

    Example:
        >>> scene = Scene(0, 0.0, (640, 480), staleness_frames={"hands": 1})
        >>> scene.hands, scene.relations, dict(scene.staleness_frames)
        ((), (), {'hands': 1})
        >>> Scene(-1, 0.0, (640, 480))
        Traceback (most recent call last):
        ...
        ValueError: frame_index must be an integer >= 0, got -1
    """

    frame_index: int
    time_s: float
    frame_size: tuple[int, int]
    hands: tuple[Track, ...] = ()
    objects: tuple[Track, ...] = ()
    relations: tuple[ActiveRelation, ...] = ()
    detections: Mapping[str, Detections] = field(default_factory=dict)
    staleness_frames: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        index = self.frame_index
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) or index < 0:
            raise ValueError(f"frame_index must be an integer >= 0, got {index!r}")
        if isinstance(self.time_s, bool) or not isinstance(self.time_s, numbers.Real) or not math.isfinite(self.time_s):
            raise ValueError(f"time_s must be a finite number of seconds, got {self.time_s!r}")
        size = tuple(self.frame_size)
        if len(size) != 2 or not all(_is_positive_int(v) for v in size):
            raise ValueError(f"frame_size must be (width, height), two integers > 0, got {self.frame_size!r}")
        hands, objects, relations = tuple(self.hands), tuple(self.objects), tuple(self.relations)
        hand_ids = {t.track_id for t in hands}
        object_ids = {t.track_id for t in objects}
        for relation in relations:
            if relation.hand_id not in hand_ids or relation.object_id not in object_ids:
                raise ValueError(
                    f"relation {relation.name!r} refers to hand {relation.hand_id} and object "
                    f"{relation.object_id}, which are not both tracks of frame {index}"
                )
        object.__setattr__(self, "frame_index", int(index))
        object.__setattr__(self, "time_s", float(self.time_s))
        object.__setattr__(self, "frame_size", (int(size[0]), int(size[1])))
        object.__setattr__(self, "hands", hands)
        object.__setattr__(self, "objects", objects)
        object.__setattr__(self, "relations", relations)
        object.__setattr__(self, "detections", MappingProxyType(dict(self.detections)))
        object.__setattr__(self, "staleness_frames", MappingProxyType(dict(self.staleness_frames)))
