"""A real Mosquitto broker on 127.0.0.1 for the MQTT sink's tests, and a paho subscriber that records what arrives.

The broker is Debian's ``mosquitto`` (scripts/test.sh installs it); without it the tests skip,
naming what is missing.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from helpers.faults import free_port


def mosquitto_binary() -> str:
    """The broker's executable, or skip the test saying how to get it."""
    found = shutil.which("mosquitto") or next(
        (path for path in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(path).exists()), None
    )
    if found is None:
        pytest.skip("needs the mosquitto broker (scripts/test.sh installs it: apt-get install mosquitto)")
    return found


class Broker:
    """A Mosquitto broker listening on 127.0.0.1:``port`` (no persistence), which a test can restart."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.binary = mosquitto_binary()
        self.port = port or free_port()
        self.config = folder / "mosquitto.conf"
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.log = folder / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the broker and wait until it accepts connections."""
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto exited at once: {self.log.read_text(errors='replace')[-500:]}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on port {self.port} within {timeout_s} s")

    def kill(self) -> None:
        """Kill the broker at once (SIGKILL): what it held is lost, its clients see the connection drop."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None


class Subscriber:
    """A paho client subscribed to ``topic`` (QoS 1), recording ``(topic, payload)`` in arrival order;
    it reconnects (and subscribes again) after a broker restart."""

    def __init__(self, port: int, topic: str) -> None:
        from paho.mqtt import client as mqtt

        self.topic = topic
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        #: SUBACKs received: one per (re)connection.
        self.subscriptions = 0
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        self._client.reconnect_delay_set(min_delay=1, max_delay=1)
        self._client.on_connect = lambda client, *_: client.subscribe(topic, qos=1)
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port, keepalive=30)
        self._client.loop_start()
        if not self.subscribed(1, timeout_s=10):
            raise RuntimeError("the subscriber got no SUBACK within 10 s")

    def _on_subscribe(self, *_: Any) -> None:
        with self._lock:
            self.subscriptions += 1

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload)))

    def subscribed(self, count: int, timeout_s: float = 15.0) -> bool:
        """Wait until ``count`` SUBACKs came (2: subscribed again after a broker restart); True when they did."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if self.subscriptions >= count:
                    return True
            time.sleep(0.02)
        return False

    def wait_for(self, count: int, timeout_s: float = 20.0) -> list[tuple[str, bytes]]:
        """The messages so far, once at least ``count`` arrived (or ``timeout_s`` passed)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    break
            time.sleep(0.02)
        time.sleep(0.2)  # a duplicate or a straggler would arrive now
        with self._lock:
            return list(self.messages)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()
