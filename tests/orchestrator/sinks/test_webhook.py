"""The webhook sink against a local HTTP server: JSON array batches in order, retries on 503, drops on 400,
the Authorization header from the environment, and a dead endpoint that never blocks the writer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from helpers.faults import free_port
from helpers.webhook import Endpoint

from orchestrator.sinks.webhook import WebhookSink


@pytest.fixture
def endpoint(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    server = Endpoint(getattr(request, "param", []))
    yield server
    server.close()


def _records(count: int) -> list[dict[str, Any]]:
    return [{"type": "tracks", "seq": seq} for seq in range(count)]


def test_batches_are_json_arrays_in_order(endpoint: Endpoint) -> None:
    sink = WebhookSink(url=endpoint.url, batch_size=7)
    for record in _records(30):
        sink.write(record)
    sink.start()
    sink.close(timeout_s=10)
    assert [len(body) for body in endpoint.bodies] == [7, 7, 7, 7, 2]
    assert [record for body in endpoint.bodies for record in body] == _records(30)
    assert endpoint.requests[0]["Content-Type"] == "application/json"
    assert (sink.stats().sent, sink.stats().retried, sink.stats().dropped) == (30, 0, 0)


@pytest.mark.parametrize(
    ("endpoint", "sent", "retried", "dropped", "last_error"),
    [
        ([503, 500], 5, 10, 0, "HTTP 500 Internal Server Error"),  # busy, then back: the same batch again
        ([429], 5, 5, 0, "HTTP 429 Too Many Requests"),
        ([400], 0, 0, 5, "HTTP 400 Bad Request"),  # refused: retrying cannot help
        ([404], 0, 0, 5, "HTTP 404 Not Found"),
    ],
    indirect=["endpoint"],
)
def test_answers_retry_or_drop(endpoint: Endpoint, sent: int, retried: int, dropped: int, last_error: str) -> None:
    sink = WebhookSink(url=endpoint.url, max_delay_s=0.1)
    for record in _records(5):
        sink.write(record)
    sink.start()
    sink.close(timeout_s=10)
    stats = sink.stats()
    assert (stats.sent, stats.retried, stats.dropped) == (sent, retried, dropped)
    assert stats.last_error is not None and stats.last_error.endswith(last_error)
    assert [record for body in endpoint.bodies for record in body] == (_records(5) if sent else [])


def test_authorization_comes_from_the_environment(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHESTRATOR_TEST_WEBHOOK_AUTH", "Bearer s3cret")
    sink = WebhookSink(url=endpoint.url, authorization_env="ORCHESTRATOR_TEST_WEBHOOK_AUTH")
    sink.write({"type": "summary", "seq": 0})
    sink.start()
    sink.close(timeout_s=10)
    assert endpoint.requests[0]["Authorization"] == "Bearer s3cret"


def test_a_dead_endpoint_drops_and_never_blocks() -> None:
    sink = WebhookSink(url=f"http://127.0.0.1:{free_port()}/x", max_delay_s=0.1, flush_timeout_s=0.5)
    sink.start()
    started = time.monotonic()
    for record in _records(500):
        sink.write(record)
    assert time.monotonic() - started < 1.0  # the writer only queues
    sink.close()
    assert time.monotonic() - started < 3.0
    stats = sink.stats()
    assert (stats.sent, stats.dropped, stats.queued) == (0, 500, 0) and stats.errors >= 1
    assert "Connection refused" in (stats.last_error or "")
