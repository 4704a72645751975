"""Drawing what the pipeline sees: overlays on frames, a video file, a window, and a render thread.

::

    SceneBuilder ─► Scene ─┐
    source frame (RGB) ────┴► FrameView ─► RenderWorker.submit ─► (bounded queue) ─► render thread:
                                                                  render() ─► VideoOut.write
                                                                            └► Display.show

Modules: `view` (`FrameView`: a `Scene` plus the image and the HUD's extras), `style` (`Style`
and its pixel sizes), `colors` (per-id and per-label colours), `draw` (`render`), `video`
(`FrameSink`, `VideoOut`, `check_video_out`, `letterbox`), `display` (`display_available`,
`Display`), `screen` (the window's size: `fit_size`, the screen's size), `rate` (`RateMeter`,
the HUD's fps) and `worker` (`RenderWorker`).

`render` turns one `FrameView` into a new BGR image (what ``cv2.imshow`` and ``cv2.VideoWriter``
take); the source frame is never modified. The legend:

* hand tracks: a box in the track's colour (deterministic per track id) labelled ``hand #3``,
  with the side when known (``hand #3 L``, ``hand #3 R``: the wearer's own hand). A hand with
  keypoints gets its skeleton in the same colour (21 keypoints: MediaPipe's hand bones; other
  counts: joints only), solid when observed, faint when moved with a predicted box.
  An *observed* box (a detection matched on this very frame) is a **solid** line; a *predicted*
  box (the tracker's estimate while the detector did not see the hand) is a **dashed**, thinner
  line and its label says for how long: ``hand #3 pred 2``.
* object tracks: the same, labelled ``cup #2 0.42`` (label, id, score of the last detection).
* raw detections of detectors whose results are not already drawn as tracks (a detector that no
  tracker follows): a solid box in a colour per label, labelled ``cup 0.42``.
* relations: a line from the hand box centre to the object box centre, labelled with the
  relation name beside the line's midpoint (the midpoint itself stays on the line); several
  relations on one hand-object pair share one line and one label (``holding, near``).
* labels never overlap: each goes to the nearest slot free of the labels drawn before it
  (its own place, then one label height lower, higher, two lower...); labels are painted after
  every box, skeleton and relation line, so no outline runs across a label's text.
* the HUD (top-left, on a darkened patch; `hud_lines`), every figure labelled: ``frame 12 at
  0.40 s``, ``pipeline 28.4 fps`` (``pipeline fps: measuring`` for the first half second: a
  `RateMeter` gives no rate from one or two frames), then one line per detector with the frames
  since its last result (``objects: last result 3 frames ago``); stale detectors in orange.

Line widths and fonts scale with the image's shorter side, so 320x240 and 1920x1080 both read well.
`RenderWorker` runs drawing and output off the detection path: the producer only enqueues a view.

Example:
    >>> import numpy as np
    >>> from orchestrator.scene import Scene
    >>> from trackers.track import Track
    >>> hand = Track(1, (40, 60, 120, 200), 0.9, "hand", 0)
    >>> view = FrameView(Scene(0, 0.0, (320, 240), hands=(hand,)), np.zeros((240, 320, 3), np.uint8))
    >>> bgr = render(view)
    >>> bgr.shape, bgr.dtype
    ((240, 320, 3), dtype('uint8'))
"""

from __future__ import annotations

from orchestrator.render.colors import label_color, track_color
from orchestrator.render.display import Display, display_available
from orchestrator.render.draw import hud_lines, render
from orchestrator.render.rate import RateMeter
from orchestrator.render.screen import fit_size
from orchestrator.render.style import DEFAULT_STYLE, Color, Style
from orchestrator.render.video import FrameSink, VideoOut, check_video_out, letterbox
from orchestrator.render.view import FrameView
from orchestrator.render.worker import RenderWorker

__all__ = [
    "DEFAULT_STYLE",
    "Color",
    "Display",
    "FrameSink",
    "FrameView",
    "RateMeter",
    "RenderWorker",
    "Style",
    "VideoOut",
    "check_video_out",
    "display_available",
    "fit_size",
    "hud_lines",
    "label_color",
    "letterbox",
    "render",
    "track_color",
]
