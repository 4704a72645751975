"""Behaviour of the SORT tracker: identities, prediction, life cycle, late results, parameters."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from helpers.tracker_scenarios import dets, linear_box, max_abs_error, run

from detectors.detections import Detections
from orchestrator.registry import TRACKERS
from trackers.none import NoTracker
from trackers.sort import SortTracker
from trackers.track import Track

# Two detector results on successive runs of a linearly moving box are enough to predict it exactly.
EXACT_PX = 1e-3


def test_registered_under_sort_and_none() -> None:
    assert TRACKERS.get("sort").obj is SortTracker
    assert TRACKERS.get("none").obj is NoTracker


# ----------------------------------------------------------------------------- identities
@pytest.mark.parametrize(
    ("speed", "detect_every", "reverse_order"),
    [(10.0, 1, False), (10.0, 1, True), (15.0, 1, False), (10.0, 3, False), (8.0, 3, True), (6.0, 2, False)],
)
def test_two_hands_crossing_keep_their_ids(speed: float, detect_every: int, reverse_order: bool) -> None:
    # Hand A moves right, hand B left, 20 px apart vertically, so they overlap almost fully mid-way.
    def hand_a(f: int):
        return linear_box(f, 100, 300, 100, 100, speed, 0)

    def hand_b(f: int):
        return linear_box(f, 100 + 60 * speed, 320, 100, 100, -speed, 0)

    tracker = SortTracker()
    seen: dict[str, set[int]] = {"a": set(), "b": set()}
    for f in range(61):
        boxes = [hand_b(f), hand_a(f)] if reverse_order else [hand_a(f), hand_b(f)]
        tracks = tracker.update(f, [(f, dets(*boxes))] if f % detect_every == 0 else [])
        if f < 2 * detect_every:
            continue  # confirmation needs min_hits=2 detector runs
        assert len(tracks) == 2
        for track in tracks:
            # After the two-point start every box is exact, so "nearest truth" is unambiguous.
            name = "a" if max_abs_error(track.box, hand_a(f)) < EXACT_PX else "b"
            assert max_abs_error(track.box, hand_a(f) if name == "a" else hand_b(f)) < EXACT_PX
            seen[name].add(track.track_id)
    assert seen == {"a": {1}, "b": {2}} or seen == {"a": {2}, "b": {1}}


@pytest.mark.parametrize("missed", [1, 5, 10, 20, 30])
def test_missed_hand_keeps_id_and_exact_prediction(missed: int) -> None:
    # Noise-free linear motion, including a growing box: the prediction through the gap is exact.
    def truth(f: int):
        return linear_box(f, 300, 400, 120, 160, 6, -3, 1, 0.5)

    tracker = SortTracker(max_age_frames=30)
    gap = range(10, 10 + missed)
    for f in range(10 + missed + 3):
        tracks = tracker.update(f, [(f, dets() if f in gap else dets(truth(f)))])
        if f == 0:
            assert tracks == ()
            continue
        (track,) = tracks
        assert track.track_id == 1
        assert max_abs_error(track.box, truth(f)) < EXACT_PX
        if f in gap:
            # The detector ran and missed the hand: lost, reported with its predicted box.
            assert (track.state, track.box_source, track.frames_since_observed) == ("lost", "predicted", f - 9)
        else:
            assert (track.state, track.box_source, track.frames_since_observed) == ("confirmed", "observed", 0)


@pytest.mark.parametrize(("missed", "bound_px"), [(5, 14.0), (10, 24.0), (20, 44.0)])
def test_missed_noisy_hand_prediction_error_is_bounded(missed: int, bound_px: float) -> None:
    # 120 x 160 px hand at (6, -3) px/frame, detections with 2 px noise per coordinate, missed after
    # 30 frames. Bound: 4 px + 2 px per missed frame (the velocity after 30 noisy frames is known to
    # about 1 px/frame). Seeds 0..19 are fixed, so the expectation is exact, not statistical.
    def truth(f: int):
        return linear_box(f, 300, 400, 120, 160, 6, -3)

    for seed in range(20):
        rng = np.random.default_rng(seed)
        tracker = SortTracker()
        worst = 0.0
        for f in range(30 + missed + 2):
            in_gap = 30 <= f < 30 + missed
            result = dets() if in_gap else dets(np.asarray(truth(f)) + rng.normal(0, 2.0, 4))
            tracks = tracker.update(f, [(f, result)])
            if f >= 1:
                assert [t.track_id for t in tracks] == [1]
                if in_gap:
                    worst = max(worst, max_abs_error(tracks[0].box, truth(f)))
        assert worst < bound_px, f"seed {seed}: {worst:.2f} px"


@pytest.mark.parametrize("decay", [0.0, 0.5, 0.8])
def test_lost_velocity_decay_slows_a_lost_box_down(decay: float) -> None:
    # Noise-free linear motion (growing box), detector on every frame, the hand missed on frames 10..19.
    # On the first missed frame the prediction is still exact; from then on each lost frame
    # multiplies the velocity (centre and size) by `decay`, so the box moves v * (d + d^2 + ... + d^j).
    velocity = np.array([6.0, -3.0, 1.0, 0.5])  # vcx, vcy, vw, vh

    def truth(f: int):
        return linear_box(f, 300, 400, 120, 160, *velocity)

    def centre_size(box):
        x1, y1, x2, y2 = box
        return np.array([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])

    tracker = SortTracker(max_age_frames=30, lost_velocity_decay=decay)
    gap = range(10, 20)
    for f in range(23):
        tracks = tracker.update(f, [(f, dets() if f in gap else dets(truth(f)))])
        if f == 0:
            continue
        (track,) = tracks
        assert track.track_id == 1  # the same hand before, during and after the miss
        if f in gap:
            j = f - 10
            expected = centre_size(truth(10)) + velocity * sum(decay**i for i in range(1, j + 1))
            assert np.abs(centre_size(track.box) - expected).max() < EXACT_PX
            assert track.state == "lost"
            # Never further than one more frame's motion (d = 0.5) from where the miss began.
            if decay <= 0.5:
                assert np.abs(centre_size(track.box) - centre_size(truth(10))).max() <= np.abs(velocity).max() + 1e-9
        elif f > 20:
            assert track.state == "confirmed" and max_abs_error(track.box, truth(f)) < 1.0


def test_lost_velocity_decay_leaves_frames_without_detector_linear() -> None:
    # Only lost tracks are damped: a confirmed track between detector runs keeps constant velocity.
    def truth(f: int):
        return linear_box(f, 300, 400, 120, 160, 6, -3)

    tracker = SortTracker(lost_velocity_decay=0.0)
    for f in range(13):
        tracks = tracker.update(f, [(f, dets(truth(f)))] if f % 4 == 0 else [])
        if f >= 4:
            (track,) = tracks
            assert track.state == "confirmed" and max_abs_error(track.box, truth(f)) < EXACT_PX


def test_lost_velocity_decay_late_result_equals_on_time() -> None:
    # The damping is part of the replayed state: a late result gives what it gives on time.
    def truth(f: int):
        return linear_box(f, 300, 400, 120, 160, 6, -3)

    schedule = {f: dets() if 8 <= f < 12 else dets(truth(f)) for f in range(16)}
    on_time = SortTracker(lost_velocity_decay=0.5)
    expected = {f: on_time.update(f, [(f, d)]) for f, d in schedule.items()}
    late = SortTracker(lost_velocity_decay=0.5)
    for f in range(16):
        observations = [] if f == 9 else [(f, schedule[f])]
        if f == 10:
            observations.insert(0, (9, schedule[9]))  # frame 9's result arrives one frame late
        got = late.update(f, observations)
        if f != 9:
            assert got == expected[f]


def test_lost_longer_than_max_age_gets_a_new_id() -> None:
    tracker = SortTracker(max_age_frames=5)
    box = (100, 100, 200, 200)
    out = run(tracker, [(f, [(f, dets(box))] if f < 3 or f >= 9 else []) for f in range(12)])
    assert [t.track_id for t in out[8]] == []  # removed after 5 frames without a match (frames 3..7 kept)
    assert [t.track_id for t in out[7]] == [1]
    assert out[9] == ()  # the comeback starts a new, tentative track
    assert [t.track_id for t in out[10]] == [2]


@pytest.mark.parametrize("min_hits", [2, 3, 5])
def test_spurious_single_frame_detection_never_confirmed(min_hits: int) -> None:
    hand = (100, 100, 200, 200)
    ghost = (800, 500, 900, 600)
    tracker = SortTracker(min_hits=min_hits)
    reported: set[int] = set()
    for f in range(20):
        boxes = [hand, ghost] if f == 10 else [hand]
        reported |= {t.track_id for t in tracker.update(f, [(f, dets(*boxes, score=0.99))])}
    assert reported == {1}


def test_tentative_track_waits_through_frames_without_detector() -> None:
    # A tentative track is removed when a detector run misses it, not on frames the detector skipped.
    tracker = SortTracker(min_hits=2)
    assert tracker.update(0, [(0, dets((0, 0, 50, 50)))]) == ()
    assert tracker.update(1) == ()
    assert tracker.update(2) == ()
    assert [t.track_id for t in tracker.update(3, [(3, dets((0, 0, 50, 50)))])] == [1]


def test_min_hits_one_reports_on_first_detection() -> None:
    (track,) = SortTracker(min_hits=1).update(0, [(0, dets((10, 20, 30, 40), score=0.8))])
    assert track == Track(1, (10, 20, 30, 40), 0.800000011920929, "hand", 0, "confirmed", "observed", 0, 1, 0)


# ----------------------------------------------------------------------------- prediction between detector runs
@pytest.mark.parametrize(
    ("detect_every", "velocity"),
    [(2, (5, 0, 0, 0)), (3, (4.5, -2.5, 0, 0)), (3, (-7, 3, 1, 0.5)), (5, (3, 3, -0.5, -0.5)), (3, (0, 0, 0, 0))],
)
def test_skipped_frames_follow_linear_motion_exactly(detect_every: int, velocity: tuple[float, ...]) -> None:
    vx, vy, vw, vh = velocity

    def truth(f: int):
        return linear_box(f, 500, 400, 150, 200, vx, vy, vw, vh)

    tracker = SortTracker()
    for f in range(40):
        ran = f % detect_every == 0
        tracks = tracker.update(f, [(f, dets(truth(f)))] if ran else [])
        if f < detect_every:  # warm-up: tentative until the second detector run
            assert tracks == ()
            continue
        (track,) = tracks
        assert max_abs_error(track.box, truth(f)) < EXACT_PX, f
        assert track.state == "confirmed"
        assert track.box_source == ("observed" if ran else "predicted")
        assert track.frames_since_observed == f % detect_every


def test_frame_gap_between_calls_is_predicted() -> None:
    def truth(f: int):
        return linear_box(f, 200, 200, 80, 80, 3, 1)

    tracker = SortTracker()
    tracker.update(0, [(0, dets(truth(0)))])
    tracker.update(1, [(1, dets(truth(1)))])
    (track,) = tracker.update(6)  # frames 2..5 never passed to update
    assert max_abs_error(track.box, truth(6)) < EXACT_PX
    assert (track.frames_since_observed, track.age_frames) == (5, 6)


# ----------------------------------------------------------------------------- ids
def _busy_schedule() -> list[tuple[int, list]]:
    """Hands entering, leaving for longer than max_age, coming back, plus a one-frame ghost."""
    schedule = []
    for f in range(80):
        boxes = []
        if f < 20 or f >= 45:  # hand 1 leaves for 25 frames (> max_age_frames=10): new id when back
            boxes.append(linear_box(f, 200, 300, 100, 100, 2, 0))
        if 5 <= f < 70:
            boxes.append(linear_box(f, 900, 300, 120, 120, -2, 1))
        if f == 30:
            boxes.append((1500, 800, 1600, 900))
        schedule.append((f, [(f, dets(*boxes))] if f % 2 == 0 else []))
    return schedule


def test_ids_are_deterministic_and_never_reused() -> None:
    first = run(SortTracker(max_age_frames=10), _busy_schedule())
    second = run(SortTracker(max_age_frames=10), _busy_schedule())
    assert first == second

    again = SortTracker(max_age_frames=10)
    run(again, _busy_schedule()[:30])
    again.reset()
    assert run(again, _busy_schedule()) == first  # reset starts ids at 1 again

    # Each id is reported on one contiguous run of frames and a later id never precedes an earlier one.
    frames_of: dict[int, list[int]] = {}
    for frame, tracks in first.items():
        for track in tracks:
            frames_of.setdefault(track.track_id, []).append(frame)
    for frames in frames_of.values():
        assert frames == list(range(frames[0], frames[-1] + 1))
    assert sorted(frames_of) == sorted(frames_of, key=lambda i: frames_of[i][0])
    assert sorted(frames_of) == [1, 2, 4]  # id 3 went to the ghost, which was never confirmed
    assert frames_of[4][0] == 48  # the returning hand: back at 45, born at 46, confirmed at 48


def test_ids_are_per_instance() -> None:
    a, b = SortTracker(min_hits=1), SortTracker(min_hits=1)
    a.update(0, [(0, dets((0, 0, 10, 10), (50, 50, 60, 60)))])
    assert [t.track_id for t in b.update(0, [(0, dets((0, 0, 10, 10)))])] == [1]


# ----------------------------------------------------------------------------- late results
def _two_hands(f: int):
    return dets(linear_box(f, 200, 300, 100, 100, 5, 1), linear_box(f, 900, 300, 120, 140, -4, 2))


@pytest.mark.parametrize(("late_frame", "latency"), [(6, 1), (6, 3), (9, 4), (7, 2), (12, 10)])
def test_late_result_equals_on_time_result(late_frame: int, latency: int) -> None:
    # Noisy detections every 3rd frame; one result arrives `latency` frames late. From the frame it
    # arrives on, the late tracker must report exactly what a tracker that had it on time reports.
    rng = np.random.default_rng(1)
    results = {f: _noisy(_two_hands(f), rng) for f in range(0, 40, 3)}
    results[late_frame] = _noisy(_two_hands(late_frame), rng)  # detector also ran on a frame off the stride
    on_time, late = SortTracker(), SortTracker()
    for f in range(40):
        expected = on_time.update(f, [(f, results[f])] if f in results else [])
        observations = [(f, results[f])] if f in results and f != late_frame else []
        if f == late_frame + latency:
            observations.append((late_frame, results[late_frame]))
        got = late.update(f, observations)
        if f >= late_frame + latency:
            assert got == expected, f
    assert (late.late_applied, late.late_dropped) == (1, 0)


@pytest.mark.parametrize("late_frame", [4, 5])
def test_late_result_starting_a_track_equals_on_time(late_frame: int) -> None:
    # A new hand appears at frame 4. Its first result (frame `late_frame`) arrives at frame 6, after the
    # on-time result of frame 5 (when late_frame is 4) has already started a track for it: the replay
    # must keep the id already reported rather than switch it. A third hand appears at frame 9.
    new_hand, third_hand = (1400, 600, 1500, 700), (100, 900, 200, 1000)

    def result(f: int):
        return dets(
            linear_box(f, 200, 300, 100, 100, 5, 1), *([new_hand] if f >= 4 else []), *([third_hand] if f >= 9 else [])
        )

    on_time, late = SortTracker(min_hits=1), SortTracker(min_hits=1)
    for f in range(12):
        expected = on_time.update(f, [(f, result(f))])
        observations = [(f, result(f))] if f != late_frame else []
        if f == 6:
            observations.append((late_frame, result(late_frame)))
        got = late.update(f, observations)
        if f >= 6 or f < late_frame:
            assert got == expected, f
    assert [t.track_id for t in got] == [1, 2, 3]


@pytest.mark.parametrize(("latency", "detect_every"), [(1, 1), (2, 1), (3, 3), (5, 2)])
def test_realtime_stream_matches_oracle(latency: int, detect_every: int) -> None:
    # Every result arrives `latency` frames late. At frame k the tracker must equal an oracle that
    # got, on time, exactly the results available by k (those computed on frames <= k - latency).
    rng = np.random.default_rng(2)
    results = {f: _noisy(_two_hands(f), rng) for f in range(0, 30, detect_every)}
    tracker = SortTracker()
    for k in range(30):
        arriving = [(k - latency, results[k - latency])] if k - latency in results else []
        got = tracker.update(k, arriving)
        oracle = SortTracker()
        for f in range(k + 1):
            expected = oracle.update(f, [(f, results[f])] if f in results and f <= k - latency else [])
        assert got == expected, k


def test_result_older_than_history_is_dropped() -> None:
    tracker, reference = SortTracker(max_latency_frames=3), SortTracker(max_latency_frames=3)
    for f in range(10):
        result = [(f, dets(linear_box(f, 200, 300, 100, 100, 5, 1)))] if f < 5 else []
        reference.update(f, result)
        tracker.update(f, result)
    stale = dets(linear_box(5, 200, 300, 100, 100, 5, 1))
    assert tracker.update(10, [(6, stale), (5, stale)]) == reference.update(10)  # 10 - 6 > 3: too old
    assert (tracker.late_dropped, tracker.late_applied) == (2, 0)
    assert tracker.update(11, [(8, stale)]) != reference.update(11)  # 11 - 8 == 3: applied at frame 8
    assert (tracker.late_dropped, tracker.late_applied) == (2, 1)


def test_zero_latency_drops_every_late_result_and_first_frame_bounds_history() -> None:
    tracker = SortTracker(max_latency_frames=0)
    tracker.update(5)
    tracker.update(6, [(5, dets((0, 0, 10, 10)))])
    other = SortTracker()
    other.update(5)
    other.update(6, [(4, dets((0, 0, 10, 10)))])  # before the first frame of the run
    assert (tracker.late_dropped, other.late_dropped) == (1, 1)


def _noisy(detections, rng):
    boxes = detections.boxes + rng.normal(0, 1.5, detections.boxes.shape)
    return dets(*boxes.tolist(), score=0.9)


# ----------------------------------------------------------------------------- two-pass association
@pytest.mark.parametrize(
    ("low_score", "state_while_hidden", "source_while_hidden"),
    [(0.1, "confirmed", "observed"), (0.4, "lost", "predicted")],
)
def test_low_score_second_pass_keeps_partly_hidden_hand(
    low_score: float, state_while_hidden: str, source_while_hidden: str
) -> None:
    # Frames 10..19: the hand is half behind an object: the detector still sees it, at score 0.3.
    tracker = SortTracker(low_score=low_score, high_score=0.5)
    for f in range(25):
        hidden = 10 <= f < 20
        box = linear_box(f, 300, 300, 100, 120, 4, 0)
        tracks = tracker.update(f, [(f, dets(box, score=0.3 if hidden else 0.9))])
        if f == 0:
            continue
        (track,) = tracks
        assert track.track_id == 1
        if hidden:
            assert (track.state, track.box_source) == (state_while_hidden, source_while_hidden)
            assert track.score == pytest.approx(0.3 if low_score < 0.3 else 0.9)
        else:
            assert (track.state, track.box_source) == ("confirmed", "observed")


def test_low_score_detections_never_start_tracks() -> None:
    tracker = SortTracker(min_hits=1)
    for f in range(10):
        assert tracker.update(f, [(f, dets((100, 100, 200, 200), score=0.45))]) == ()


def test_class_aware_only_matches_same_label() -> None:
    box = (100, 100, 200, 200)
    aware, blind = SortTracker(min_hits=1, class_aware=True), SortTracker(min_hits=1)
    for tracker in (aware, blind):
        tracker.update(0, [(0, dets(box, label="cup"))])
    assert [(t.track_id, t.label) for t in aware.update(1, [(1, dets(box, label="bowl"))])] == [
        (1, "cup"),
        (2, "bowl"),
    ]
    assert [(t.track_id, t.state) for t in aware.update(2)] == [(1, "lost"), (2, "confirmed")]
    assert [(t.track_id, t.label) for t in blind.update(1, [(1, dets(box, label="bowl"))])] == [(1, "bowl")]


def test_report_lost_false_hides_lost_tracks() -> None:
    tracker = SortTracker(report_lost=False)
    for f in range(3):
        tracker.update(f, [(f, dets((100, 100, 200, 200)))])
    assert tracker.update(3) != ()  # detector did not run: still confirmed, predicted
    assert tracker.update(4, [(4, dets())]) == ()  # ran and missed: lost, not reported


# ----------------------------------------------------------------------------- arguments
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_hits": 0}, "parameter min_hits: value 0 is out of range: must be >= 1"),
        ({"min_hits": 2.0}, "parameter min_hits: expected integer, got a number 2.0"),
        ({"min_hits": True}, "parameter min_hits: expected integer, got a boolean True"),
        ({"max_age_frames": 0}, "parameter max_age_frames: value 0 is out of range: must be >= 1"),
        ({"min_iou": 0.0}, "parameter min_iou: value 0.0 is out of range: must be > 0"),
        ({"min_iou": 1.5}, "parameter min_iou: value 1.5 is out of range: must be <= 1"),
        ({"high_score": -0.1}, "parameter high_score: value -0.1 is out of range: must be >= 0"),
        ({"low_score": float("nan")}, "parameter low_score: expected number, got nan, which is not finite"),
        ({"low_score": 0.6, "high_score": 0.5}, "low_score (0.6) must not exceed high_score (0.5)"),
        ({"class_aware": 1}, "parameter class_aware: expected boolean, got an integer 1"),
        ({"max_latency_frames": -1}, "parameter max_latency_frames: value -1 is out of range: must be >= 0"),
        ({"measurement_noise": 0}, "parameter measurement_noise: value 0 is out of range: must be > 0"),
        ({"acceleration_noise": "0.1"}, "parameter acceleration_noise: expected number, got a string '0.1'"),
        ({"lost_velocity_decay": 1.5}, "parameter lost_velocity_decay: value 1.5 is out of range: must be <= 1"),
        ({"lost_velocity_decay": -0.1}, "parameter lost_velocity_decay: value -0.1 is out of range: must be >= 0"),
    ],
)
def test_invalid_params_raise_value_error(params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=r"^sort tracker: ") as info:
        SortTracker(**params)
    assert message in str(info.value)


def test_unknown_param_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="max_age"):
        SortTracker(max_age=3)


@pytest.mark.parametrize("cls", [SortTracker, NoTracker])
def test_schema_matches_constructor(cls) -> None:
    schema = cls.params_schema
    assert schema["additionalProperties"] is False
    signature = inspect.signature(cls.__init__)
    defaults = {n: p.default for n, p in signature.parameters.items() if n != "self"}
    assert {n: spec["default"] for n, spec in schema["properties"].items()} == defaults
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(defaults, schema)
    cls(**defaults)


EMPTY = dets()


@pytest.mark.parametrize(
    ("frames", "observations", "error", "message"),
    [
        ((3, 3), [], ValueError, "frame_index must increase: got 3 after 3"),
        ((3, 2), [], ValueError, "frame_index must increase: got 2 after 3"),
        ((0, -1), [], ValueError, "frame_index must be an integer >= 0"),
        ((0, 1), [(2, EMPTY)], ValueError, "observation for frame 2 is from the future of frame 1"),
        ((0, 1), [(-1, EMPTY)], ValueError, "observation frame index must be an integer >= 0"),
        ((0, 1), [(1, [])], TypeError, "observation for frame 1 must be a Detections value"),
        ((0, 1), [[1, EMPTY]], TypeError, "must be a (frame_index, Detections) pair"),
    ],
)
@pytest.mark.parametrize("cls", [SortTracker, NoTracker])
def test_update_argument_errors(cls, frames, observations, error, message) -> None:
    tracker = cls()
    tracker.update(frames[0])
    with pytest.raises(error) as info:
        tracker.update(frames[1], observations)
    assert message in str(info.value)


def test_late_result_for_a_frame_that_already_had_one_is_merged() -> None:
    # Two results for frame 3 (one on time, one late, as from two detector passes): the tracker must
    # behave as if both had come on time, concatenated in arrival order.
    hand_a, hand_b = (100, 100, 200, 200), (600, 100, 700, 200)
    on_time, late = SortTracker(min_hits=1), SortTracker(min_hits=1)
    for f in range(8):
        if f == 3:
            expected = on_time.update(f, [(f, dets(hand_a)), (f, dets(hand_b))])
            got = late.update(f, [(f, dets(hand_a))])
        else:
            expected = on_time.update(f, [(f, dets(hand_a))] if f < 3 else [])
            got = late.update(f, ([(f, dets(hand_a))] if f < 3 else []) + ([(3, dets(hand_b))] if f == 5 else []))
        if f >= 5:
            assert got == expected
    assert [t.track_id for t in got] == [1, 2]


# ----------------------------------------------------------------------------- sides and keypoints
def _sided(boxes, sides, side_scores=None, keypoints=None, names=()) -> Detections:
    n = len(boxes)
    return Detections.from_lists(
        [list(b) for b in boxes], [0.9] * n, [0] * n, ["hand"] * n, sides=sides,
        side_scores=side_scores if side_scores is not None else [None if s is None else 0.9 for s in sides],
        keypoints=keypoints, keypoint_names=names,
    )  # fmt: skip


def _meet_and_return(f: int, speed: float, meet: int = 15) -> list[tuple[float, float, float, float]]:
    """The wearer's left hand (image left) and right hand move together until their boxes coincide, then back."""
    t = min(f, 2 * meet - f)
    xl, xr = 100 + speed * t, 100 + speed * (2 * meet - t)
    return [(xl, 300, xl + 120, 420), (xr, 305, xr + 120, 425)]


@pytest.mark.parametrize(("speed", "seed"), [(10, 0), (14, 1), (20, 2), (14, 3)])
def test_left_and_right_hands_meeting_keep_their_ids_thanks_to_sides(speed: float, seed: int) -> None:
    # Two noisy hands meet (boxes almost equal), then each goes back: the Kalman filter expects them to
    # cross, so on IoU alone the ids swap; with sides they cannot.
    def ids_left_to_right(with_sides: bool) -> list[tuple[int, ...]]:
        rng = np.random.default_rng(seed)
        tracker, order = SortTracker(), []
        for f in range(31):
            boxes = (np.array(_meet_and_return(f, speed)) + rng.normal(0, 4, (2, 4))).tolist()
            observed = _sided(boxes, ["left", "right"]) if with_sides else dets(*boxes)
            tracks = tracker.update(f, [(f, observed)])
            assert len(tracks) == (2 if f >= 1 else 0)
            left, right = _meet_and_return(f, speed)
            if f >= 1 and right[0] - left[0] > 60:  # confirmed, and apart enough to tell the hands apart
                order.append(tuple(t.track_id for t in sorted(tracks, key=lambda t: t.box[0])))
            if with_sides and tracks:
                assert {t.track_id: t.side for t in tracks} == {1: "left", 2: "right"}
        return order

    assert ids_left_to_right(False)[-1] == (2, 1)  # the scenario does swap ids on IoU alone
    assert set(ids_left_to_right(True)) == {(1, 2)}


def test_track_side_is_the_score_weighted_vote_when_per_frame_sides_flip() -> None:
    rng = np.random.default_rng(5)
    tracker = SortTracker()
    flips = 0
    for f in range(60):
        box = linear_box(f, 300, 300, 100, 120, 3, 1)
        wrong = f == 0 or rng.random() < 0.2  # the very first frame misread too: the vote must recover
        flips += wrong
        side, score = ("right", rng.uniform(0.5, 0.7)) if wrong else ("left", rng.uniform(0.7, 0.95))
        tracks = tracker.update(f, [(f, _sided([box], [side], [score]))])
        if f >= 2:
            (track,) = tracks
            assert (track.track_id, track.side) == (1, "left"), f
            assert 0.5 < track.side_score <= 1.0
    assert flips >= 8


def test_vote_arithmetic_and_side_score() -> None:
    tracker = SortTracker(min_hits=1)
    for f, (side, score) in enumerate([("left", 0.9), ("right", 0.6), (None, None), ("left", 0.8)]):
        (track,) = tracker.update(f, [(f, _sided([linear_box(f, 200, 200, 80, 80, 2, 0)], [side], [score]))])
    assert track.side == "left" and track.side_score == pytest.approx(1.7 / 2.3)
    (track,) = SortTracker(min_hits=1).update(0, [(0, dets((0, 0, 50, 50)))])
    assert (track.side, track.side_score) == (None, None)


def test_misread_side_overlapping_a_settled_track_starts_no_second_track() -> None:
    tracker = SortTracker()
    for f in range(6):
        tracker.update(f, [(f, _sided([linear_box(f, 200, 200, 80, 80, 2, 0)], ["left"]))])
    tracks = tracker.update(6, [(6, _sided([linear_box(6, 200, 200, 80, 80, 2, 0)], ["right"]))])
    ((track,), after) = tracks, tracker.update(7, [(7, _sided([linear_box(7, 200, 200, 80, 80, 2, 0)], ["left"]))])
    assert (track.track_id, track.side, str(track.box_source)) == (1, "left", "predicted")  # barred, not swapped
    assert [(t.track_id, str(t.box_source)) for t in after] == [(1, "observed")]


def test_unknown_sides_match_as_before() -> None:
    tracker = SortTracker(min_hits=1)
    for f in range(4):
        tracker.update(f, [(f, _sided([linear_box(f, 200, 200, 80, 80, 2, 0)], ["left"]))])
    (track,) = tracker.update(4, [(4, _sided([linear_box(4, 200, 200, 80, 80, 2, 0)], [None]))])
    assert (track.track_id, str(track.box_source), track.side) == (1, "observed", "left")


def _hand_keypoints(box) -> list[list[float]]:
    x1, y1, x2, y2 = box
    return [[x1 + 0.25 * (x2 - x1), y1 + 0.5 * (y2 - y1), -4.0], [x2, y2, 2.0]]


@pytest.mark.parametrize("velocity", [(5, 0, 0, 0), (3, -2, 2, 1)])
def test_predicted_keypoints_move_and_scale_with_the_box(velocity) -> None:
    tracker = SortTracker()
    names = ("palm", "tip")
    for f in range(0, 5):
        box = linear_box(f, 300, 300, 100, 120, *velocity)
        observed = _sided([box], ["right"], keypoints=[_hand_keypoints(box)], names=names)
        tracks = tracker.update(f, [(f, observed)] if f < 2 else [])
        if f == 1:
            (track,) = tracks
            assert str(track.keypoints_source) == "observed" and track.keypoint_names == names
            assert np.allclose(track.keypoints, _hand_keypoints(box), atol=1e-3)
        if f >= 2:  # predicted: exact boxes (linear motion), so keypoints keep their place within the box
            (track,) = tracks
            assert str(track.keypoints_source) == "predicted" and str(track.box_source) == "predicted"
            assert np.allclose(track.keypoints, _hand_keypoints(track.box), atol=1e-3)
            assert np.allclose(track.box, box, atol=1e-3)


def test_late_result_with_sides_and_keypoints_equals_on_time_result() -> None:
    # The vote and the keypoints are part of the snapshotted state: a rollback replays them.
    rng = np.random.default_rng(3)

    def result(f: int) -> Detections:
        boxes = _noisy(_two_hands(f), rng).boxes.tolist()
        sides = ["left", "right"] if f % 8 else ["right", "left"]  # every 4th result misread
        return _sided(boxes, sides, keypoints=[_hand_keypoints(b) for b in boxes], names=("palm", "tip"))

    results = {f: result(f) for f in range(0, 40, 2)}
    on_time, late = SortTracker(), SortTracker()
    late_frame, latency = 10, 3
    for f in range(40):
        expected = on_time.update(f, [(f, results[f])] if f in results else [])
        observations = [(f, results[f])] if f in results and f != late_frame else []
        if f == late_frame + latency:
            observations.append((late_frame, results[late_frame]))
        got = late.update(f, observations)
        if f >= late_frame + latency:
            assert got == expected, f
    assert late.late_applied == 1 and expected and all(t.side is not None for t in expected)


# ----------------------------------------------------------------------------- label votes (objects)
CLASS_IDS = {"bottle": 39, "cup": 41}
CUP_SCORES = [0.10, 0.13, 0.16, 0.19, 0.22, 0.25, 0.28, 0.30]  # frames 5-12


def _labelled(box, label: str, score: float) -> Detections:
    return Detections.from_lists([list(box)], [score], [CLASS_IDS[label]], [label])


def _bottle_then_cup(f: int) -> Detections:
    # A paper cup seen as "bottle 0.17" on frames 0-4, then as "cup" at 0.10-0.30 (CenterNet on egodex).
    box = linear_box(f, 400, 300, 120, 160, 1, 0)
    return _labelled(box, "bottle", 0.17) if f < 5 else _labelled(box, "cup", CUP_SCORES[f - 5])


OBJECT_PARAMS = {"min_hits": 1, "min_iou": 0.1, "high_score": 0.08, "low_score": 0.05}


def test_label_vote_keeps_one_track_labelled_by_the_weighted_majority() -> None:
    tracker = SortTracker(label_vote=True, **OBJECT_PARAMS)
    f32 = [float(np.float32(s)) for s in [0.17] * 5 + CUP_SCORES]  # scores are float32 in Detections
    bottle = cup = 0.0
    switched = None
    for f in range(13):
        (track,) = tracker.update(f, [(f, _bottle_then_cup(f))])
        if f < 5:
            bottle += f32[f]
        else:
            cup += f32[f]
        label = "cup" if cup > bottle else "bottle"
        switched = f if switched is None and label == "cup" else switched
        # Exact arithmetic: sums in the order of the detections, share = winner / (bottle + cup).
        expected_share = (cup if label == "cup" else bottle) / (bottle + cup)
        assert (track.track_id, track.label, track.class_id) == (1, label, CLASS_IDS[label]), f
        assert track.label_share == expected_share, f
        assert track.to_record()["label_share"] == round(expected_share, 4)
    # 5 x 0.17 = 0.85 for "bottle"; "cup" sums 0.10 + 0.13 + 0.16 + 0.19 + 0.22 = 0.80 on frame 9,
    # 1.05 on frame 10: the label switches there, not on the first "cup" frame.
    assert switched == 10 and track.label_share == pytest.approx(1.63 / 2.48)  # cup 1.63 of 0.85 + 1.63


def test_class_aware_keeps_two_tracks_and_no_vote_keeps_the_last_label() -> None:
    aware = SortTracker(class_aware=True, **OBJECT_PARAMS)
    blind = SortTracker(**OBJECT_PARAMS)  # label-agnostic without the vote: one track, the last label
    for f in range(13):
        got_aware = aware.update(f, [(f, _bottle_then_cup(f))])
        got_blind = blind.update(f, [(f, _bottle_then_cup(f))])
        (track,) = got_blind
        assert (track.track_id, track.label, track.label_share) == (1, "bottle" if f < 5 else "cup", None)
        assert "label_share" not in track.to_record()
    assert [(t.track_id, t.label, t.label_share, str(t.state)) for t in got_aware] == [
        (1, "bottle", None, "lost"),
        (2, "cup", None, "confirmed"),
    ]


@pytest.mark.parametrize(
    ("duplicate_overlap", "second_box", "tracks"),
    [
        (0.0, (390, 250, 530, 470), 2),  # off: a second box on the object starts a second track
        (0.8, (390, 250, 530, 470), 1),  # the object wholly inside it: a duplicate
        (0.8, (410, 250, 550, 470), 1),  # 110 of 120 px of the object's width inside: 0.92 >= 0.8
        (0.8, (440, 250, 580, 470), 2),  # 80 of 120 px: 0.67 < 0.8, another object
        (0.5, (440, 250, 580, 470), 1),
    ],
)
def test_duplicate_overlap_starts_no_track_on_a_second_box_of_a_tracked_object(
    duplicate_overlap: float, second_box: tuple, tracks: int
) -> None:
    # CenterNet gives an object (400..520 x 300..460) a second, larger box with the hand on it (egodex USB hub).
    tracker = SortTracker(label_vote=True, duplicate_overlap=duplicate_overlap, **OBJECT_PARAMS)
    tracker.update(0, [(0, _labelled((400, 300, 520, 460), "bottle", 0.3))])
    both = Detections.concat([_labelled((400, 300, 520, 460), "bottle", 0.3), _labelled(second_box, "cup", 0.2)])
    got = tracker.update(1, [(1, both)])
    assert len(got) == tracks
    assert got[0].track_id == 1 and got[0].box == pytest.approx((400, 300, 520, 460), abs=1.0)


def test_label_vote_tie_keeps_the_earlier_label_and_all_labels_vote() -> None:
    tracker = SortTracker(label_vote=True, min_hits=1)
    box = (100, 100, 200, 200)
    (track,) = tracker.update(0, [(0, _labelled(box, "bottle", 0.5))])
    assert (track.label, track.label_share) == ("bottle", 1.0)
    (track,) = tracker.update(1, [(1, _labelled(box, "cup", 0.5))])
    assert (track.label, track.class_id, track.label_share) == ("bottle", 39, 0.5)  # a tie does not flip
    (track,) = tracker.update(2, [(2, _labelled(box, "cup", 0.25))])
    assert (track.label, track.class_id, track.label_share) == ("cup", 41, 0.6)
    (track,) = tracker.update(3)  # no detector run: the vote stands
    assert (track.label, track.label_share, str(track.box_source)) == ("cup", 0.6, "predicted")


def test_vote_arithmetic() -> None:
    from trackers.sort import _Vote

    vote = _Vote().add("a", 0.5).add("b", 0.25).add("c", 0.125).add("b", 0.5)
    assert vote.weights == (("a", 0.5), ("b", 0.75), ("c", 0.125))
    assert vote.winner() == ("b", 0.75 / 1.375) and vote.leader() == vote.winner() and vote.lead() == 0.25
    tie = _Vote().add("a", 0.5).add("b", 0.5)
    assert (tie.winner(), tie.leader(), tie.lead()) == ((None, None), ("a", 0.5), 0.0)
    assert (_Vote().winner(), _Vote().leader(), _Vote().lead()) == ((None, None), (None, None), 0.0)
    zero = _Vote().add("a", 0.0)
    assert (zero.winner(), zero.leader()) == ((None, None), ("a", 1.0))  # no weight: like the side vote, no winner


def test_hand_tracks_have_no_label_share() -> None:
    tracker = SortTracker(min_hits=1)
    (track,) = tracker.update(0, [(0, dets((0, 0, 50, 50)))])
    assert track.label_share is None and "label_share" not in track.to_record()


def test_late_result_with_label_votes_equals_on_time_result() -> None:
    # The label vote is part of the snapshotted state: a rollback replays it.
    rng = np.random.default_rng(11)

    def result(f: int) -> Detections:
        boxes = _noisy(_two_hands(f), rng).boxes.tolist()
        labels = [str(rng.choice(["cup", "bottle"])) for _ in boxes]
        scores = rng.uniform(0.1, 0.4, len(boxes)).tolist()
        return Detections.from_lists(boxes, scores, [CLASS_IDS[label] for label in labels], labels)

    results = {f: result(f) for f in range(0, 40, 2)}
    for late_frame, latency in [(10, 3), (4, 1), (20, 8)]:
        on_time, late = (SortTracker(label_vote=True, **OBJECT_PARAMS) for _ in range(2))
        for f in range(40):
            expected = on_time.update(f, [(f, results[f])] if f in results else [])
            observations = [(f, results[f])] if f in results and f != late_frame else []
            if f == late_frame + latency:
                observations.append((late_frame, results[late_frame]))
            got = late.update(f, observations)
            if f >= late_frame + latency:
                assert got == expected, (late_frame, f)
        assert late.late_applied == 1 and len(expected) == 2
        assert all(t.label_share is not None and t.label_share < 1.0 for t in expected)
