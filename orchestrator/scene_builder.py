"""What happens to one frame after detection: trackers, relations, records and the `Scene`, no threads in sight.

The runtime hands `SceneBuilder.step` the detector results that belong to a frame (in realtime
mode, also late ones, tagged with their own frame), in frame order. The builder feeds the hand
tracker, the object tracker and the relation engine, returns the records for that frame, and
keeps the frame's `Scene` (tracks, active relations, how stale each detector is) for renderers.
Results that arrive after the last frame was stepped are only recorded (`SceneBuilder.record_late`).

Boxes stay in the frame (`orchestrator.frame_bounds`): every detector result is clipped to its
frame before it is recorded, tracked or shown, a box wholly outside the frame (or not finite)
is dropped and counted per detector in `SceneBuilder.boxes_dropped`; track boxes are clipped the
same way, and a track predicted wholly outside the frame is not reported on that frame.

Example:
    >>> builder = SceneBuilder(config, emit={"tracks"}, fps=30.0)          # doctest: +SKIP
    >>> records = builder.step(0, 0.0, (640, 480), results)                # doctest: +SKIP
    >>> builder.scene.hands                                                # doctest: +SKIP
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from detectors.detections import Detections
from orchestrator.config import PipelineConfig, TrackerSpec
from orchestrator.errors import UserError
from orchestrator.events import DetectionsRecord, Record, TracksRecord
from orchestrator.frame_bounds import detections_in_frame, tracks_in_frame
from orchestrator.relations import RelationEngine
from orchestrator.scene import ActiveRelation, Scene
from trackers.track import Track
from trackers.tracker import Tracker


@dataclass(frozen=True)
class DetectorResult:
    """One detector's answer on one frame (``time_s`` in source seconds, ``latency_ms`` of its ``detect`` call)."""

    detector: str
    frame_index: int
    time_s: float
    detections: Detections
    latency_ms: float


def _build(spec: TrackerSpec, where: str) -> Tracker:
    try:
        return spec.tracker_class(**spec.params)
    except (TypeError, ValueError) as exc:
        raise UserError(f"{where} ({spec.type}): {exc}") from exc


#: How many recent frames' sizes are kept for late results (realtime lateness is a few frames).
_FRAME_SIZES_KEPT = 256


class SceneBuilder:
    """Trackers, relations, records and one `Scene` per frame for one run.

    Call `step` once per frame, in frame order, then `finish`. Raises `UserError` at construction
    when a tracker rejects its parameters.
    """

    def __init__(self, config: PipelineConfig, emit: Iterable[str], fps: float) -> None:
        # ``emit``: the opted-in record types (``detections``, ``tracks``) and ``keypoints``, which
        # adds keypoints to those records.
        self.config = config
        self.emit = set(emit)
        self.hand_tracker = _build(config.tracker, "tracker") if config.tracker is not None else None
        self.object_tracker = (
            _build(config.object_tracker, "relations.objects.tracker") if config.object_tracker is not None else None
        )
        self.relations = RelationEngine(config.relations, fps) if config.relations is not None else None
        self._last_result_frame: dict[str, int] = {}
        #: Per detector (pipeline order), detections dropped because their box lay wholly outside the frame.
        self.boxes_dropped: dict[str, int] = {spec.name: 0 for spec in config.detectors}
        # (width, height) of the frames stepped last: a late result is clipped to its own frame's size.
        self._frame_sizes: OrderedDict[int, tuple[int, int]] = OrderedDict()
        #: The scene of the last frame `step` was called on; ``None`` before the first.
        self.scene: Scene | None = None

    def record_late(self, results: Sequence[DetectorResult]) -> list[Record]:
        """Records for results that arrived after the last frame was stepped (realtime, end of stream).

        Trackers and relations have already reported that frame: the results are only recorded
        (``detections`` records, when emitted) and counted for staleness; the scene stays as it is.
        Boxes are clipped to the frame they belong to (see `boxes_dropped`).
        """
        return self._record(self._in_frame(results))

    def _in_frame(self, results: Sequence[DetectorResult]) -> list[DetectorResult]:
        """``results`` with their boxes clipped to their frame; boxes wholly outside dropped and counted."""
        kept = []
        for result in results:
            size = self._frame_sizes.get(result.frame_index)
            if size is None:  # a frame not stepped yet or long gone: the latest size is the best guess
                size = next(reversed(self._frame_sizes.values()), None)
            if size is None:
                kept.append(result)
                continue
            detections, dropped = detections_in_frame(result.detections, size)
            if dropped:
                self.boxes_dropped[result.detector] = self.boxes_dropped.get(result.detector, 0) + dropped
            kept.append(result if detections is result.detections else replace(result, detections=detections))
        return kept

    def _record(self, results: Sequence[DetectorResult]) -> list[Record]:
        records: list[Record] = []
        if "detections" in self.emit:
            records += [
                DetectionsRecord(
                    frame=r.frame_index,
                    time=r.time_s,
                    detector=r.detector,
                    detections=r.detections,
                    keypoints="keypoints" in self.emit,
                )
                for r in results
            ]
        for result in results:
            last = self._last_result_frame.get(result.detector, -1)
            self._last_result_frame[result.detector] = max(last, result.frame_index)
        return records

    def step(
        self, frame_index: int, time_s: float, frame_size: tuple[int, int], results: Sequence[DetectorResult]
    ) -> list[Record]:
        """Records for frame ``frame_index`` given the results that arrived for it; updates `scene`.

        ``frame_size`` is ``(width, height)`` in pixels of the frame the detectors saw; boxes are
        clipped to it (see the module's note).
        """
        size = (int(frame_size[0]), int(frame_size[1]))
        self._frame_sizes[frame_index] = size
        while len(self._frame_sizes) > _FRAME_SIZES_KEPT:
            self._frame_sizes.popitem(last=False)
        results = self._in_frame(results)
        records = self._record(results)
        hands = self._track(self.hand_tracker, self.config.tracker, frame_index, time_s, size, results, records)
        objects = self._track(
            self.object_tracker, self.config.object_tracker, frame_index, time_s, size, results, records
        )
        active: tuple[ActiveRelation, ...] = ()
        if self.relations is not None:
            records += self.relations.update(frame_index, time_s, hands, objects, frame_size=size)
            active = self.relations.active()
            # The scene shows carried objects too (moved with the hand, inside the frame).
            objects = objects + self.relations.carried_objects()
        self.scene = Scene(
            frame_index=frame_index,
            time_s=time_s,
            frame_size=frame_size,
            hands=hands,
            objects=objects,
            relations=active,
            detections={r.detector: r.detections for r in results if r.frame_index == frame_index},
            staleness_frames={
                spec.name: frame_index - self._last_result_frame[spec.name]
                if spec.name in self._last_result_frame
                else frame_index + 1
                for spec in self.config.detectors
            },
        )
        return records

    def _track(
        self,
        tracker: Tracker | None,
        spec: TrackerSpec | None,
        frame_index: int,
        time_s: float,
        frame_size: tuple[int, int],
        results: Sequence[DetectorResult],
        records: list[Record],
    ) -> tuple[Track, ...]:
        if tracker is None or spec is None:
            return ()
        # A result may belong to an earlier frame (realtime): the tracker applies it there.
        observations = [(r.frame_index, r.detections) for r in results if r.detector == spec.detector]
        # The tracker keeps a track predicted out of the frame (it may come back); it is not reported.
        tracks = tracks_in_frame(tuple(tracker.update(frame_index, observations)), frame_size)
        if "tracks" in self.emit:
            records.append(
                TracksRecord(
                    frame=frame_index,
                    time=time_s,
                    tracker=spec.type,
                    detector=spec.detector,
                    tracks=tracks,
                    keypoints="keypoints" in self.emit,
                )
            )
        return tracks

    def finish(self, frame_index: int, time_s: float) -> list[Record]:
        """End of stream: end the relations still active (reason ``end_of_stream``)."""
        if self.relations is None or frame_index < 0:
            return []
        return list(self.relations.finish(frame_index, time_s))
