"""MediaPipe Hands on the real models against MediaPipe 0.10.21's own output on the EgoDex clips.

The reference CSVs (``../shared/data/egodex/<clip>_mediapipe.csv``) hold ``mediapipe==0.10.21``
``solutions.hands`` output (full models, 2 hands, video mode): ``frame, hand, label, score`` and
``x0, y0, z0 … x20, y20, z20`` with x, y in pixels; frames without hands have no rows. ``label`` is
MediaPipe's mirrored handedness, so on this unmirrored video the wearer's side is the other one.

``../shared`` is looked up beside the repository root; the tests skip, naming the missing path, when it
(or a file in it) is absent. The model files come from the npm tarball there (`mediapipe_models`).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import shared_path

from detectors.mediapipe import MediaPipeHands, PalmDetector, landmarks_for_boxes
from detectors.mediapipe.crops import NormRect
from detectors.mediapipe.hands import model_files
from detectors.mediapipe.landmarks import HandLandmarker

pytestmark = pytest.mark.real_model

EGODEX = "data/egodex"

@pytest.fixture(scope="module")
def mediapipe_models(real_model_cache: Path) -> Path:
    """The folder holding ``palm_detection_{full,lite}.tflite`` and ``hand_landmark_{full,lite}.tflite``.

    Installed by the model store from the npm tarball in ``../shared`` (each file checked against
    its pinned sha256 there, the palm detectors cut out at their byte ranges).
    """
    from orchestrator.modelstore import ModelStore

    files = ModelStore(real_model_cache).installed("hands.mediapipe").model_files()
    folder = files.path_of("palm_detection_full").parent
    assert {p.name for p in folder.glob("*.tflite")} >= {f"{role}.tflite" for role in files.roles}
    return folder


CLIPS = ["add_remove_lid_0", "basic_pick_and_place_0", "insert_remove_2"]
WEARER_SIDE = {"Left": "right", "Right": "left"}


def load_reference(path: Path) -> dict[int, list[tuple[str, np.ndarray]]]:
    """``{frame: [(label, keypoints (21, 3)), ...]}`` from a reference CSV."""
    frames: dict[int, list[tuple[str, np.ndarray]]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            points = np.array([[float(row[f"{axis}{i}"]) for axis in "xyz"] for i in range(21)])
            frames.setdefault(int(row["frame"]), []).append((row["label"], points))
    return frames


def read_rgb_frames(path: Path) -> Iterator[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), f"cannot open {path}"
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                return
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()


def extent(points: np.ndarray) -> np.ndarray:
    return np.array([points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()])


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def greedy_pairs(ref_boxes: list[np.ndarray], our_boxes: list[np.ndarray]) -> list[tuple[int, int, float]]:
    """Pairs ``(ref index, our index, IoU)`` matched greedily by IoU, best first."""
    scored = sorted(
        ((box_iou(r, o), i, j) for i, r in enumerate(ref_boxes) for j, o in enumerate(our_boxes)), reverse=True
    )
    used_ref, used_ours, pairs = set(), set(), []
    for iou, i, j in scored:
        if iou > 0 and i not in used_ref and j not in used_ours:
            used_ref.add(i)
            used_ours.add(j)
            pairs.append((i, j, iou))
    return pairs


@pytest.mark.parametrize("clip", CLIPS)
def test_tracking_reproduces_mediapipe(clip: str, mediapipe_models: Path) -> None:
    reference = load_reference(shared_path(f"{EGODEX}/{clip}_mediapipe.csv"))
    video = shared_path(f"{EGODEX}/{clip}.mp4")
    hands = MediaPipeHands.from_folder(mediapipe_models, "full", max_hands=2, mirrored=False, num_threads=2)
    frames = same = 0
    ious: list[float] = []
    errors: list[np.ndarray] = []
    sides: list[bool] = []
    for index, rgb in enumerate(read_rgb_frames(video)):
        results = hands.process(rgb)
        expected = reference.get(index, [])
        frames += 1
        same += len(results) == len(expected)
        for i, j, iou in greedy_pairs([extent(p) for _, p in expected], [np.array(r.box) for r in results]):
            label, points = expected[i]
            ious.append(iou)
            errors.append(np.linalg.norm(points[:, :2] - results[j].keypoints[:, :2], axis=1))
            sides.append(results[j].side == WEARER_SIDE[label])
        for result in results:
            assert result.keypoints.shape == (21, 3) and result.keypoints.dtype == np.float32
            assert result.box == pytest.approx(tuple(extent(result.keypoints)))
            assert 0.5 < result.score <= 1.0 and 0.5 <= result.side_score <= 1.0
    assert frames > max(reference)
    same_fraction, mean_iou = same / frames, float(np.mean(ious))
    median_error = float(np.median(np.concatenate(errors)))
    side_fraction = float(np.mean(sides))
    summary = (
        f"{clip}: same count {same_fraction:.3f}, IoU {mean_iou:.3f}, "
        f"error {median_error:.2f}px, sides {side_fraction:.3f}"
    )
    assert same_fraction >= 0.98, summary
    assert mean_iou >= 0.93, summary
    assert median_error <= 4.0, summary
    # MediaPipe's own label flips on ambiguous hands (basic_pick_and_place_0): most, not all, agree
    assert side_fraction >= 0.85, summary


def test_reset_restarts_from_the_palm_detector(mediapipe_models: Path) -> None:
    hands = MediaPipeHands(*model_files(mediapipe_models, "full"), max_hands=1)
    frames = read_rgb_frames(shared_path(f"{EGODEX}/insert_remove_2.mp4"))
    first, second = next(frames), next(frames)
    assert len(hands.process(first)) == 1 and hands.palm_runs == 1
    assert len(hands.process(second)) == 1 and hands.palm_runs == 1  # one hand tracked: no palm detector
    hands.reset()
    assert hands.tracked_rects == []
    results = hands.process(second)
    assert len(results) == 1 and hands.palm_runs == 2
    tracked = hands.tracked_rects
    [again] = hands.landmarks_for_boxes(second, [results[0].box])  # stateless second stage
    assert again is not None and again.side == results[0].side
    assert np.median(np.linalg.norm(again.keypoints[:, :2] - results[0].keypoints[:, :2], axis=1)) < 6
    assert hands.tracked_rects == tracked


def test_palm_interval_runs_the_palm_detector_less_while_a_hand_is_tracked(mediapipe_models: Path) -> None:
    # basic_pick_and_place_0 mostly shows one hand: with max_hands 2, MediaPipe runs the palm
    # detector on every such frame; with an interval of 3, on one frame in three.
    frames = list(itertools.islice(read_rgb_frames(shared_path(f"{EGODEX}/basic_pick_and_place_0.mp4")), 30))
    runs = {}
    for interval in (1, 3):
        hands = MediaPipeHands(*model_files(mediapipe_models, "full"), palm_interval_frames=interval)
        counts = [len(hands.process(frame)) for frame in frames]
        assert counts[0] >= 1  # nothing tracked yet: the palm detector ran on the first frame
        runs[interval] = hands.palm_runs
    assert runs[1] >= 25 and runs[3] <= runs[1] // 2


@pytest.mark.parametrize(
    ("still_motion", "min_skipped"),
    [(0.0, 0.0), (0.2, 0.4)],  # 0: no hand is ever still enough; 0.2 ROI sizes a frame: most tracked frames skip
)
def test_landmark_interval_skips_the_model_for_still_hands(
    mediapipe_models: Path, still_motion: float, min_skipped: float
) -> None:
    frames = list(itertools.islice(read_rgb_frames(shared_path(f"{EGODEX}/insert_remove_2.mp4")), 40))
    every = MediaPipeHands(*model_files(mediapipe_models, "full"))
    fast = MediaPipeHands(*model_files(mediapipe_models, "full"), landmark_interval_frames=2, still_motion=still_motion)
    previous: list = []
    for frame in frames:
        skips_before = fast.landmark_skips
        reference, results = every.process(frame), fast.process(frame)
        assert len(results) == len(reference)  # the same hands on every frame
        for hand, ref in zip(results, reference, strict=True):
            assert hand.side == ref.side
            # Carried on at its last speed, a skipped hand stays on the hand the model finds.
            assert np.median(np.linalg.norm(hand.keypoints[:, :2] - ref.keypoints[:, :2], axis=1)) < 25
        if fast.landmark_skips > skips_before:  # some hand was carried: some hand moved rigidly
            shifts = [
                hand.keypoints[:, :2] - before.keypoints[:, :2]
                for hand, before in itertools.product(results, previous)
            ]
            assert any(np.allclose(shift, shift[0], atol=1e-3) for shift in shifts)
        previous = results
    total = fast.landmark_runs + fast.landmark_skips
    assert total >= len(frames)  # at least one hand on every frame of this clip
    assert fast.landmark_skips / total >= min_skipped
    assert fast.landmark_skips <= fast.landmark_runs  # n = 2: a hand never skips twice in a row
    if still_motion == 0.0:
        assert fast.landmark_skips == 0


def test_palm_detector_finds_the_wrist(mediapipe_models: Path) -> None:
    reference = load_reference(shared_path(f"{EGODEX}/insert_remove_2_mediapipe.csv"))
    rgb = next(read_rgb_frames(shared_path(f"{EGODEX}/insert_remove_2.mp4")))
    palms = PalmDetector(mediapipe_models / "palm_detection_full.tflite").detect(rgb)
    assert palms and all(0.5 <= p.score <= 1 for p in palms)
    assert [p.score for p in palms] == sorted((p.score for p in palms), reverse=True)
    height, width = rgb.shape[:2]
    for _, points in reference[0]:
        wrist = points[0, :2]
        distances = [np.linalg.norm(p.keypoints[0] * (width, height) - wrist) for p in palms]
        best = palms[int(np.argmin(distances))]
        assert min(distances) < 0.5 * best.box[2] * width  # within half a palm of MediaPipe's wrist


def test_landmarks_for_boxes_as_second_stage(mediapipe_models: Path) -> None:
    reference = load_reference(shared_path(f"{EGODEX}/insert_remove_2_mediapipe.csv"))
    landmarker = HandLandmarker(mediapipe_models / "hand_landmark_full.tflite")
    errors, found, asked = [], 0, 0
    for index, rgb in enumerate(read_rgb_frames(shared_path(f"{EGODEX}/insert_remove_2.mp4"))):
        if index % 10 or index not in reference:
            continue
        boxes = [extent(points) for _, points in reference[index]]
        results = landmarks_for_boxes(landmarker, rgb, boxes)
        assert len(results) == len(boxes)
        for (_, points), result in zip(reference[index], results, strict=True):
            asked += 1
            if result is not None:
                found += 1
                errors.append(np.median(np.linalg.norm(points[:, :2] - result.keypoints[:, :2], axis=1)))
    assert found == asked and asked >= 20
    assert float(np.median(errors)) <= 6.0
    grey = np.full((480, 640, 3), 128, np.uint8)
    assert landmarks_for_boxes(landmarker, grey, [(200, 150, 300, 250)]) == [None]


def test_lite_models_track_hands(mediapipe_models: Path) -> None:
    reference = load_reference(shared_path(f"{EGODEX}/insert_remove_2_mediapipe.csv"))
    hands = MediaPipeHands.from_folder(mediapipe_models, "lite")
    ious, frames_with_hands, frames_found = [], 0, 0
    for index, rgb in enumerate(read_rgb_frames(shared_path(f"{EGODEX}/insert_remove_2.mp4"))):
        if index >= 60:
            break
        results = hands.process(rgb)
        expected = reference.get(index, [])
        frames_with_hands += bool(expected)
        frames_found += bool(expected) and bool(results)
        pairs = greedy_pairs([extent(p) for _, p in expected], [np.array(r.box) for r in results])
        ious.extend(iou for _, _, iou in pairs)
    assert frames_found >= 0.9 * frames_with_hands
    assert float(np.mean(ious)) >= 0.8


def test_batched_landmarks_equal_single_runs(mediapipe_models: Path) -> None:
    rgb = next(read_rgb_frames(shared_path(f"{EGODEX}/insert_remove_2.mp4")))
    landmarker = HandLandmarker(mediapipe_models / "hand_landmark_full.tflite")
    rects = [NormRect(0.3, 0.6, 0.15, 0.27, 0.3), NormRect(0.7, 0.6, 0.15, 0.27, -0.2), NormRect(0.5, 0.5, 0.1, 0.18)]
    batched = landmarker.run_many(rgb, rects)
    assert landmarker.run_many(rgb, []) == []
    for rect, output in zip(rects, batched, strict=True):
        single = landmarker.run(rgb, rect)
        assert output.rect == rect
        assert np.allclose(output.landmarks, single.landmarks, atol=1e-6)
        assert output.presence == pytest.approx(single.presence, abs=1e-6)
        assert output.left_score == pytest.approx(single.left_score, abs=1e-6)
