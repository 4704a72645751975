"""Drawing: overlays, dashed predictions, relation lines and labels, the HUD (offline, headless)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.render_views import BACKGROUND_BGR, NO_HUD, cup, frame, hand, px, view

from detectors.detections import Detections
from orchestrator.render import (
    FrameView,
    Style,
    hud_lines,
    label_color,
    render,
    track_color,
)
from orchestrator.render.draw import _Labels, _overlaps
from orchestrator.render.style import metrics
from orchestrator.scene import ActiveRelation, Scene
from trackers.track import Track


# --------------------------------------------------------------------------- render
def test_hand_box_outline_has_track_colour_and_inside_is_unchanged() -> None:
    out = render(view(frame(), hands=(hand(3, (100, 80, 200, 180)),)), NO_HUD)
    colour = track_color(3, "hand")
    assert px(out, 100, 130) == colour  # left edge, half way down
    assert px(out, 200, 130) == colour  # right edge
    assert px(out, 150, 180) == colour  # bottom edge
    assert px(out, 150, 140) == BACKGROUND_BGR  # inside, far from edges and the label
    assert px(out, 20, 200) == BACKGROUND_BGR  # outside
    # The label sits on the top edge, above the box, in the track's colour.
    assert (out[70:80, 100:130] == colour).all(axis=2).any()


def test_output_is_a_new_bgr_image_and_the_source_is_untouched() -> None:
    rgb = frame()
    rgb[200:220, 280:300] = (255, 0, 0)  # red, in RGB
    before = rgb.copy()
    hand_track, cup_track = hand(1, (10, 10, 100, 100)), cup(2, (150, 50, 250, 150))
    shown = view(
        rgb,
        hands=(hand_track,),
        objects=(cup_track,),
        relations=(ActiveRelation("holding", hand_track, cup_track),),
        fps=30.0,
        staleness_frames={"hands": 0},
    )
    out = render(shown)
    assert out.dtype == np.uint8 and out.shape == rgb.shape
    assert px(out, 290, 210) == (0, 0, 255)  # still red once shown: channels swapped to BGR
    assert not np.shares_memory(out, rgb)
    np.testing.assert_array_equal(rgb, before)
    assert rgb.flags.writeable  # the caller's array keeps its flags; the view holds a read-only view
    assert not shown.rgb.flags.writeable


def test_predicted_box_is_dashed_and_observed_box_is_solid() -> None:
    box = (60, 60, 260, 200)
    observed = render(view(frame(), hands=(hand(1, box),)), NO_HUD)
    predicted = render(view(frame(), hands=(hand(1, box, predicted=True),)), NO_HUD)
    colour = np.array(track_color(1, "hand"))
    # The left edge below the label: every pixel coloured when observed, gaps when predicted.
    solid = (observed[80:195, 60] == colour).all(axis=1)
    dashed = (predicted[80:195, 60] == colour).all(axis=1)
    assert solid.all()
    assert 0.25 < dashed.mean() < 0.75
    assert (predicted[80:195, 60] == BACKGROUND_BGR).all(axis=1).any()


def test_relation_line_runs_through_the_midpoint_between_the_box_centres() -> None:
    hand_box, object_box = (20, 100, 80, 180), (200, 40, 280, 120)  # centres (50, 140) and (240, 80)
    hand_track, cup_track = hand(1, hand_box), cup(2, object_box)
    relation = ActiveRelation("holding", hand_track, cup_track)
    style = Style(show_hud=False, relation_color=(10, 200, 250))
    out = render(view(frame(), hands=(hand_track,), objects=(cup_track,), relations=(relation,)), style)
    assert px(out, 145, 110) == style.relation_color  # the midpoint
    assert px(out, 50, 140) == style.relation_color  # both ends
    assert px(out, 240, 80) == style.relation_color
    assert px(out, 145, 200) == BACKGROUND_BGR  # well off the line


def test_objects_tracks_and_untracked_raw_detections() -> None:
    detections = {
        "hands": Detections.from_lists([[20, 120, 80, 200]], [0.8], [0], ["hand"]),  # tracked: not drawn again
        "coco": Detections.from_lists([[200, 120, 300, 220]], [0.42], [3], ["cup"]),
    }
    objects = (Track(7, (120, 40, 180, 100), 0.55, "phone", 1),)
    out = render(view(frame(), objects=objects, detections=detections, tracked_detectors={"hands"}), NO_HUD)
    assert px(out, 120, 70) == track_color(7, "object")
    assert px(out, 200, 170) == label_color("cup")
    assert px(out, 20, 170) == BACKGROUND_BGR


def test_colours_are_deterministic_and_distinct() -> None:
    assert track_color(4) == track_color(4)
    assert len({track_color(i) for i in range(1, 30)}) == 29
    assert track_color(1, "hand") != track_color(1, "object")
    assert label_color("cup") == label_color("cup") != label_color("phone")


def test_hud_shows_staleness_and_marks_stale_detectors() -> None:
    def hud(stale: int) -> np.ndarray:
        shown = view(frame(640, 480), 5, 0.2, fps=29.5, staleness_frames={"hands": 0, "objects": stale})
        return render(shown)[:80, :240].astype(int)

    orange = np.array(Style().hud_stale_color)
    near_orange = lambda patch: (np.abs(patch - orange).max(axis=2) < 40).any()  # noqa: E731
    assert near_orange(hud(30))
    assert not near_orange(hud(2))
    assert (hud(2) != BACKGROUND_BGR).any(axis=2).any()


@pytest.mark.parametrize(
    ("frame_index", "fps", "staleness", "expected"),
    [
        (0, None, {"hands": 0}, ["frame 0 at 0.00 s", "pipeline fps: measuring", "hands: last result 0 frames ago"]),
        (7, 28.43, {"hands": 1}, ["frame 7 at 0.00 s", "pipeline 28.4 fps", "hands: last result 1 frame ago"]),
        (7, 5.0, {"objects": 8}, ["frame 7 at 0.00 s", "pipeline 5.0 fps", "objects: no result yet"]),
        (9, 5.0, {"objects": 9}, ["frame 9 at 0.00 s", "pipeline 5.0 fps", "objects: last result 9 frames ago"]),
    ],
)
def test_hud_figures_are_labelled(frame_index: int, fps: float | None, staleness: dict, expected: list[str]) -> None:
    lines = hud_lines(view(frame(), frame_index, fps=fps, staleness_frames=staleness))
    assert [text for text, _ in lines] == expected


def test_hud_patch_holds_its_longest_line_on_a_small_frame() -> None:
    # The labelled lines are longer than the bare figures were: at 320x240 the darkened patch
    # (and the text on it) must still fit in the frame, not be cut at its right edge.
    shown = view(frame(), 120, 4.0, fps=30.0, staleness_frames={"objects": 120, "hands": 0})
    out = render(shown).astype(int)
    darkened = (out == np.array(BACKGROUND_BGR) // 2).all(axis=2)
    columns = np.flatnonzero(darkened[:5].any(axis=0))
    assert columns.size and columns.max() < 319


def test_widths_scale_with_the_image() -> None:
    def edge_width(width: int, height: int) -> int:
        box = (width * 0.3, height * 0.3, width * 0.7, height * 0.7)
        out = render(view(frame(width, height), hands=(hand(1, box),)), NO_HUD)
        row = out[height // 2, : width // 2]
        return int((row == track_color(1)).all(axis=1).sum())

    assert edge_width(320, 240) == 1
    assert edge_width(1920, 1080) >= 3


def test_boxes_far_outside_the_frame_do_not_fail() -> None:
    wide, tiny = hand(3, (-1e12, 0, 1e12, 10)), cup(2, (5, 5, 6, 6))
    tracks = (hand(1, (-1e12, -5, 1e12, 1e9), predicted=True), hand(2, (400, 300, 500, 400)), wide)
    relation = ActiveRelation("near", wide, tiny)
    out = render(view(frame(), hands=tracks, objects=(tiny,), relations=(relation,)))
    assert out.shape == (240, 320, 3)


def test_frame_view_rejects_a_non_rgb_array() -> None:
    with pytest.raises(ValueError, match="uint8"):
        FrameView(Scene(0, 0.0, (10, 10)), np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="scene's frame is 10x10"):
        FrameView(Scene(0, 0.0, (10, 10)), np.zeros((10, 12, 3), np.uint8))


def test_relations_on_one_pair_share_one_label() -> None:
    # Two relations on the same hand-object pair draw exactly what one relation named "a, b" draws.
    image = np.zeros((240, 320, 3), np.uint8)
    hand_track, cup_track = hand(1, (20.0, 20.0, 100.0, 120.0)), cup(2, (200.0, 100.0, 260.0, 180.0))

    def related(*names: str) -> FrameView:
        relations = tuple(ActiveRelation(name, hand_track, cup_track) for name in names)
        return view(image, hands=(hand_track,), objects=(cup_track,), relations=relations)

    two, joined, only_a = related("a", "b"), related("a, b"), related("a")
    assert np.array_equal(render(two), render(joined))
    assert not np.array_equal(render(two), render(only_a))


# --------------------------------------------------------------------------- skeletons, sides, label slots
def _skeleton() -> tuple[tuple[float, float, float], ...]:
    # Wrist (160, 200) and index base (160, 140): the bone between them is the vertical x = 160;
    # every other keypoint sits in a cluster up and to the right, away from that bone.
    points = [(205.0 + (i % 4), 100.0 + (i % 5), 0.0) for i in range(21)]
    points[0], points[5] = (160.0, 200.0, 0.0), (160.0, 140.0, 0.0)
    return tuple(points)


def _hand_with_keypoints(source: str, side: str | None = None) -> Track:
    timing = {} if source == "observed" else {"box_source": "predicted", "frames_since_observed": 1, "age_frames": 2}
    return Track(
        3, (100, 80, 220, 220), 0.9, "hand", 0, keypoints=_skeleton(), keypoint_names=tuple(f"k{i}" for i in range(21)),
        keypoints_source=source, side=side, side_score=None if side is None else 0.9, **timing,
    )  # fmt: skip


def test_skeleton_is_solid_when_observed_and_faint_when_predicted() -> None:
    colour = np.array(track_color(3, "hand"))
    observed = render(view(frame(), hands=(_hand_with_keypoints("observed"),)), NO_HUD)
    predicted = render(view(frame(), hands=(_hand_with_keypoints("predicted"),)), NO_HUD)
    bone = observed[150:190, 160]  # the wrist-to-index bone, between its joints
    assert (bone == colour).all()
    alpha = NO_HUD.predicted_skeleton_alpha
    faint = np.rint(alpha * colour + (1 - alpha) * np.array(BACKGROUND_BGR))
    assert (np.abs(predicted[150:190, 160].astype(int) - faint) <= 1).all()
    assert px(observed, 175, 170) == BACKGROUND_BGR  # beside the bone: untouched
    plain = render(view(frame(), hands=(hand(3, (100, 80, 220, 220)),)), NO_HUD)
    assert px(plain, 160, 170) == BACKGROUND_BGR  # no keypoints, no skeleton


def test_keypoints_of_other_models_are_joints_only_and_wild_ones_do_not_fail() -> None:
    track = Track(1, (100, 80, 220, 220), 0.9, "hand", 0, keypoints=((160, 150, 0), (1e12, -1e12, 0)),
                  keypoint_names=("a", "b"), keypoints_source="observed")  # fmt: skip
    out = render(view(frame(), hands=(track,)), NO_HUD)
    assert px(out, 160, 150) == track_color(1, "hand")  # the joint
    assert px(out, 190, 150) == BACKGROUND_BGR  # no bone towards the wild point


def test_side_is_in_the_hand_label() -> None:
    images = {side: render(view(frame(), hands=(_hand_with_keypoints("observed", side),)), NO_HUD) for side in
              (None, "left", "right")}  # fmt: skip
    label_rows = slice(55, 80)
    assert not np.array_equal(images["left"][label_rows], images[None][label_rows])
    assert not np.array_equal(images["left"][label_rows], images["right"][label_rows])
    assert np.array_equal(images["left"][100:], images[None][100:])  # only the label differs


def test_labels_never_overlap() -> None:
    # Two hands on the same box: the second label takes the next free slot instead of covering the first.
    first, second = hand(1, (100, 80, 220, 220)), hand(2, (100, 80, 220, 220))
    out = render(view(frame(), hands=(first, second)), NO_HUD)
    above = out[55:80, 100:160]
    assert (above == track_color(1, "hand")).all(axis=2).sum() > 50  # the first label, whole
    assert (out[80:110, 100:160] == track_color(2, "hand")).all(axis=2).sum() > 50  # the second, just below


@pytest.mark.parametrize("count", [2, 5, 12])
def test_label_slots_are_free_of_every_label_placed_before(count: int) -> None:
    image = np.zeros((240, 320, 3), np.uint8)
    labels, m = _Labels(), metrics(NO_HUD, 320, 240)
    rects = [labels.draw(image, f"relation {i}", 150 + 3 * i, 120, (0, 200, 255), m) for i in range(count)]
    assert all(r[1] >= 0 and r[3] < 240 for r in rects)
    assert not any(_overlaps(a, b) for i, a in enumerate(rects) for b in rects[i + 1 :])


def test_labels_are_painted_over_boxes_drawn_after_them() -> None:
    # Hand 2's top edge (y = 70) runs through hand 1's label (above hand 1's box, y ~ 60..79): the label stays whole.
    first, second = hand(1, (100, 80, 220, 220)), hand(2, (60, 70, 300, 200))
    out = render(view(frame(), hands=(first, second)), NO_HUD)
    edge_colour, label_colour = track_color(2, "hand"), track_color(1, "hand")
    assert px(out, 250, 70) == edge_colour  # the edge, away from the labels
    label_row = out[70, 104:130]
    assert not (label_row == edge_colour).all(axis=1).any()
    assert (label_row == label_colour).all(axis=1).sum() > 10
