"""MediaPipe's hand landmark model: a rotated 224×224 crop → 21 keypoints, presence, handedness.

Re-implements ``mediapipe/modules/hand_landmark/hand_landmark_cpu.pbtxt`` (Apache-2.0):
``ImageToTensorCalculator`` (rotated-rectangle crop, aspect kept, edge-repeat border, RGB in [0, 1]),
the model's four outputs in order (21×(x, y, z) in crop pixels, hand presence, handedness, world
landmarks), ``TensorsToLandmarksCalculator`` (``x / 224``, ``y / 224``, ``z / 224 / 0.4``),
``LandmarkLetterboxRemovalCalculator`` and ``LandmarkProjectionCalculator`` back onto the frame.

Landmark order (MediaPipe's): 0 wrist; 1–4 thumb CMC, MCP, IP, tip; 5–8 index MCP, PIP, DIP, tip;
9–12 middle; 13–16 ring; 17–20 pinky.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from detectors.errors import MediaPipeError
from detectors.mediapipe.crops import (
    NormRect,
    crop_matrix,
    pad_to_aspect,
    project_to_image,
    remove_padding,
    to_pixels,
    warp_crop,
)
from detectors.mediapipe.interpreter import load_model
from detectors.mediapipe.palm import check_channel_order, check_rgb

LANDMARK_INPUT_SIZE = 224
NUM_LANDMARKS = 21
NORMALIZE_Z = 0.4


@dataclass(frozen=True, eq=False)
class LandmarkOutput:
    """One landmark-model run on one ROI.

    ``landmarks``: (21, 3) float64 in normalised frame coordinates: ``x / W``, ``y / H`` and
    MediaPipe's ``z`` (relative depth, wrist ≈ 0, negative towards the camera, scaled like ``x``,
    i.e. ``z · W`` is in pixels). ``presence``: hand presence probability in [0, 1]. ``left_score``:
    probability of MediaPipe's label "Left" (which assumes a mirrored, selfie image). ``rect``: the ROI used.
    """

    landmarks: np.ndarray
    presence: float
    left_score: float
    rect: NormRect


class HandLandmarker:
    """MediaPipe's hand landmark model (``hand_landmark_full.tflite`` / ``hand_landmark_lite.tflite``) on LiteRT.

    Input ``[1, 224, 224, 3]`` float RGB in [0, 1]; outputs ``[1, 63]``, ``[1, 1]``, ``[1, 1]``, ``[1, 63]``.
    ``channel_order``: ``"rgb"`` or ``"bgr"``, the order of the frames given to `run` / `run_many`; a BGR
    frame is converted crop by crop (224 × 224), with the same result as converting the frame first.
    Raises `MediaPipeError` for a missing file or other tensor shapes.
    """

    def __init__(self, model_path: str | os.PathLike[str], num_threads: int = 2, channel_order: str = "rgb") -> None:
        self.channel_order = check_channel_order(channel_order)
        size = LANDMARK_INPUT_SIZE
        self._interpreter, self._input, outs = load_model(
            model_path, num_threads, (1, size, size, 3), [(1, 63), (1, 1), (1, 1), (1, 63)]
        )
        self._landmarks_out, self._presence_out, self._handedness_out, _ = outs
        self._batch = 1

    @staticmethod
    def crop(rgb: np.ndarray, rect: NormRect) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float, float]]:
        """The model input for ``rect``: uint8 ``(224, 224, 3)``, the frame→crop matrix, and the padding.

        ``rect`` is a `NormRect` on ``rgb``; it is grown to a square (``PadRoi``) if it is not one
        in pixels, and ``padding`` ``(left, top, right, bottom)`` says by how much (tensor fractions).
        """
        h, w = rgb.shape[:2]
        size = LANDMARK_INPUT_SIZE
        roi, padding = pad_to_aspect(to_pixels(rect, (w, h)), size, size)
        matrix = crop_matrix(roi, size, size)
        return warp_crop(rgb, matrix, size, size, border="replicate"), matrix, padding

    def run(self, rgb: np.ndarray, rect: NormRect) -> LandmarkOutput:
        """Landmarks for the hand in ``rect`` of an RGB uint8 ``(H, W, 3)`` frame (see `LandmarkOutput`)."""
        return self.run_many(rgb, [rect])[0]

    def run_many(self, rgb: np.ndarray, rects: Sequence[NormRect]) -> list[LandmarkOutput]:
        """`run` for several ROIs of one frame in one batched model call; one `LandmarkOutput` per ROI, in order.

        Each crop is computed on its own, so results equal one `run` per ROI. Raises `MediaPipeError`
        for a bad image or an ROI without a positive size.
        """
        rgb = check_rgb(rgb)
        if not rects:
            return []
        size = LANDMARK_INPUT_SIZE
        batch = np.empty((len(rects), size, size, 3), np.float32)
        paddings = []
        for i, rect in enumerate(rects):
            if not (rect.width > 0 and rect.height > 0):
                raise MediaPipeError(f"ROI must have a positive size, got {rect.width}x{rect.height}")
            image, _, padding = self.crop(rgb, rect)
            batch[i] = cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if self.channel_order == "bgr" else image
            paddings.append(padding)
        batch *= np.float32(1.0 / 255.0)
        if len(rects) != self._batch:
            self._interpreter.resize_tensor_input(self._input, list(batch.shape))
            self._interpreter.allocate_tensors()
            self._batch = len(rects)
        self._interpreter.set_tensor(self._input, batch)
        self._interpreter.invoke()
        raw_all = self._interpreter.get_tensor(self._landmarks_out).reshape(len(rects), NUM_LANDMARKS, 3)
        presence = self._interpreter.get_tensor(self._presence_out).reshape(-1)
        left = self._interpreter.get_tensor(self._handedness_out).reshape(-1)
        outputs = []
        for i, rect in enumerate(rects):
            raw = raw_all[i].astype(np.float64)
            norm = np.stack([raw[:, 0] / size, raw[:, 1] / size, raw[:, 2] / size / NORMALIZE_Z], axis=1)
            points = project_to_image(remove_padding(norm, paddings[i]), rect)
            points.setflags(write=False)
            outputs.append(LandmarkOutput(points, float(presence[i]), float(left[i]), rect))
        return outputs
