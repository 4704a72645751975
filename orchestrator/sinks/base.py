"""The sink interface: `Sink`, the base of every sink plugin, and `SinkStats`, what one delivered.

A sink receives every record of a run, in order, as the JSON-ready dict the runtime stamped.
`Sink.write` is called on the thread that reads the records (never a detector's); a network
sink returns at once (it queues, and counts a record it has no room for as dropped), a file
sink writes synchronously. A sink is constructed cheaply (the pipeline loader builds it to check
its parameters: no connection, no thread, no file), `start` ed before the first record, and
`close` d with a bounded wait.

A plugin subclasses `Sink` (or `orchestrator.sinks.queued.QueuedSink` for a network sink), sets
``params_schema`` (the JSON Schema of its keys in ``outputs.sinks``) and registers itself in the
``orchestrator.sinks`` entry point group.

Example:
    >>> SinkStats(sent=3, retried=1, dropped=0, queued=2, errors=1, last_error="connection refused").to_json()
    {'sent': 3, 'retried': 1, 'dropped': 0, 'queued': 2, 'errors': 1, 'last_error': 'connection refused'}
    >>> SinkStats(sent=-1)
    Traceback (most recent call last):
    ValueError: sink counts must be integers >= 0, got sent=-1
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

#: The JSON Schema of a parameter naming an environment variable (``password_env: MQTT_PASSWORD``).
ENV_NAME_SCHEMA: dict[str, Any] = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}


def env_value(name: str | None, param: str) -> str | None:
    """The value of environment variable ``name`` (named by parameter ``param``); None when ``name`` is None.

    Raises ValueError naming ``param`` and the variable when it is not set.

    >>> env_value(None, "password_env") is None
    True
    >>> env_value("ORCHESTRATOR_DOCTEST_UNSET", "password_env")
    Traceback (most recent call last):
    ValueError: password_env: environment variable ORCHESTRATOR_DOCTEST_UNSET is not set
    """
    if name is None:
        return None
    if name not in os.environ:
        raise ValueError(f"{param}: environment variable {name} is not set")
    return os.environ[name]


@dataclass(frozen=True)
class SinkStats:
    """What a sink did with the records it was given, as of one moment.

    ``sent``: records delivered (for MQTT with QoS 1 or 2: acknowledged by the broker; QoS 0 and a
    file: written). ``retried``: deliveries tried again after a failed attempt (a record tried
    three more times counts three). ``dropped``: records given up (no room in the sink's queue,
    refused by the endpoint, or still undelivered when the run's wait for the sink ran out).
    ``queued``: records taken but not yet delivered nor given up (0 once the sink is closed).
    ``errors``: failed attempts (a refused connection, a lost broker, an HTTP error), and
    ``last_error`` the latest one's message.
    """

    sent: int = 0
    retried: int = 0
    dropped: int = 0
    queued: int = 0
    errors: int = 0
    last_error: str | None = None

    def __post_init__(self) -> None:
        for name in ("sent", "retried", "dropped", "queued", "errors"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"sink counts must be integers >= 0, got {name}={value!r}")

    def to_json(self) -> dict[str, Any]:
        """The counts as the summary record's ``sinks`` entry has them (``last_error`` only when there was one)."""
        out: dict[str, Any] = {"sent": self.sent, "retried": self.retried, "dropped": self.dropped}
        out.update(queued=self.queued, errors=self.errors)
        if self.last_error is not None:
            out["last_error"] = self.last_error
        return out

    def describe(self) -> str:
        """One line for the end of a run.

        >>> SinkStats(sent=5, dropped=2, errors=1, last_error="timed out").describe()
        '5 sent, 0 retried, 2 dropped (last error: timed out)'
        """
        text = f"{self.sent} sent, {self.retried} retried, {self.dropped} dropped"
        text += f", {self.queued} queued" if self.queued else ""
        return text + (f" (last error: {self.last_error})" if self.last_error else "")


class Sink:
    """Base of every sink: receives records in order; the defaults do nothing.

    Subclasses override `write` and `stats`, and `start` / `flush` / `close` as they need.
    ``params_schema`` is the JSON Schema of the sink's keys in ``outputs.sinks`` (``type`` and
    ``name`` excluded); ``path_params`` name parameters that are input files (resolved against the
    pipeline file, which must exist), ``output_path_params`` files the sink writes (resolved; their
    folder must exist); ``secret_params`` name keys refused in a pipeline file (a password:
    an ``..._env`` parameter names the environment variable that holds it instead).
    """

    params_schema: ClassVar[Mapping[str, Any]] = {"type": "object", "additionalProperties": False}
    path_params: ClassVar[tuple[str, ...]] = ()
    output_path_params: ClassVar[tuple[str, ...]] = ()
    secret_params: ClassVar[tuple[str, ...]] = ()

    def start(self) -> None:
        """Begin (connect, start a worker thread); called once, before the first record."""

    def write(self, record: Mapping[str, Any]) -> None:
        """Take one record; a network sink never blocks here."""
        raise NotImplementedError

    def flush(self, timeout_s: float) -> bool:
        """Wait at most ``timeout_s`` seconds for the records taken so far to be delivered or dropped;
        True when none is left waiting."""
        return True

    def close(self, timeout_s: float | None = None) -> None:
        """Deliver what is left within ``timeout_s`` seconds (None: the sink's own bound), then stop; what is
        still undelivered is dropped. Safe to call twice, and on a sink never started."""

    def stats(self) -> SinkStats:
        """The counts so far."""
        return SinkStats()


def check_sink(obj: Any) -> str | None:
    """Why ``obj`` cannot be a sink plugin, or None (the registry's check).

    >>> check_sink(Sink), check_sink(dict)
    (None, "<class 'dict'> is not a subclass of orchestrator.sinks.base.Sink")
    """
    if not (isinstance(obj, type) and issubclass(obj, Sink)):
        return f"{obj!r} is not a subclass of orchestrator.sinks.base.Sink"
    return None
