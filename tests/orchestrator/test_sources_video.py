"""Video file sources: presentation times, damaged and cut files, the container's stated count."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import make_video, shared_path

from orchestrator.errors import UserError
from orchestrator.sources import VideoFileSource, open_source
from orchestrator.sources.container import states_frame_count
from orchestrator.sources.timestamps import FrameClock

# ../shared/cases/_lib/check_events.py's tolerance for a record's time against the frame's own.
TIME_TOLERANCE_S = 0.002


def _read_all(source: VideoFileSource) -> list[float]:
    return [time_s for _, time_s in iter(source.read, None)]


@pytest.mark.parametrize(
    ("video", "times"),
    [
        ("cases/vfr-timestamps/vfr.mp4", "cases/vfr-timestamps/vfr_times.json"),
        ("data/cards/cards_topdown_2.webm", "cases/vfr-timestamps/cards2_times.json"),
    ],
)
def test_time_is_the_frames_presentation_time(video: str, times: str) -> None:
    # vfr.mp4 jumps from 0.333 s to 0.833 s at frame 11 (index / average fps said 0.611 s);
    # cards_topdown_2.webm has frame 25 at 1.484 s (index / fps said 0.843 s).
    expected = json.loads(shared_path(times).read_text())
    source = open_source(str(shared_path(video)))
    got = _read_all(source)
    assert len(got) == len(expected)
    worst = max(abs(a - b) for a, b in zip(got, expected, strict=True))
    assert worst <= TIME_TOLERANCE_S, worst
    assert source.end_status == "completed"


@pytest.mark.parametrize(
    ("name", "frames", "status", "skipped"),
    [
        ("whole.mp4", 30, "completed", 0),
        ("cut.avi", 19, "truncated", 0),  # cut at the end: the 19 frames before the cut
        ("zeroed_mid.mp4", 26, "truncated", 4),  # frames 17-20 damaged, 21-29 decode
    ],
)
def test_shared_damaged_files_give_every_frame_that_decodes(name: str, frames: int, status: str, skipped: int) -> None:
    folder = shared_path("cases/truncated-video")
    expect = json.loads((folder / "expect.json").read_text())[name]
    source = open_source(str(folder / name))
    assert source.frames_expected == expect["header_frames"]
    got = _read_all(source)
    assert len(got) == expect["decoded_skipping_failures"] == frames
    assert (source.end_status, source.frames_skipped, source.frames_delivered) == (status, skipped, frames)
    assert got == sorted(got) and len(set(got)) == len(got)


def test_a_file_that_cannot_be_opened_is_one_line_at_open() -> None:
    path = shared_path("cases/truncated-video/no_moov.mp4")
    with pytest.raises(UserError) as info:
        open_source(str(path))
    assert str(info.value) == f"{path}: not a video OpenCV can open (corrupt file or unsupported format)"


def _jpeg_starts(data: bytes) -> list[int]:
    return [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xD8]


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    """A 20-frame MJPG AVI whose frames 8, 9 and 10 are zeroed (their chunk headers intact)."""
    data = bytearray(make_video(tmp_path / "whole.avi", frames=20, size=(64, 48)).read_bytes())
    starts = _jpeg_starts(bytes(data))
    assert len(starts) == 20
    for k in (8, 9, 10):
        end = starts[k + 1] - 8  # the next chunk's 8-byte header stays
        data[starts[k] : end] = bytes(end - starts[k])
    path = tmp_path / "damaged.avi"
    path.write_bytes(bytes(data))
    return path


def test_a_damaged_span_is_skipped_and_counted_and_times_keep_the_gap(damaged: Path) -> None:
    source = VideoFileSource(str(damaged))
    times = _read_all(source)
    assert len(times) == 17
    assert (source.end_status, source.frames_skipped, source.frames_expected) == ("truncated", 3, 20)
    # Frame 11 comes after frame 7 at its own time, 11/30 s: not 8/30 s as index / fps would say.
    assert times[7:9] == pytest.approx([7 / 30, 11 / 30], abs=TIME_TOLERANCE_S)
    assert source.end_facts() == {
        "end_status": "truncated",
        "frames_delivered": 17,
        "frames_expected": 20,
        "frames_skipped": 3,
    }


def test_on_bad_frame_stop_ends_with_an_error_after_the_frames_before_it(damaged: Path) -> None:
    source = VideoFileSource(str(damaged), on_bad_frame="stop")
    assert len(_read_all(source)) == 8
    assert source.end_status == "error"
    why = "damaged video, 3 frame(s) lost; on_bad_frame: stop"
    assert source.end_error == f"{damaged}: frame 8 cannot be decoded ({why})"
    assert source.read() is None  # stays ended


@pytest.mark.parametrize(("keep_frames", "status"), [(20, "completed"), (12, "truncated")])
def test_a_file_cut_short_ends_truncated(tmp_path: Path, keep_frames: int, status: str) -> None:
    data = make_video(tmp_path / "whole.avi", frames=20, size=(64, 48)).read_bytes()
    starts = _jpeg_starts(data)
    path = tmp_path / "cut.avi"
    path.write_bytes(data if keep_frames == 20 else data[: starts[keep_frames]])
    source = VideoFileSource(str(path))
    assert len(_read_all(source)) == keep_frames
    assert (source.end_status, source.frames_skipped) == (status, 0)


def _box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


FTYP = _box(b"ftyp", b"isom\x00\x00\x02\x00")


@pytest.mark.parametrize(
    ("content", "stated"),
    [
        (b"RIFF\x00\x00\x00\x00AVI LIST", True),
        (FTYP + _box(b"mdat", bytes(16)) + _box(b"moov", _box(b"mvhd", bytes(8))), True),
        (FTYP + _box(b"moov", _box(b"mvhd") + _box(b"mvex")), False),  # fragmented
        (FTYP + _box(b"mdat", bytes(16)), False),  # no moov
        (bytes.fromhex("1a45dfa3") + bytes(40), False),  # Matroska/WebM: duration x rate only
        (struct.pack(">I4s", 4, b"ftyp") + bytes(8), False),  # damaged: a box smaller than its header
        (b"", False),
    ],
)
def test_only_a_container_that_stores_its_frame_count_is_trusted(tmp_path: Path, content: bytes, stated: bool) -> None:
    path = tmp_path / "video.bin"
    path.write_bytes(content)
    assert states_frame_count(str(path)) is stated


def test_webm_counts_are_estimates_not_a_truncation() -> None:
    # cards_topdown_2.webm: OpenCV says 275 frames (duration x rate), 259 decode: the whole file.
    source = open_source(str(shared_path("data/cards/cards_topdown_2.webm")))
    assert source.frame_count == 275 and source.frames_expected is None
    assert len(_read_all(source)) == 259 and source.end_status == "completed"


@pytest.mark.parametrize(
    ("reported_ms", "expected_s", "fallbacks"),
    [
        ([0.0, 100.0, 600.0, 650.0], [0.0, 0.1, 0.6, 0.65], 0),  # variable rate: as reported
        ([0.0, 0.0, 0.0, 0.0], [0.0, 0.25, 0.5, 0.75], 3),  # a backend without timestamps: index / fps
        ([0.0, 500.0, 250.0, 1000.0], [0.0, 0.5, 0.75, 1.0], 1),  # backwards: previous + 1/fps
        ([float("nan"), -5.0, 250.0], [0.0, 0.25, 0.5], 2),  # nothing usable, then not after the last
        ([133.0, 166.0], [0.133, 0.166], 0),  # the first frame decoded is not at 0 (damaged start)
    ],
)
def test_frame_clock_falls_back_only_without_a_usable_timestamp(
    reported_ms: list[float], expected_s: list[float], fallbacks: int
) -> None:
    clock = FrameClock(fps=4)
    assert [clock.time_s(ms) for ms in reported_ms] == pytest.approx(expected_s)
    assert clock.fallbacks == fallbacks


def test_a_stated_rate_is_the_fallbacks_step_and_user_fps_overrides_it(tmp_path: Path) -> None:
    video = make_video(tmp_path / "v.avi", frames=3, size=(32, 32), fps=10)
    assert VideoFileSource(str(video)).fps == 10
    source = VideoFileSource(str(video), fps=25)
    assert source.fps == 25
    assert _read_all(source) == pytest.approx([0.0, 0.1, 0.2])  # times stay the file's own


def test_a_closed_file_source_ends_and_close_is_idempotent(tmp_path: Path) -> None:
    source = VideoFileSource(str(make_video(tmp_path / "v.avi", frames=3, size=(32, 32))))
    assert source.read() is not None
    source.close()
    source.close()
    assert source.read() is None
    assert source.end_status == "interrupted"  # not "truncated": the file was not read to its end


def test_interrupt_ends_a_file_source(tmp_path: Path) -> None:
    source = VideoFileSource(str(make_video(tmp_path / "v.avi", frames=5, size=(32, 32))))
    assert source.read() is not None
    source.interrupt()
    assert source.read() is None and source.read() is None
    assert source.end_status == "interrupted"


def test_frames_are_bgr_as_decoded(tmp_path: Path) -> None:
    path = tmp_path / "red.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (32, 32))
    for _ in range(2):
        writer.write(np.full((32, 32, 3), (0, 0, 255), np.uint8))
    writer.release()
    frame, _ = VideoFileSource(str(path)).read()
    assert frame.shape == (32, 32, 3) and frame[16, 16, 2] > 200 and frame[16, 16, 0] < 50


@pytest.mark.parametrize("threads", [1, 3])
def test_decode_threads_reach_ffmpeg_and_frames_are_the_same(threads: int) -> None:
    # One decoding thread by default (SourceSpec.decode_threads): the frames are the same, only the
    # work moves into the reader thread. An H.264 file: FFmpeg threads its decoder.
    path = str(shared_path("data/egodex/add_remove_lid_0.mp4"))
    default = VideoFileSource(path, decode_threads=0)
    chosen = VideoFileSource(path, decode_threads=threads)
    try:
        assert chosen._capture.get(cv2.CAP_PROP_N_THREADS) == threads
        assert default._capture.get(cv2.CAP_PROP_N_THREADS) >= 1
        for _ in range(10):
            a, b = default.read(), chosen.read()
            assert a is not None and b is not None
            assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    finally:
        default.close()
        chosen.close()
