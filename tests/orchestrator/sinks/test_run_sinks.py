"""``run`` with ``outputs.sinks``: a real broker gets every record of the events file, in order; a broker
restarted mid-run is retried and the summary says so; a dead webhook never holds the run up."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import REPO_ROOT, run_cli, validate_records, write_pipeline
from helpers.faults import free_port
from helpers.media import make_video, write_fixture
from helpers.mqtt import Broker, Subscriber
from helpers.paths import shared_path


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(tmp_path)
    broker.start()
    yield broker
    broker.kill()


def _pipeline(folder: Path, sinks: list[dict[str, Any]], frames: int = 40) -> Path:
    """Scripted hands (two, moving) over a ``frames``-frame clip, SORT tracks, detections and tracks records."""
    make_video(folder / "clip.avi", frames=frames)
    hands = {i: [{"box": [10 + 3 * i, 60, 70 + 3 * i, 130]}, {"box": [200, 80, 260, 150]}] for i in range(frames)}
    write_fixture(folder / "hands.yaml", hands)
    pipeline = {
        "version": 1,
        "source": {"uri": "clip.avi"},
        "detectors": {"hands": {"plugin": "testing.scripted", "params": {"fixture": "hands.yaml"}}},
        "tracker": {"type": "sort", "detector": "hands", "params": {"min_hits": 1}},
        "outputs": {"records": ["detections", "tracks"], "sinks": sinks},
    }
    return write_pipeline(folder / "p.yaml", yaml.safe_dump(pipeline, sort_keys=False))


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def test_every_record_reaches_the_broker_and_the_copy_in_order(tmp_path: Path, broker: Broker) -> None:
    sinks = [
        {"type": "mqtt", "host": "127.0.0.1", "port": broker.port, "topic": "hands/{type}", "qos": 1},
        {"type": "jsonl", "name": "copy", "path": "copy.jsonl"},
    ]
    pipeline = _pipeline(tmp_path, sinks)
    events = tmp_path / "events.jsonl"
    subscriber = Subscriber(broker.port, "hands/#")
    try:
        result = run_cli("run", pipeline, "--events", events)
        assert result.returncode == 0, result.stderr
        lines = _lines(events)
        got = subscriber.wait_for(len(lines))
    finally:
        subscriber.close()
    assert len(lines) == 1 + 2 * 40 + 1  # the header, detections and tracks of 40 frames, the summary
    assert [payload for _, payload in got] == lines  # every record, byte for byte, in order, the summary too
    assert [topic for topic, _ in got] == [f"hands/{json.loads(line)['type']}" for line in lines]
    assert _lines(tmp_path / "copy.jsonl") == lines
    validate_records([json.loads(line) for line in lines])  # the summary's sinks field is in the events schema
    summary = json.loads(lines[-1])
    before = summary["seq"]  # records before the summary: all sent before it was written
    assert summary["sinks"] == {
        "mqtt": {"type": "mqtt", "sent": before, "retried": 0, "dropped": 0, "queued": 0, "errors": 0},
        "copy": {"type": "jsonl", "sent": before, "retried": 0, "dropped": 0, "queued": 0, "errors": 0},
    }
    assert f"sinks: mqtt: {before + 1} sent, 0 retried, 0 dropped; copy: {before + 1} sent" in result.stderr


def test_a_broker_restarted_mid_run_is_retried_and_counted(tmp_path: Path, broker: Broker) -> None:
    sinks = [{"type": "mqtt", "host": "127.0.0.1", "port": broker.port, "topic": "live/{type}", "max_delay_s": 0.5}]
    pipeline = _pipeline(tmp_path, sinks, frames=120)  # 4 s paced at 30 fps
    events = tmp_path / "events.jsonl"
    subscriber = Subscriber(broker.port, "live/#")
    command = [sys.executable, "-m", "orchestrator", "run", str(pipeline), "--events", str(events), "--mode"]
    process = subprocess.Popen(
        [*command, "realtime"], cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        before_kill = subscriber.wait_for(20, timeout_s=60)
        assert len(before_kill) >= 20, "the run published nothing"
        broker.kill()
        time.sleep(1.0)  # records made meanwhile wait in the sink's queue
        broker.start()
        assert subscriber.subscribed(2), "the subscriber did not come back"
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        lines = _lines(events)
        got = subscriber.wait_for(len(lines), timeout_s=3)
    finally:
        if process.poll() is None:
            process.kill()
        subscriber.close()
    summary = json.loads(lines[-1])
    counts = summary["sinks"]["mqtt"]
    assert counts["errors"] >= 1 and counts["retried"] >= 1, counts
    # Every record before the summary is accounted for.
    assert counts["sent"] + counts["dropped"] + counts["queued"] == summary["seq"], counts
    assert "127.0.0.1" in counts["last_error"]
    assert counts["dropped"] == 0  # the queue held what came while the broker was away
    final = re.search(r"^sinks: mqtt: (\d+) sent, (\d+) retried, (\d+) dropped", stderr, re.M)
    assert final, stderr
    sent, retried, dropped = map(int, final.groups())
    assert sent + dropped == summary["seq"] + 1 and retried >= counts["retried"]  # final: the summary included
    # What arrived is the file's records in order (QoS 1 is at least once: a resent record may come twice);
    # the broker lost what it held when killed, and what came while the subscriber was away.
    index = {line: i for i, line in enumerate(lines)}
    positions = [index[payload] for _, payload in got]
    assert positions == sorted(positions)
    assert positions[-1] == len(lines) - 1  # the summary came after the restart
    assert positions[0] == 0 and len(set(positions)) > len(before_kill)


def test_a_dead_webhook_never_holds_the_run_up(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/events"  # nothing listens there
    pipeline = _pipeline(tmp_path, [{"type": "webhook", "url": url, "flush_timeout_s": 0.5, "max_delay_s": 0.2}])
    events = tmp_path / "events.jsonl"
    started = time.monotonic()
    result = run_cli("run", pipeline, "--events", events)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30
    summary = json.loads(_lines(events)[-1])
    counts = summary["sinks"]["webhook"]
    # When the summary was written the records were still queued (the wait of 0.5 s ran out); then dropped.
    assert counts["sent"] == 0 and counts["dropped"] + counts["queued"] == summary["seq"] and counts["errors"] >= 1
    assert "Connection refused" in counts["last_error"]
    final = re.search(r"^sinks: webhook: 0 sent, \d+ retried, (\d+) dropped \(last error: ", result.stderr, re.M)
    assert final and int(final.group(1)) == summary["seq"] + 1, result.stderr


@pytest.mark.parametrize(
    ("sink", "message"),
    [
        (
            {"type": "mqtt", "host": "h", "password": "hunter2"},
            "outputs.sinks[0].password: a password does not go in a pipeline file; put it in an environment "
            "variable and name that variable: password_env: NAME",
        ),
        (
            {"type": "mqtt", "host": "h", "username_env": "ORCHESTRATOR_TEST_UNSET_USER"},
            "outputs.sinks[0]: username_env: environment variable ORCHESTRATOR_TEST_UNSET_USER is not set",
        ),
        ({"type": "mqtt", "host": "h", "qos": 3}, "outputs.sinks[0].qos: expected one of 0, 1, 2; got 3"),
        ({"type": "kafka"}, "outputs.sinks[0].type: unknown sink plugin 'kafka'; valid names: jsonl, mqtt, webhook"),
        ({"type": "webhook", "url": "ftp://x"}, "url 'ftp://x': expected an http:// or https:// URL"),
        ({"type": "jsonl", "path": "missing/x.jsonl"}, "outputs.sinks[0].path: folder does not exist"),
    ],
)
def test_a_wrong_sink_is_one_line_naming_the_field(tmp_path: Path, sink: dict[str, Any], message: str) -> None:
    pipeline = _pipeline(tmp_path, [sink], frames=2)
    result = run_cli("run", pipeline, "--events", tmp_path / "e.jsonl")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "e.jsonl").exists()


def test_a_sink_file_that_is_the_events_file_is_refused(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path, [{"type": "jsonl", "path": "e.jsonl"}], frames=2)
    result = run_cli("run", pipeline, "--events", tmp_path / "e.jsonl")
    assert result.returncode == 2
    assert "outputs.sinks jsonl" in result.stderr and "is the events file" in result.stderr


@pytest.mark.real_model
def test_real_clip_every_record_reaches_the_broker(real_models: Path, tmp_path: Path, broker: Broker) -> None:
    clip = shared_path("data/egodex/add_remove_lid_0.mp4")
    pipeline = yaml.safe_load((REPO_ROOT / "pipelines/hands_only.yaml").read_text(encoding="utf-8"))
    pipeline["outputs"]["sinks"] = [{"type": "mqtt", "host": "127.0.0.1", "port": broker.port, "topic": "ego/{type}"}]
    path = write_pipeline(tmp_path / "hands_mqtt.yaml", yaml.safe_dump(pipeline, sort_keys=False))
    events = tmp_path / "events.jsonl"
    subscriber = Subscriber(broker.port, "ego/#")
    try:
        result = run_cli("run", path, "--source", clip, "--events", events, "-q", timeout=600)
        assert result.returncode == 0, result.stderr
        lines = _lines(events)
        got = subscriber.wait_for(len(lines))
    finally:
        subscriber.close()
    summary = json.loads(lines[-1])
    assert summary["frames"]["processed"] == 94 and summary["status"] == "completed"
    assert [payload for _, payload in got] == lines
    counts = {"type": "mqtt", "sent": len(lines) - 1, "retried": 0, "dropped": 0, "queued": 0, "errors": 0}
    assert summary["sinks"]["mqtt"] == counts


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_with_the_broker_away_is_prompt(tmp_path: Path, sig: signal.Signals) -> None:
    port = free_port()  # nothing listens: every record waits in the queue
    sinks = [{"type": "mqtt", "host": "127.0.0.1", "port": port, "flush_timeout_s": 30, "max_delay_s": 0.2}]
    pipeline = _pipeline(tmp_path, sinks, frames=300)  # 10 s paced
    events = tmp_path / "events.jsonl"
    command = [sys.executable, "-m", "orchestrator", "run", str(pipeline), "--events", str(events), "--mode"]
    process = subprocess.Popen([*command, "realtime"], cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (events.exists() and len(_lines(events)) >= 10):
            assert process.poll() is None and time.monotonic() < deadline, "the run did not get going"
            time.sleep(0.05)
        started = time.monotonic()
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=30)
        elapsed = time.monotonic() - started
    finally:
        process.kill()
    assert process.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143}[sig], stderr
    assert elapsed < 5.0  # the sink's flush_timeout_s of 30 s is cut to 0.5 s after a stop (0.7-1.0 s measured)
    summary = json.loads(_lines(events)[-1])
    counts = summary["sinks"]["mqtt"]
    assert summary["status"] == "interrupted"
    assert counts["sent"] == 0 and counts["dropped"] + counts["queued"] == summary["seq"]
    final = re.search(r"^sinks: mqtt: 0 sent, \d+ retried, (\d+) dropped", stderr, re.M)
    assert final and int(final.group(1)) == summary["seq"] + 1, stderr
