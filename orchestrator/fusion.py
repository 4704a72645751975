"""What fusion does with one frame: trackers, relations and the records, with no threads in sight.

The runtime hands `Fusion.step` the detector results that belong to a frame (in realtime mode,
also late ones, tagged with their own frame), in frame order. Fusion feeds the hand tracker,
the object tracker and the relation engine, and returns the records for that frame. It keeps
the latest view of the scene (tracks, active relations, how stale each detector is) for
renderers.

Example:
    >>> fusion = Fusion(config, emit={"tracks"}, fps=30.0)          # doctest: +SKIP
    >>> records = fusion.step(0, 0.0, results)                        # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from detectors.base import Detections
from orchestrator.config import PipelineConfig, TrackerSpec
from orchestrator.errors import UserError
from orchestrator.events import DetectionsRecord, Record, TracksRecord
from orchestrator.relations import RelationEngine
from trackers.base import Track, Tracker


@dataclass(frozen=True)
class DetectorResult:
    """One detector's answer on one frame."""

    detector: str
    frame_index: int
    time_s: float
    detections: Detections
    latency_ms: float


@dataclass(frozen=True)
class SceneState:
    """The scene after fusion's last step, for renderers."""

    frame_index: int = -1
    hands: tuple[Track, ...] = ()
    objects: tuple[Track, ...] = ()
    #: ``(relation name, hand track id, object track id)`` of the relations active now.
    relations: tuple[tuple[str, int, int], ...] = ()
    #: The detections of the detectors that answered on this step, by detector name.
    detections: dict[str, Detections] = field(default_factory=dict)
    #: Frames since each detector's last result.
    staleness_frames: dict[str, int] = field(default_factory=dict)


def _build(spec: TrackerSpec, where: str) -> Tracker:
    try:
        return spec.tracker_class(**spec.params)
    except (TypeError, ValueError) as exc:
        raise UserError(f"{where} ({spec.type}): {exc}") from exc


class Fusion:
    """Trackers, relations and records for one run; `step` once per frame, in order, then `finish`."""

    def __init__(self, config: PipelineConfig, emit: Iterable[str], fps: float) -> None:
        self.config = config
        self.emit = set(emit)
        self.hand_tracker = _build(config.tracker, "tracker") if config.tracker is not None else None
        self.object_tracker = (
            _build(config.object_tracker, "relations.objects.tracker") if config.object_tracker is not None else None
        )
        self.relations = RelationEngine(config.relations, fps) if config.relations is not None else None
        self._last_result_frame: dict[str, int] = {}
        self.state = SceneState()

    def step(
        self, frame_index: int, time_s: float, results: Sequence[DetectorResult], advance: bool = True
    ) -> list[Record]:
        """Records for frame ``frame_index`` given the results that arrived for it.

        ``advance=False`` only records ``results`` (realtime results that arrived after the last
        frame was fused): trackers and relations have already reported that frame.
        """
        records: list[Record] = []
        if "detections" in self.emit:
            records += [
                DetectionsRecord(frame=r.frame_index, time=r.time_s, detector=r.detector, detections=r.detections)
                for r in results
            ]
        for result in results:
            last = self._last_result_frame.get(result.detector, -1)
            self._last_result_frame[result.detector] = max(last, result.frame_index)
        if not advance:
            return records

        hands = self._track(self.hand_tracker, self.config.tracker, frame_index, time_s, results, records)
        objects = self._track(self.object_tracker, self.config.object_tracker, frame_index, time_s, results, records)
        active: tuple[tuple[str, int, int], ...] = ()
        if self.relations is not None:
            records += self.relations.update(frame_index, time_s, hands, objects)
            active = tuple(self.relations.active())
        self.state = SceneState(
            frame_index=frame_index,
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
        results: Sequence[DetectorResult],
        records: list[Record],
    ) -> tuple[Track, ...]:
        if tracker is None or spec is None:
            return ()
        # A result may belong to an earlier frame (realtime): the tracker applies it there.
        observations = [(r.frame_index, r.detections) for r in results if r.detector == spec.detector]
        tracks = tuple(tracker.update(frame_index, observations))
        if "tracks" in self.emit:
            records.append(
                TracksRecord(frame=frame_index, time=time_s, tracker=spec.type, detector=spec.detector, tracks=tracks)
            )
        return tracks

    def finish(self, frame_index: int, time_s: float) -> list[Record]:
        """End of stream: end the relations still active (reason ``end_of_stream``)."""
        if self.relations is None or frame_index < 0:
            return []
        return list(self.relations.finish(frame_index, time_s))
