"""MediaPipe Hands (legacy solution: palm detector + 21-landmark model) on LiteRT, in numpy and OpenCV.

Reproduces ``mediapipe==0.10.21``'s ``solutions.hands`` in video mode from its own ``.tflite`` files,
whose paths the caller passes in. Modules: `anchors` (SSD anchors), `palm` (palm detector),
`crops` (rotated rectangles and the warp crop), `landmarks` (landmark model), `hands` (the tracker).
"""

from detectors.errors import MediaPipeError
from detectors.mediapipe.hands import HandResult, MediaPipeHands, landmarks_for_boxes, model_files
from detectors.mediapipe.landmarks import HandLandmarker
from detectors.mediapipe.palm import PalmDetector

__all__ = [
    "HandLandmarker",
    "HandResult",
    "MediaPipeError",
    "MediaPipeHands",
    "PalmDetector",
    "landmarks_for_boxes",
    "model_files",
]
