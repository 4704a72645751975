"""The fault helpers of ``../shared/cases/faults``: misbehaving plugins, their pipelines, an MJPEG server.

The plugins import ``detectors.base`` (the plugin API's old home, kept as a deprecated alias), so
they load as they are, as a user's old plugin would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers.paths import shared_path


def fault_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a subprocess that can load ``faultplugins:NAME`` plugins (skips without ../shared).

    ``tmp_path`` is unused (kept for the callers); the plugins load unchanged from ../shared.
    """
    plugins = shared_path("cases/faults/plugins/faultplugins.py").parent
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugins), os.environ.get("PYTHONPATH", "")])}


def fault_pipelines(tmp_path: Path) -> Path:
    """The folder of pipelines ``gen_pipelines.py`` writes (plugin_hang.yaml, plugin_raise5.yaml, ...)."""
    script = shared_path("cases/faults/gen_pipelines.py")
    out = tmp_path / "fault_pipelines"
    subprocess.run([sys.executable, str(script), str(out)], check=True, capture_output=True, timeout=60)
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_server(command: list[str], port: int, timeout_s: float = 30) -> Iterator[str]:
    """Run a server ``command`` that listens on 127.0.0.1:``port``; yields ``http://127.0.0.1:PORT``
    once it accepts connections; kills it after."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def mjpeg_server(*options: str) -> Iterator[str]:
    """Run the fault ``mjpeg_server.py`` with ``options`` on a free port; yields the stream URL; stops it after."""
    script = shared_path("cases/faults/mjpeg_server.py")
    port = free_port()
    with local_server([sys.executable, str(script), "--port", str(port), *options], port, timeout_s=20) as base:
        yield f"{base}/stream.mjpg"
