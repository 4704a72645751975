"""The detector plugin interface.

A detector turns one RGB frame into `Detections` (boxes in pixels of that frame). Plugins are
plain subclasses: the application finds them by name (its built-in table, entry points, or a
dotted path ``package.module:ClassName``); a plugin never imports the application.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from detectors.detections import Detections


@dataclass(frozen=True)
class Provenance:
    """What a loaded detector runs: its model package, precision and runtime (None: not applicable).

    Attributes:
        model: ``package@version`` of the package its model files came from (for example
            ``handtrackjs@0.0.13``), or None for a detector without installed model files.
        precision: the numeric precision it runs at (``fp32``, ``fp16``, ``int8``), once resolved
            by `Detector.load` (``auto`` becomes what was chosen), or None.
        runtime: the inference runtime (``litert``, ``tf``), or None.

    Example:
        >>> Provenance("handtrackjs@0.0.13", "int8", "litert").to_json()
        {'model': 'handtrackjs@0.0.13', 'precision': 'int8', 'runtime': 'litert'}
        >>> Provenance().to_json()
        {'model': None, 'precision': None, 'runtime': None}
    """

    model: str | None = None
    precision: str | None = None
    runtime: str | None = None

    def to_json(self) -> dict[str, str | None]:
        """The three fields as a JSON-ready dict, in a fixed order."""
        return {"model": self.model, "precision": self.precision, "runtime": self.runtime}


class Detector(abc.ABC):
    """A detector plugin.

    A plugin subclasses `Detector` and declares its labels, input size and a JSON Schema for its
    parameters; a pipeline names it by dotted path (``my_package.detectors:MyDetector``) or by
    the name of an ``orchestrator.detectors`` entry point that points at it::

        from detectors import Detections, Detector

        class MyDetector(Detector):
            labels = ("hand",)
            input_size = (320, 240)
            params_schema = {"type": "object", "properties": {"score_threshold": {"type": "number"}},
                             "additionalProperties": False}

            def __init__(self, score_threshold: float = 0.5) -> None:
                self.score_threshold = score_threshold

            def detect(self, image):
                return Detections.empty()

    Life cycle: ``__init__(**params)`` (cheap, validated) → `load` (heavy: weights) →
    `detect` / `detect_batch` on ``uint8`` ``(H, W, 3)`` frames (RGB unless `channel_order` says
    ``"bgr"``) → `close`.
    The runtime calls `detect_frame`, which adds the frame index and source time; only
    detectors that need them (such as the scripted test detector) override it.
    """

    #: Class names this detector can output, indexed by class id.
    labels: ClassVar[tuple[str, ...]] = ()
    #: The model's input size ``(width, height)``; ``None`` if it takes any size.
    input_size: ClassVar[tuple[int, int] | None] = None
    #: JSON Schema of the keyword parameters accepted by ``__init__``.
    params_schema: ClassVar[Mapping[str, Any]] = {"type": "object", "additionalProperties": False}
    #: Names of parameters that are file paths: resolved against the pipeline file and checked.
    path_params: ClassVar[tuple[str, ...]] = ()
    #: True for a second stage: a detector that runs on another detector's result for the same frame
    #: (`detect_on`), declared in a pipeline with ``input: <that detector>``.
    takes_input: ClassVar[bool] = False
    #: Channel order of the ``uint8 (H, W, 3)`` images `detect`, `detect_frame` and `detect_on` take:
    #: ``"rgb"`` (the default) or ``"bgr"`` (OpenCV's decode order). A detector that shrinks or crops
    #: the frame first declares ``"bgr"`` and converts only its small input, which spares the
    #: application a full-frame conversion; the application hands every image in this order.
    channel_order: ClassVar[str] = "rgb"
    #: The most frames `detect_batch` takes in one model call. 1 (the default): `detect_batch` loops
    #: over `detect`. A plugin whose model accepts a batch dimension > 1 sets it higher and overrides
    #: `detect_batch`; the application then batches frames of several streams into one call (such a
    #: plugin keeps no state between frames and does not need `detect_frame`'s index).
    max_batch: ClassVar[int] = 1

    def load(self) -> None:  # noqa: B027 - optional hook, most test plugins need nothing
        """Load weights and allocate runtimes. Called once, before the first frame."""

    @abc.abstractmethod
    def detect(self, image: np.ndarray) -> Detections:
        """Detect on one ``uint8`` frame of shape ``(H, W, 3)`` in `channel_order` (RGB by default)."""

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Detect on several frames (at most `max_batch`), one `Detections` each, in order.

        The default runs `detect` on each in turn.
        """
        return [self.detect(image) for image in images]

    def stream_state(self) -> Any:
        """What this detector carries from one frame to the next of a stream (None: nothing).

        A stateful plugin (one that tracks inside, like MediaPipe's video mode) returns a value
        that `restore_stream_state` takes back; it must not change when the detector runs on.
        The application uses it to serve several streams from one loaded model: before a frame
        of another stream it saves this stream's state and restores that stream's.
        """
        return None

    def restore_stream_state(self, state: Any) -> None:  # noqa: B027 - optional hook, stateless plugins need nothing
        """Take back a state `stream_state` returned (on this instance, after `load`)."""

    def detect_on(self, image: np.ndarray, detections: Detections) -> Detections:
        """A second stage's work: refine ``detections`` (another detector's, on this very frame).

        Only called on plugins with ``takes_input = True``; the image is the same ``uint8``
        ``(H, W, 3)`` frame the input detector saw, and boxes are in its pixels.
        """
        raise NotImplementedError(f"{type(self).__name__} is not a second stage (takes_input is False)")

    def detect_frame(self, image: np.ndarray, frame_index: int, time_s: float) -> Detections:
        """What the runtime calls: `detect` plus the frame's index and source time."""
        return self.detect(image)

    def provenance(self) -> Provenance:
        """What this detector runs (model package, precision, runtime), for the events stream's header.

        Called after `load`. The default says nothing (all None); plugins with installed model files
        override it.
        """
        return Provenance()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what `load` allocated. Safe to call twice."""

    def __enter__(self) -> Detector:
        self.load()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
