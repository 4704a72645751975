"""Stream sources against the real fault server (``../shared/cases/faults/mjpeg_server.py``).

The server runs as a subprocess on a free 127.0.0.1 port; timeouts and back-off are short so each
test takes a few seconds at most.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import shared_path

from orchestrator.config.spec import ReconnectSpec
from orchestrator.errors import UserError
from orchestrator.sources import LiveCaptureSource, backoff_delays, open_source


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FaultServer:
    """Starts ``mjpeg_server.py`` processes on one port; all are killed at the end of the test."""

    def __init__(self, script: Path, log: Path) -> None:
        self.script, self.log = script, log
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/stream.mjpg"
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *faults: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, str(self.script), "--port", str(self.port), "--size", "160x120"]
        process = subprocess.Popen([*command, "--log", str(self.log), *faults], stderr=subprocess.DEVNULL)
        self.processes.append(process)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return process
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"fault server exited with {process.returncode}") from None
                time.sleep(0.05)
        raise RuntimeError("fault server did not start listening within 10 s")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FaultServer]:
    fault_server = FaultServer(shared_path("cases/faults/mjpeg_server.py"), tmp_path / "server.log")
    try:
        yield fault_server
    finally:
        fault_server.stop()


def _read_until(source: LiveCaptureSource, done: Callable[[], bool], limit_s: float = 15.0) -> list[float]:
    """Times of the frames read until ``done()`` or the end; fails the test past ``limit_s``."""
    times: list[float] = []
    deadline = time.monotonic() + limit_s
    while not done():
        assert time.monotonic() < deadline, f"still reading after {limit_s} s: {source.end_facts()}"
        item = source.read()
        if item is None:
            break
        times.append(item[1])
    return times


def test_backoff_doubles_up_to_the_cap() -> None:
    assert backoff_delays(ReconnectSpec(attempts=5, max_delay_s=8)) == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert backoff_delays(ReconnectSpec(attempts=3, max_delay_s=0.2)) == [0.2, 0.2, 0.2]
    assert backoff_delays(ReconnectSpec(attempts=0)) == []


def test_a_server_killed_and_restarted_on_the_same_port_is_reconnected(server: FaultServer) -> None:
    first = server.start("--die-after", "0.5")
    source = open_source(server.url, timeout_s=1.0, reconnect=ReconnectSpec(attempts=40, max_delay_s=0.1))
    assert (source.kind, source.live) == ("stream", True)

    def restart() -> None:  # as soon as the first server is gone, a new one on the same port
        first.wait(timeout=10)
        server.start()

    restarter = threading.Thread(target=restart, daemon=True)
    restarter.start()
    before = _read_until(source, lambda: source.reconnects > 0)
    after: list[float] = []
    for _ in range(10):  # frames from the restarted server
        item = source.read()
        assert item is not None, source.end_facts()
        after.append(item[1])
    restarter.join(timeout=10)
    source.close()
    assert len(before) >= 5 and len(after) == 10
    assert (source.reconnects, source.end_status) == (1, None)
    assert source.stalls >= 1
    times = before + after
    assert times == sorted(times) and times[0] == 0.0  # seconds since the first frame, across the break


def test_a_server_that_never_comes_back_ends_source_lost(server: FaultServer) -> None:
    server.start("--die-after", "0.3")
    source = open_source(server.url, timeout_s=1.0, reconnect=ReconnectSpec(attempts=3, max_delay_s=0.1))
    started = time.monotonic()
    frames = _read_until(source, lambda: False)
    assert frames and source.read() is None
    assert source.end_status == "source_lost"
    assert source.end_error == f"{server.url}: source lost: no frame after 3 reconnect attempt(s) (timeout 1 s)"
    assert (source.stalls, source.reconnects) == (1, 0)
    assert time.monotonic() - started < 5.0


def test_no_reconnect_ends_source_lost_at_the_first_break(server: FaultServer) -> None:
    server.start("--die-after", "0.3")
    source = open_source(server.url, timeout_s=1.0, reconnect=ReconnectSpec(attempts=0))
    assert _read_until(source, lambda: False)
    assert (source.end_status, source.stalls, source.reconnects) == ("source_lost", 1, 0)
    assert source.end_error == f"{server.url}: source lost: the stream broke or stalled (reconnect.attempts is 0)"


def test_a_server_that_hangs_on_connect_fails_the_open_within_the_timeout(server: FaultServer) -> None:
    server.start("--hang-on-connect")
    started = time.monotonic()
    with pytest.raises(UserError) as info:
        open_source(server.url, timeout_s=0.5)
    assert time.monotonic() - started < 2.0
    message = str(info.value)
    assert message == (
        f"{server.url}: cannot open stream within 0.5 s "
        "(unreachable, not answering, or a protocol OpenCV does not support)"
    )


def test_a_stall_past_the_read_timeout_is_counted_and_reconnected(server: FaultServer) -> None:
    # Each connection streams 0.4 s, then sends nothing (socket open): the read times out after 0.5 s.
    server.start("--stall-at", "0.4", "--stall-for", "-1")
    source = open_source(server.url, timeout_s=0.5, reconnect=ReconnectSpec(attempts=2, max_delay_s=0.1))
    started = time.monotonic()
    frames = _read_until(source, lambda: source.reconnects > 0)
    after = source.read()  # the reopened connection streams again
    source.close()
    assert frames and after is not None
    assert (source.stalls, source.reconnects) == (1, 1)
    assert time.monotonic() - started < 5.0


def test_interrupt_wakes_a_backoff_wait_and_ends_every_later_read(server: FaultServer) -> None:
    process = server.start("--die-after", "0.3")
    source = open_source(server.url, timeout_s=1.0, reconnect=ReconnectSpec(attempts=5, max_delay_s=30))
    assert source.read() is not None
    process.wait(timeout=10)  # the server is gone: the next reads fail and the source waits to reopen
    ended: list[float] = []

    def reader() -> None:
        while source.read() is not None:
            pass
        ended.append(time.monotonic())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    time.sleep(0.8)  # inside the waits (0.5 s, then 1 s ...)
    interrupted_at = time.monotonic()
    source.interrupt()
    thread.join(timeout=5)
    assert ended and ended[0] - interrupted_at < 0.3
    assert source.end_status == "interrupted" and source.read() is None
    source.close()


def test_close_does_not_wait_for_a_read_blocked_in_a_stall(server: FaultServer) -> None:
    server.start("--stall-at", "0.2", "--stall-for", "-1")
    source = open_source(server.url, timeout_s=1.5, reconnect=ReconnectSpec(attempts=0))
    assert source.read() is not None
    results: list[object] = []
    thread = threading.Thread(target=lambda: results.extend(iter(source.read, None)) or results.append("end"))
    thread.start()
    time.sleep(0.5)  # the reader is now blocked in OpenCV's read, in the stall
    started = time.monotonic()
    source.interrupt()
    source.close()  # from another thread, while the read is blocked
    assert time.monotonic() - started < 0.2
    thread.join(timeout=5)  # the blocked read returns at its timeout; the capture is released then
    assert not thread.is_alive() and results[-1] == "end"
    assert source.end_status == "interrupted"
