"""Unit tests of the MediaPipe Hands geometry: anchors, letterbox, rotated crops, ROIs, decoding, association."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors.mediapipe import MediaPipeError, MediaPipeHands
from detectors.mediapipe.anchors import palm_anchors, ssd_anchor_centers
from detectors.mediapipe.crops import (
    NormRect,
    PixelRect,
    box_roi,
    crop_matrix,
    landmarks_rect,
    landmarks_roi,
    map_points,
    pad_to_aspect,
    palm_roi,
    project_to_image,
    rect_iou,
    remove_padding,
    rotation_from_points,
    to_pixels,
    transform_rect,
    warp_crop,
)
from detectors.mediapipe.hands import associate_rects, hand_result, model_files
from detectors.mediapipe.landmarks import HandLandmarker, LandmarkOutput
from detectors.mediapipe.palm import check_rgb, decode_palms, letterbox, weighted_nms


# --------------------------------------------------------------------------- anchors
def test_palm_anchors_layout() -> None:
    anchors = palm_anchors()
    assert anchors.shape == (2016, 2) and anchors.dtype == np.float32
    fine, coarse = anchors[:1152], anchors[1152:]  # 24×24×2 (stride 8), then 12×12×6 (stride 16)
    fine_cells = fine.reshape(24, 24, 2, 2)
    assert np.array_equal(fine_cells[:, :, 0], fine_cells[:, :, 1])  # 2 anchors per cell, same centre
    assert np.allclose(fine_cells[0, :, 0, 0], (np.arange(24) + 0.5) / 24)  # x varies along a row
    assert np.allclose(fine_cells[:, 0, 0, 1], (np.arange(24) + 0.5) / 24)  # y varies down the rows
    coarse_cells = coarse.reshape(12, 12, 6, 2)
    assert np.all(coarse_cells == coarse_cells[:, :, :1])
    assert np.allclose(coarse_cells[3, 7, 0], [(7 + 0.5) / 12, (3 + 0.5) / 12])


def test_anchor_options() -> None:
    assert len(ssd_anchor_centers(128, 128, (8, 16, 16, 16))) == 16 * 16 * 2 + 8 * 8 * 6  # face-detector layout
    assert len(ssd_anchor_centers(100, 60, (16,), anchors_per_layer=1)) == 7 * 4  # ceil of 100/16 and 60/16
    with pytest.raises(MediaPipeError):
        ssd_anchor_centers(192, 192, ())


# --------------------------------------------------------------------------- letterbox
def test_letterbox_pads_black_and_keeps_the_frame() -> None:
    frame = np.empty((1080, 1920, 3), np.uint8)
    frame[:] = (10, 200, 30)
    image, padding = letterbox(frame)
    assert image.shape == (192, 192, 3) and image.dtype == np.uint8
    assert padding == (0.0, 0.21875, 0.0, 0.21875)  # (1 - 1080/1920) / 2
    assert not image[:42].any() and not image[150:].any()  # 42 = 0.21875 · 192 black rows each side
    assert np.all(image[42:150] == (10, 200, 30))


def test_letterbox_mapping_of_a_pixel() -> None:
    frame = np.zeros((1080, 1920, 3), np.uint8)
    frame[600:610, 1000:1010] = 255
    image, _ = letterbox(frame)
    roi, _ = pad_to_aspect(to_pixels(None, (1920, 1080)), 192, 192)
    matrix = crop_matrix(roi, 192, 192)
    # scale 192/1920 about the frame centre: (x - 960) / 10 + 96, (y - 540) / 10 + 96
    assert np.allclose(map_points(np.array([[1000.0, 600.0], [0.0, 0.0]]), matrix), [[100, 102], [0, 42]], atol=1e-9)
    assert np.all(image[102, 100] == 255) and not image[102, 99].any() and not image[101, 100].any()


def test_pad_to_aspect_wide_roi() -> None:
    roi, padding = pad_to_aspect(PixelRect(50, 50, 100, 50, 0.3), 224, 224)
    assert roi == PixelRect(50, 50, 100, 100, 0.3)
    assert padding == (0.0, 0.25, 0.0, 0.25)
    with pytest.raises(MediaPipeError):
        pad_to_aspect(PixelRect(0, 0, 0, 10), 224, 224)


# --------------------------------------------------------------------------- crops
def gradient_frame(width: int = 640, height: int = 480) -> np.ndarray:
    ys, xs = np.mgrid[:height, :width]
    return np.stack([xs % 256, ys % 256, (xs // 256) * 64 + (ys // 256)], axis=2).astype(np.uint8)


@pytest.mark.parametrize("degrees", [0, 90, 180, -90])
def test_crop_samples_the_rotated_rectangle(degrees: int) -> None:
    frame = gradient_frame()
    roi = PixelRect(312, 252, 224, 224, math.radians(degrees))
    matrix = crop_matrix(roi, 224, 224)
    crop = warp_crop(frame, matrix, 224, 224)
    vs, us = np.mgrid[:224, :224]
    src = map_points(np.stack([us.ravel(), vs.ravel()], axis=1).astype(float), np.linalg.inv(matrix))
    assert np.allclose(src, np.round(src), atol=1e-6)  # quarter turns sample whole pixels exactly
    xs, ys = np.round(src).astype(int).T
    assert np.array_equal(crop.reshape(-1, 3), frame[ys, xs])


def test_crop_round_trip_and_projection_agree() -> None:
    width, height = 640, 480
    rect = NormRect(300 / width, 260 / height, 130 / width, 130 / height, 0.7)
    roi, padding = pad_to_aspect(to_pixels(rect, (width, height)), 224, 224)
    matrix = crop_matrix(roi, 224, 224)
    rng = np.random.default_rng(0)
    crop_points = rng.uniform(0, 224, size=(50, 2))
    frame_points = map_points(crop_points, np.linalg.inv(matrix))
    assert np.allclose(map_points(frame_points, matrix), crop_points, atol=1e-9)
    # MediaPipe's way back (letterbox removal, then projection with the rectangle) gives the same points
    norm = remove_padding(crop_points / 224, padding)
    projected = project_to_image(norm, rect) * (width, height)
    assert np.allclose(projected, frame_points, atol=1e-6)
    # the crop centre is the rectangle centre; the crop's top edge lies 65 px from it against the rotation
    assert np.allclose(
        map_points(np.array([[112.0, 112.0], [112.0, 0.0]]), np.linalg.inv(matrix)),
        [[300, 260], [300 + 65 * math.sin(0.7), 260 - 65 * math.cos(0.7)]],
        atol=1e-6,
    )


def test_crop_puts_the_fingers_up() -> None:
    # a hand pointing right (wrist at left, fingers at right) is turned so that the fingers are at the top
    rotation = rotation_from_points(200, 240, 300, 240)
    assert rotation == pytest.approx(math.pi / 2)
    matrix = crop_matrix(PixelRect(250, 240, 200, 200, rotation), 224, 224)
    wrist, fingers = map_points(np.array([[200.0, 240.0], [300.0, 240.0]]), matrix)
    assert np.allclose(wrist, [112, 112 + 56], atol=1e-9) and np.allclose(fingers, [112, 112 - 56], atol=1e-9)


def test_warp_border_modes() -> None:
    frame = np.full((10, 10, 3), 77, np.uint8)
    matrix = crop_matrix(PixelRect(5, 5, 20, 20), 20, 20)  # twice the frame: half the crop is outside
    assert np.all(warp_crop(frame, matrix, 20, 20, "replicate") == 77)
    zero = warp_crop(frame, matrix, 20, 20, "zero")
    assert not zero[0, 0].any() and np.all(zero[10, 10] == 77)
    with pytest.raises(MediaPipeError):
        warp_crop(frame, matrix, 20, 20, "reflect")


# --------------------------------------------------------------------------- ROIs
def test_transform_rect_shifts_along_the_rotation() -> None:
    rect = NormRect(0.5, 0.5, 0.1, 0.2, math.pi / 2)  # 20×20 px on a 200×100 image, fingers to the right
    moved = transform_rect(rect, (200, 100), scale=1.0, shift_y=-0.5)
    assert moved.x_center == pytest.approx(0.55) and moved.y_center == pytest.approx(0.5)  # 10 px to the right


def test_palm_roi_from_a_palm_pointing_right() -> None:
    keypoints = np.zeros((7, 2))
    keypoints[0], keypoints[2] = (0.40, 0.5), (0.50, 0.5)  # wrist → middle MCP along +x
    rect = palm_roi((0.40, 0.45, 0.10, 0.10), keypoints, (100, 100))
    assert rect.rotation == pytest.approx(math.pi / 2)
    assert (rect.x_center, rect.y_center) == pytest.approx((0.5, 0.5))  # shifted by half a box towards the fingers
    assert (rect.width, rect.height) == pytest.approx((0.26, 0.26))


def upright_hand() -> np.ndarray:
    """21 landmarks (normalised, square image) of an upright hand; partial landmarks span x 0.4–0.6, y 0.4–0.8."""
    points = np.full((21, 3), [0.5, 0.6, 0.0])
    points[0, :2] = (0.5, 0.8)  # wrist
    points[[5, 9, 13], :2] = [(0.4, 0.5), (0.5, 0.5), (0.6, 0.5)]  # index, middle, ring MCP
    points[[6, 10, 14, 18], :2] = [(0.4, 0.4), (0.5, 0.4), (0.6, 0.4), (0.45, 0.45)]
    points[[8, 12], :2] = [(0.0, 0.0), (1.0, 0.1)]  # fingertips do not count
    return points


def test_landmarks_rect_upright_and_turned() -> None:
    rect = landmarks_rect(upright_hand(), (100, 100))
    assert rect.rotation == pytest.approx(0.0)
    assert (rect.x_center, rect.y_center, rect.width, rect.height) == pytest.approx((0.5, 0.6, 0.2, 0.4))
    roi = landmarks_roi(upright_hand(), (100, 100))
    assert (roi.x_center, roi.y_center, roi.width, roi.height) == pytest.approx((0.5, 0.56, 0.8, 0.8))
    turned = upright_hand()  # rotate the hand 90° clockwise on screen about (0.5, 0.5): fingers to the right
    turned[:, 0], turned[:, 1] = 1.0 - upright_hand()[:, 1], upright_hand()[:, 0]
    rect = landmarks_rect(turned, (100, 100))
    assert rect.rotation == pytest.approx(math.pi / 2)
    assert (rect.x_center, rect.y_center, rect.width, rect.height) == pytest.approx((0.4, 0.5, 0.2, 0.4))
    with pytest.raises(MediaPipeError):
        landmarks_rect(np.zeros((20, 3)), (100, 100))


def test_box_roi() -> None:
    assert box_roi((100, 50, 200, 250), (400, 300), scale=1.5) == NormRect(0.375, 0.5, 0.75, 1.0, 0.0)
    with pytest.raises(MediaPipeError):
        box_roi((10, 10, 10, 20), (100, 100))


# --------------------------------------------------------------------------- palm decoding and NMS
def test_decode_palms() -> None:
    anchors = palm_anchors()
    raw = np.zeros((2016, 18), np.float32)
    logits = np.full(2016, -10.0, np.float32)
    raw[1200, :4] = (19.2, -9.6, 38.4, 19.2)  # +0.1, -0.05 from the anchor; 0.2 × 0.1
    raw[1200, 4:6] = (9.6, 0.0)  # keypoint 0 at +0.05
    logits[1200] = 2.0
    raw[5, 2] = -1.0  # negative width: dropped even with a high score
    logits[5] = 5.0
    scores, boxes, kps = decode_palms(raw, logits, anchors, min_score=0.5)
    ax, ay = anchors[1200]
    assert scores == pytest.approx([1 / (1 + math.exp(-2.0))])
    assert boxes[0] == pytest.approx([ax, ay - 0.1, ax + 0.2, ay], abs=1e-6)
    assert kps[0, 0] == pytest.approx([ax + 0.05, ay], abs=1e-6) and kps[0, 1] == pytest.approx([ax, ay], abs=1e-6)


def test_weighted_nms_averages_overlaps_by_score() -> None:
    boxes = np.array([[0.0, 0.0, 1.0, 1.0], [0.1, 0.0, 1.1, 1.0], [0.5, 0.5, 1.5, 1.5], [3, 3, 4, 4]])
    scores = np.array([0.6, 0.9, 0.3, 0.8])
    kps = np.arange(4 * 14, dtype=float).reshape(4, 7, 2)
    out = weighted_nms(scores, boxes, kps, threshold=0.3)
    assert [s for s, _, _ in out] == [0.9, 0.8, 0.3]
    # best box (0.9) absorbs box 0 (IoU 0.82) but not box 2 (IoU 0.14 with it)
    assert out[0][1] == pytest.approx((0.9 * boxes[1] + 0.6 * boxes[0]) / 1.5)
    assert out[0][2] == pytest.approx((0.9 * kps[1] + 0.6 * kps[0]) / 1.5)
    assert out[1][1] == pytest.approx(boxes[3]) and out[2][1] == pytest.approx(boxes[2])
    assert weighted_nms(np.zeros(0), np.zeros((0, 4)), np.zeros((0, 7, 2))) == []


# --------------------------------------------------------------------------- tracking pieces
def test_association_prefers_tracked_and_removes_duplicates() -> None:
    palm_a, palm_b = NormRect(0.2, 0.5, 0.2, 0.2), NormRect(0.8, 0.5, 0.2, 0.2)
    tracked_a = NormRect(0.21, 0.5, 0.2, 0.2)
    assert rect_iou(palm_a, tracked_a) > 0.5
    assert associate_rects([palm_a, palm_b], [tracked_a]) == [palm_b, tracked_a]
    twin = NormRect(0.215, 0.51, 0.2, 0.2)  # two tracked rectangles on one hand collapse to the later one
    assert associate_rects([], [tracked_a, twin]) == [twin]
    apart = NormRect(0.5, 0.5, 0.2, 0.2)  # IoU 0.2: both kept, palm first
    assert associate_rects([apart], [tracked_a]) == [apart, tracked_a]


@pytest.mark.parametrize(
    ("left_score", "mirrored", "side", "side_score"),
    [(0.8, False, "right", 0.8), (0.8, True, "left", 0.8), (0.3, False, "left", 0.7), (0.3, True, "right", 0.7)],
)
def test_hand_result_sides_and_pixels(left_score: float, mirrored: bool, side: str, side_score: float) -> None:
    landmarks = np.zeros((21, 3))
    landmarks[:, 0] = np.linspace(0.25, 0.5, 21)
    landmarks[:, 1] = np.linspace(0.5, 0.75, 21)
    landmarks[:, 2] = 0.01
    result = hand_result(LandmarkOutput(landmarks, 0.9, left_score, NormRect(0.5, 0.5, 0.1, 0.1)), (400, 200), mirrored)
    assert result.side == side and result.side_score == pytest.approx(side_score)
    assert result.keypoints.dtype == np.float32 and result.keypoints.shape == (21, 3)
    assert not result.keypoints.flags.writeable
    assert result.box == pytest.approx((100, 100, 200, 150))
    assert result.keypoints[0, 2] == pytest.approx(4.0)  # z scaled like x (× image width)
    assert result.score == pytest.approx(0.9)


# --------------------------------------------------------------------------- errors
def test_errors(tmp_path) -> None:
    with pytest.raises(MediaPipeError, match="model file not found"):
        MediaPipeHands(tmp_path / "palm.tflite", tmp_path / "hand.tflite")
    with pytest.raises(MediaPipeError, match="max_hands"):
        MediaPipeHands(tmp_path / "palm.tflite", tmp_path / "hand.tflite", max_hands=0)
    with pytest.raises(MediaPipeError, match="min_presence_score"):
        MediaPipeHands(tmp_path / "palm.tflite", tmp_path / "hand.tflite", min_presence_score=1.5)
    with pytest.raises(MediaPipeError, match="palm_interval_frames must be an integer >= 1, got 0"):
        MediaPipeHands(tmp_path / "palm.tflite", tmp_path / "hand.tflite", palm_interval_frames=0)
    with pytest.raises(MediaPipeError, match="landmark_interval_frames must be an integer >= 1, got 0"):
        MediaPipeHands(tmp_path / "palm.tflite", tmp_path / "hand.tflite", landmark_interval_frames=0)
    with pytest.raises(MediaPipeError, match=r"still_motion must be a number in \[0, 1\]"):
        MediaPipeHands(tmp_path / "palm.tflite", tmp_path / "hand.tflite", still_motion=2)
    (tmp_path / "junk.tflite").write_bytes(b"not a model")
    with pytest.raises(MediaPipeError, match=r"cannot load junk\.tflite"):
        HandLandmarker(tmp_path / "junk.tflite")
    with pytest.raises(MediaPipeError, match="uint8 RGB"):
        check_rgb(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(MediaPipeError, match="uint8 RGB"):
        check_rgb(np.zeros((4, 4), np.uint8))
    with pytest.raises(MediaPipeError, match="model must be"):
        model_files(tmp_path, "heavy")
