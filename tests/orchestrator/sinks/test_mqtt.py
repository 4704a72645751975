"""The mqtt sink against a real Mosquitto broker on 127.0.0.1: order, QoS, a broker that is away, then back."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.mqtt import Broker, Subscriber

from orchestrator.events import dumps
from orchestrator.sinks.mqtt import MqttSink


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(tmp_path)
    broker.start()
    yield broker
    broker.kill()


def _records(count: int) -> list[dict]:
    return [{"schema": "t", "seq": seq, "type": "relation.start" if seq % 3 else "tracks"} for seq in range(count)]


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_every_record_arrives_in_order_on_its_topic(broker: Broker, qos: int) -> None:
    subscriber = Subscriber(broker.port, "test/#")
    try:
        sink = MqttSink(host="127.0.0.1", port=broker.port, topic="test/{type}", qos=qos, queue_size=1000)
        sink.start()
        records = _records(300)
        for record in records:
            sink.write(record)
        sink.close(timeout_s=20)
        got = subscriber.wait_for(len(records))
    finally:
        subscriber.close()
    assert [payload for _, payload in got] == [dumps(r)[:-1].encode() for r in records]
    assert [topic for topic, _ in got] == [f"test/{r['type']}" for r in records]
    stats = sink.stats()
    assert (stats.sent, stats.retried, stats.dropped, stats.errors) == (300, 0, 0, 0)


def test_a_broker_that_comes_up_late_gets_every_record(tmp_path: Path) -> None:
    broker = Broker(tmp_path)  # not started: the sink's first attempts are refused
    sink = MqttSink(host="127.0.0.1", port=broker.port, topic="late/{type}", qos=1, max_delay_s=0.4)
    sink.start()
    records = _records(50)
    started = time.monotonic()
    for record in records:
        sink.write(record)
    assert time.monotonic() - started < 0.5  # the writer never waits for the broker
    time.sleep(1.0)
    assert sink.stats().sent == 0 and sink.stats().errors >= 1
    assert "cannot connect to 127.0.0.1" in (sink.stats().last_error or "")
    broker.start()
    try:
        assert sink.flush(10)
        subscriber = Subscriber(broker.port, "late/#")
        try:
            sink.write({"type": "after", "seq": 50})  # the same connection goes on
            got = subscriber.wait_for(1, timeout_s=10)
        finally:
            subscriber.close()
        sink.close(timeout_s=5)
    finally:
        broker.kill()
    stats = sink.stats()
    assert stats.sent == 51 and stats.dropped == 0 and stats.retried >= 50  # the first batch was tried again
    assert [json.loads(p)["seq"] for _, p in got] == [50]


def test_no_broker_at_all_drops_within_the_bound(tmp_path: Path) -> None:
    port = Broker(tmp_path).port  # nothing listens there
    sink = MqttSink(host="127.0.0.1", port=port, qos=1, max_delay_s=0.2, flush_timeout_s=0.5)
    sink.start()
    for record in _records(20):
        sink.write(record)
    started = time.monotonic()
    sink.close()
    assert time.monotonic() - started < 2.5
    stats = sink.stats()
    assert (stats.sent, stats.dropped) == (0, 20) and stats.errors >= 1 and stats.retried >= 20
    sink.write({"type": "late"})  # after close: refused and counted, never raised
    assert sink.stats().dropped == 20  # final counts do not move after close


def test_a_full_queue_drops_and_never_blocks(tmp_path: Path) -> None:
    port = Broker(tmp_path).port
    sink = MqttSink(host="127.0.0.1", port=port, queue_size=10, flush_timeout_s=0.2)
    sink.start()
    started = time.monotonic()
    for record in _records(1000):
        sink.write(record)
    assert time.monotonic() - started < 1.0
    sink.close()
    assert sink.stats().dropped == 1000 and sink.stats().sent == 0
