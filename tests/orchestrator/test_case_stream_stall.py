"""``../shared/cases/stream-stall``: the case's own MJPEG server, ``/stall`` and ``/end``, through ``run``.

``/stall`` sends 20 frames and then nothing with the socket open: SIGTERM after that ends the run
with exit 143 and an ``interrupted`` summary at once (it took ~28 s, OpenCV's read timeout). With
no signal, the stall is a timed-out read: counted and reconnected, never a plain ``completed``.
``/end`` closes the connection after 30 frames (a camera unplugged): the server is back at once,
so the stream is reconnected and goes on (the case's README, written before reconnection
existed, expected 30 frames and ``completed``; a client cannot tell a stream that ended from a
server that died, so a live stream never ends ``completed``).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from helpers import validate_records, write_pipeline
from helpers.faults import free_port, local_server
from helpers.paths import shared_path

STOP_BOUND_S = 5.0  # generous for a loaded 2-core machine; measured about 0.6-0.8 s


def case_server() -> AbstractContextManager[str]:
    """The case's own server (``mjpeg_server.py PORT``) on a free port; yields ``http://127.0.0.1:PORT``."""
    script = shared_path("cases/stream-stall/mjpeg_server.py")
    port = free_port()
    return local_server([sys.executable, str(script), str(port)], port)


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def _frames_seen(path: Path) -> int:
    return sum(r["type"] == "detections" for r in _records(path))


def _run(tmp_path: Path, url: str, source_options: str) -> tuple[subprocess.Popen[str], Path]:
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        source: {{uri: 0, {source_options}}}
        detectors:
          hands: {{plugin: testing.noop}}
        outputs: {{records: [detections]}}
        """,
    )
    events = tmp_path / "events.jsonl"
    command = [sys.executable, "-m", "orchestrator", "run", str(pipeline), "--source", url, "--events", str(events)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return process, events


def _wait_for_frames(process: subprocess.Popen[str], events: Path, count: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while _frames_seen(events) < count:
        assert process.poll() is None, f"the run ended early: {process.communicate()[1]}"
        assert time.monotonic() < deadline, f"{_frames_seen(events)} frames in {timeout_s} s, expected {count}"
        time.sleep(0.05)


def _sigterm(process: subprocess.Popen[str]) -> tuple[float, str]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        err = process.communicate(timeout=30)[1]
    finally:
        process.kill()
    return time.monotonic() - started, err


def test_sigterm_during_the_stall_ends_at_once_with_an_interrupted_summary(tmp_path: Path) -> None:
    with case_server() as base:
        process, events = _run(tmp_path, f"{base}/stall", "timeout_s: 60")  # the read would wait a minute
        # FFmpeg's multipart reader hands over a part when the next boundary comes, so the 20th
        # frame is read only once the stream goes on (or ends); 19 are in before the stall.
        _wait_for_frames(process, events, 19)
        time.sleep(3.0)  # as in the case: 3 s after frame 20, while the server sends nothing
        elapsed, err = _sigterm(process)
    assert process.returncode == 143, err
    assert elapsed < STOP_BOUND_S, f"the run took {elapsed:.2f} s to stop"
    records = _records(events)
    validate_records(records)
    summary = records[-1]
    assert summary["type"] == "summary" and summary["status"] == "interrupted"
    assert summary["frames"]["processed"] >= 19


def test_a_stall_past_the_read_timeout_is_counted_and_reconnected_never_completed(tmp_path: Path) -> None:
    with case_server() as base:
        process, events = _run(tmp_path, f"{base}/stall", "timeout_s: 1, reconnect: {attempts: 3, max_delay_s: 1}")
        _wait_for_frames(process, events, 25)  # 20 before the stall, then frames of the new connection
        _, err = _sigterm(process)
    assert process.returncode == 143, err
    summary = _records(events)[-1]
    assert summary["status"] == "interrupted"
    assert summary["stalls"] >= 1 and summary["reconnects"] >= 1


def test_a_stream_that_ends_is_reconnected_and_goes_on(tmp_path: Path) -> None:
    with case_server() as base:
        process, events = _run(tmp_path, f"{base}/end", "reconnect: {attempts: 3, max_delay_s: 1}")
        _wait_for_frames(process, events, 35)  # past the first connection's 30 frames
        _, err = _sigterm(process)
    assert process.returncode == 143, err
    summary = _records(events)[-1]
    assert summary["status"] == "interrupted" and summary["reconnects"] >= 1


def test_a_stream_that_ends_without_reconnecting_says_so(tmp_path: Path) -> None:
    with case_server() as base:
        process, events = _run(tmp_path, f"{base}/end", "reconnect: {attempts: 0}")
        _, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    summary = _records(events)[-1]
    assert summary["status"] == "source_lost" and summary["frames"]["processed"] == 30
    assert err.count("\n") <= 2 and "Traceback" not in err
