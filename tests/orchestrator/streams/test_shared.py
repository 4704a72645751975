"""The shared model: one dispatcher thread, per-stream state, batching, failures and closing."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest

from detectors.detections import Detections
from detectors.detector import Detector, Provenance
from orchestrator.streams.shared import ModelClosed, SharedModel

IMAGE = np.zeros((8, 8, 3), np.uint8)


class FrameCounter(Detector):
    """Stateful: each answer's score is the number of frames this stream gave it before (tenths)."""

    labels = ("thing",)

    def __init__(self) -> None:
        self.seen = 0

    def detect(self, image: np.ndarray) -> Detections:
        self.seen += 1
        return Detections.from_lists([[0, 0, 4, 4]], [min(1.0, (self.seen - 1) / 10)], [0], ["thing"])

    def stream_state(self) -> Any:
        return self.seen

    def restore_stream_state(self, state: Any) -> None:
        self.seen = state


class Failing(Detector):
    """Raises on frame 3 (test-only)."""

    def detect(self, image: np.ndarray) -> Detections:
        return Detections.empty()

    def detect_frame(self, image: np.ndarray, frame_index: int, time_s: float) -> Detections:
        if frame_index == 3:
            raise RuntimeError("bad frame 3")
        return Detections.empty()


class Hanging(Detector):
    """Blocks until released (test-only): a plugin stuck in a call."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def detect(self, image: np.ndarray) -> Detections:
        self.release.wait(10)
        return Detections.empty()


def test_each_stream_keeps_its_own_state_in_a_stateful_plugin() -> None:
    model = SharedModel("count", FrameCounter(), streams=2)
    model.start()
    a, b = model.for_stream("a"), model.for_stream("b")
    scores = [float(d.detect_frame(IMAGE, 0, 0.0).scores[0]) for d in (a, a, b, a, b)]
    assert model.close()
    # a saw 0, 1 frames before; b starts afresh (0); a goes on (2); b goes on (1).
    assert scores == pytest.approx([0.0, 0.1, 0.0, 0.2, 0.1])


class Described(Detector):
    """Names its model, as plugins with installed model files do."""

    def detect(self, image: np.ndarray) -> Detections:
        return Detections.empty()

    def provenance(self) -> Provenance:
        return Provenance(model="@pkg/model@1.2.3", precision="fp32", runtime="litert")


def test_every_stream_names_the_shared_plugins_model_in_its_header() -> None:
    model = SharedModel("hands", Described(), streams=2)
    assert model.for_stream("a").provenance() == model.for_stream("b").provenance() == Described().provenance()


def test_a_plugin_error_reaches_only_the_stream_whose_frame_it_was() -> None:
    model = SharedModel("fail", Failing(), streams=2)
    model.start()
    with pytest.raises(RuntimeError, match="bad frame 3"):
        model.for_stream("a").detect_frame(IMAGE, 3, 0.1)
    assert len(model.for_stream("b").detect_frame(IMAGE, 4, 0.1)) == 0
    assert model.close() and model.calls == 2


def test_close_fails_waiting_callers_and_reports_a_plugin_stuck_in_a_call() -> None:
    plugin = Hanging()
    model = SharedModel("hang", plugin, streams=2)
    model.start()
    errors: list[BaseException] = []

    def call(stream: str) -> None:
        try:
            model.for_stream(stream).detect_frame(IMAGE, 0, 0.0)
        except BaseException as exc:
            errors.append(exc)

    callers = [threading.Thread(target=call, args=(name,), daemon=True) for name in ("a", "b")]
    for caller in callers:
        caller.start()
    time.sleep(0.2)  # one call inside the plugin, the other waiting behind it
    started = time.monotonic()
    assert model.close(timeout_s=0.2) is False  # still inside the plugin: left behind
    assert time.monotonic() - started < 0.5
    assert len(errors) == 1 and isinstance(errors[0], ModelClosed)
    with pytest.raises(ModelClosed):
        model.for_stream("a").detect_frame(IMAGE, 1, 0.0)
    plugin.release.set()
    for caller in callers:
        caller.join(2)
    assert not model.busy


class BadBatch(Detector):
    """A batching plugin whose detect_batch returns one result too few (test-only)."""

    max_batch = 4

    def detect(self, image: np.ndarray) -> Detections:
        time.sleep(0.05)
        return Detections.empty()

    def detect_batch(self, images: Any) -> list[Detections]:
        return [Detections.empty() for _ in images][1:]


def test_a_batch_with_the_wrong_number_of_results_fails_every_frame_in_it() -> None:
    model = SharedModel("bad", BadBatch(), streams=3)
    model.start()
    outcomes: dict[str, str] = {}

    def call(stream: str) -> None:
        try:
            model.for_stream(stream).detect_frame(IMAGE, 0, 0.0)
            outcomes[stream] = "ok"
        except TypeError as exc:
            outcomes[stream] = str(exc)

    first = threading.Thread(target=call, args=("a",))
    first.start()
    time.sleep(0.01)  # a's frame is in the plugin (alone: detect); b's and c's queue behind it
    rest = [threading.Thread(target=call, args=(name,)) for name in ("b", "c")]
    for thread in rest:
        thread.start()
    for thread in (first, *rest):
        thread.join(5)
    assert model.close()
    assert outcomes["a"] == "ok"
    assert outcomes["b"] == outcomes["c"] == "detect_batch returned 1 results for 2 frames"
