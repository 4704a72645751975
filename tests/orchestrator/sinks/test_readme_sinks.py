"""The README's sinks example: it loads as written, and it runs, every record reaching a real broker, a
local webhook and the archive file (the camera and the model replaced by a scripted clip)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import REPO_ROOT, run_cli, write_pipeline
from helpers.media import make_video, write_fixture
from helpers.mqtt import Broker, Subscriber
from helpers.webhook import Endpoint

from orchestrator.config import parse_pipeline

ENV = {"MQTT_USER": "cell7", "MQTT_PASSWORD": "not-in-the-file", "HOOK_AUTH": "Bearer t0ken"}


def _example() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- example-sinks -->\n```yaml\n(.*?)```", readme, re.S)
    assert match, "README.md has no example-sinks block"
    return match.group(1)


def test_the_example_loads_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "archive").mkdir()
    config = parse_pipeline(_example(), tmp_path / "hands_mqtt.yaml")
    assert [(s.name, s.type) for s in config.outputs.sinks] == [
        ("mqtt", "mqtt"),
        ("webhook", "webhook"),
        ("archive", "jsonl"),
    ]
    assert config.outputs.sinks[0].params["topic"] == "cell7/hands/{type}"


def test_the_example_needs_its_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "archive").mkdir()
    with pytest.raises(Exception, match="environment variable MQTT_USER is not set") as caught:
        parse_pipeline(_example(), tmp_path / "hands_mqtt.yaml")
    assert "environment variable HOOK_AUTH is not set" in str(caught.value)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(tmp_path)
    broker.start()
    yield broker
    broker.kill()


def test_the_example_delivers_every_record(tmp_path: Path, broker: Broker) -> None:
    """As written, but from a scripted clip (no camera, no model) to this test's broker and endpoint."""
    pipeline: dict[str, Any] = yaml.safe_load(_example())
    make_video(tmp_path / "clip.avi", frames=20)
    write_fixture(tmp_path / "hands.yaml", {i: [{"box": [10 + 4 * i, 50, 70 + 4 * i, 120]}] for i in range(20)})
    pipeline["source"] = {"uri": "clip.avi"}
    pipeline["detectors"] = {"hands": {"plugin": "testing.scripted", "params": {"fixture": "hands.yaml"}}}
    mqtt, webhook, _ = pipeline["outputs"]["sinks"]
    mqtt["port"] = broker.port
    endpoint = Endpoint([])
    webhook["url"] = endpoint.url
    (tmp_path / "archive").mkdir()
    path = write_pipeline(tmp_path / "hands_mqtt.yaml", yaml.safe_dump(pipeline, sort_keys=False))
    subscriber = Subscriber(broker.port, "cell7/hands/#")
    try:
        result = run_cli("run", path, "-q", cwd=tmp_path, env=ENV)
        assert result.returncode == 0, result.stderr
        lines = (tmp_path / "events.jsonl").read_bytes().splitlines()
        got = subscriber.wait_for(len(lines))
    finally:
        subscriber.close()
        endpoint.close()
    assert len(lines) == 22  # the stream's header, 20 tracks records and the summary
    assert [payload for _, payload in got] == lines
    assert [record for body in endpoint.bodies for record in body] == [json.loads(line) for line in lines]
    assert all(request["Authorization"] == "Bearer t0ken" for request in endpoint.requests)
    assert (tmp_path / "archive" / "hands.jsonl").read_bytes().splitlines() == lines
    counts = json.loads(lines[-1])["sinks"]
    assert {name: (c["sent"], c["dropped"], c["queued"]) for name, c in counts.items()} == {
        "mqtt": (21, 0, 0),
        "webhook": (21, 0, 0),
        "archive": (21, 0, 0),
    }
