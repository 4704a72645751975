"""``mqtt``: publish each record to an MQTT broker (paho-mqtt), one message per record, in order.

The message is the record's canonical JSON line (without the newline), published to ``topic``
with ``{type}`` replaced by the record's type (``hands/{type}`` → ``hands/relation.start``),
at ``qos`` 0, 1 or 2, not retained. With QoS 1 or 2 a record counts as sent once the broker
acknowledged it; with QoS 0 once it was written to the connection.

The worker thread drives its own paho client (no paho thread, no automatic reconnection inside
paho): when the connection breaks, the client is dropped, the worker waits, connects a new one
and publishes again every record of the batch the broker had not acknowledged, counted as
retried. A broker that restarted without persistence loses what it had accepted but not yet
passed on (MQTT's guarantee ends at the broker), and with QoS 1 a subscriber may receive a
record twice (at least once); ``seq`` tells both apart.

Credentials never go in the pipeline file: ``username_env`` / ``password_env`` name environment
variables; ``tls: true`` (or a ``ca_file``) encrypts the connection.

Example:
    >>> sink = MqttSink(host="127.0.0.1", topic="hands/{type}", qos=1)
    >>> sink.topic_for("relation.start"), sink.qos
    ('hands/relation.start', 1)
    >>> MqttSink(host="broker", topic="hands/{kind}")
    Traceback (most recent call last):
    ValueError: topic 'hands/{kind}': the only placeholder is {type}
"""

from __future__ import annotations

import ssl
import time
from typing import Any, ClassVar

from orchestrator.sinks.base import ENV_NAME_SCHEMA, env_value
from orchestrator.sinks.queued import QUEUE_PARAMS, DeliveryError, Item, QueuedSink

#: How long one `loop` call of the client waits for the network: the stop is noticed this often.
_LOOP_S = 0.05


class MqttSink(QueuedSink):
    """Publishes records to an MQTT broker; see the module docstring. Raises ValueError for a bad topic
    or an environment variable named by ``username_env`` / ``password_env`` that is not set."""

    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["host"],
        "properties": {
            "host": {"type": "string", "minLength": 1, "description": "Broker host name or address."},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535, "description": "Default 1883, 8883 with TLS."},
            "topic": {
                "type": "string",
                "minLength": 1,
                "description": "Topic of each record; {type} is replaced by the record's type (default "
                "orchestrator/{type}).",
            },
            "qos": {"enum": [0, 1, 2], "description": "MQTT quality of service (default 1: the broker acknowledges)."},
            "client_id": {"type": "string", "description": "Client id (default: one the broker assigns)."},
            "keepalive_s": {"type": "integer", "minimum": 5, "maximum": 3600, "description": "Default 30."},
            "connect_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 120, "description": "Default 5."},
            "ack_timeout_s": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 600,
                "description": "Seconds to wait for the broker's acknowledgements of a batch before reconnecting "
                "(default 10).",
            },
            "tls": {"type": "boolean", "description": "Encrypt the connection (the system's CAs unless ca_file)."},
            "ca_file": {"type": "string", "minLength": 1, "description": "CA certificate file (PEM); implies tls."},
            "username_env": {**ENV_NAME_SCHEMA, "description": "Environment variable holding the user name."},
            "password_env": {**ENV_NAME_SCHEMA, "description": "Environment variable holding the password."},
            **QUEUE_PARAMS,
        },
    }
    path_params: ClassVar[tuple[str, ...]] = ("ca_file",)
    secret_params: ClassVar[tuple[str, ...]] = ("password", "username")

    def __init__(
        self,
        host: str,
        port: int | None = None,
        topic: str = "orchestrator/{type}",
        qos: int = 1,
        client_id: str = "",
        keepalive_s: int = 30,
        connect_timeout_s: float = 5.0,
        ack_timeout_s: float = 10.0,
        tls: bool = False,
        ca_file: str | None = None,
        username_env: str | None = None,
        password_env: str | None = None,
        **queue: Any,
    ) -> None:
        super().__init__(**queue)
        if qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, got {qos!r}")
        try:
            sample = topic.format(type="x")
        except (KeyError, IndexError, ValueError):
            raise ValueError(f"topic {topic!r}: the only placeholder is {{type}}") from None
        if "+" in sample or "#" in sample:
            raise ValueError(f"topic {topic!r}: wildcards + and # are for subscribing, not publishing")
        self.host = host
        self.tls = bool(tls or ca_file)
        self.port = port if port is not None else (8883 if self.tls else 1883)
        self.topic = topic
        self.qos = qos
        self.client_id = client_id
        self.keepalive_s = keepalive_s
        self.connect_timeout_s = float(connect_timeout_s)
        self.ack_timeout_s = float(ack_timeout_s)
        self.ca_file = ca_file
        self._username = env_value(username_env, "username_env")
        self._password = env_value(password_env, "password_env")
        if self._password is not None and self._username is None:
            raise ValueError("password_env needs username_env too (MQTT sends a password with a user name)")
        self._client: Any = None

    def topic_for(self, record_type: str) -> str:
        """The topic of a record of type ``record_type``."""
        return self.topic.format(type=record_type)

    def connect(self) -> None:
        from paho.mqtt import client as mqtt

        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv311, clean_session=True
        )
        client.connect_timeout = self.connect_timeout_s
        if self._username is not None:
            client.username_pw_set(self._username, self._password)
        answer: dict[str, Any] = {}
        client.on_connect = lambda _c, _u, _flags, reason, _props: answer.setdefault("reason", reason)
        where = f"{self.host}:{self.port}"
        try:
            if self.tls:
                client.tls_set(ca_certs=self.ca_file)
            client.connect(self.host, self.port, keepalive=self.keepalive_s)
        except (OSError, ssl.SSLError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise DeliveryError(f"cannot connect to {where}: {reason}") from None
        self._client = client
        deadline = time.monotonic() + self.connect_timeout_s
        while "reason" not in answer:
            self._loop(f"connecting to {where}")
            if time.monotonic() > deadline:
                raise DeliveryError(f"{where}: no answer to CONNECT within {self.connect_timeout_s:g} s")
        if answer["reason"].is_failure:
            raise DeliveryError(f"{where}: the broker refused the connection: {answer['reason']}")

    def _loop(self, doing: str, delivered: int = 0) -> None:
        if self.stopping:
            raise DeliveryError(f"stopped while {doing}", delivered)
        rc = self._client.loop(timeout=_LOOP_S)
        if rc != 0:
            from paho.mqtt import client as mqtt

            raise DeliveryError(f"{self.host}:{self.port}: {mqtt.error_string(rc)} while {doing}", delivered)

    def deliver(self, batch: list[Item]) -> None:
        from paho.mqtt import client as mqtt

        infos = []
        for record_type, line in batch:
            info = self._client.publish(self.topic_for(record_type), line.encode("utf-8"), qos=self.qos)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise DeliveryError(
                    f"{self.host}:{self.port}: {mqtt.error_string(info.rc)} while publishing", _acked(infos)
                )
            infos.append(info)
        deadline = time.monotonic() + self.ack_timeout_s
        while _acked(infos) < len(infos):
            self._loop("waiting for acknowledgements", _acked(infos))
            if time.monotonic() > deadline:
                raise DeliveryError(
                    f"{self.host}:{self.port}: no acknowledgement within {self.ack_timeout_s:g} s", _acked(infos)
                )

    def idle(self) -> None:
        self._loop("idle")

    def disconnect(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.disconnect()  # sends DISCONNECT on a live connection and closes the socket
            client.loop(timeout=0)
        except Exception:  # a broken connection: nothing left to close politely
            pass


def _acked(infos: list[Any]) -> int:
    """How many messages at the start of ``infos`` are published (acknowledged for QoS 1 and 2)."""
    count = 0
    for info in infos:
        if not info.is_published():
            break
        count += 1
    return count
