"""``webhook``: POST records to an HTTP(S) endpoint in batches, retrying with back-off.

Each request's body is a JSON array of records (each the canonical JSON of one record), in
order, at most ``batch_size`` of them, with ``Content-Type: application/json``. A 2xx answer
delivers the batch. A lost connection, a timeout, 408, 429 or a 5xx answer is retried (the same
batch, after a wait that doubles up to ``max_delay_s``); any other answer (400, 401, 404...) is
a refusal that retrying cannot mend: the batch is dropped and counted. An ``Authorization``
header comes from the environment variable named by ``authorization_env``, never from the file.

Example:
    >>> sink = WebhookSink(url="http://127.0.0.1:8080/events", batch_size=50)
    >>> sink.url, sink.batch_size, WebhookSink.body([("summary", '{"seq":0}'), ("summary", '{"seq":1}')])
    ('http://127.0.0.1:8080/events', 50, b'[{"seq":0},{"seq":1}]')
    >>> WebhookSink(url="ftp://host/x")
    Traceback (most recent call last):
    ValueError: url 'ftp://host/x': expected an http:// or https:// URL
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from typing import Any, ClassVar

from orchestrator.sinks.base import ENV_NAME_SCHEMA, env_value
from orchestrator.sinks.queued import QUEUE_PARAMS, DeliveryError, Item, QueuedSink

#: Answers worth trying again: the endpoint is busy or briefly broken, not refusing the records.
_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class WebhookSink(QueuedSink):
    """POSTs batches of records to ``url``; see the module docstring. Raises ValueError for a URL that is
    not http(s), or an ``authorization_env`` variable that is not set."""

    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "minLength": 1, "description": "http:// or https:// URL records are POSTed to."},
            "batch_size": {
                "type": "integer",
                "minimum": 1,
                "maximum": 10000,
                "description": "Most records in one request (default 100).",
            },
            "timeout_s": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 300,
                "description": "Seconds one request may take (default 5).",
            },
            "authorization_env": {
                **ENV_NAME_SCHEMA,
                "description": "Environment variable holding the Authorization header's value (Bearer ...).",
            },
            **QUEUE_PARAMS,
        },
    }
    secret_params: ClassVar[tuple[str, ...]] = ("authorization", "token", "headers")

    def __init__(
        self,
        url: str,
        batch_size: int = 100,
        timeout_s: float = 5.0,
        authorization_env: str | None = None,
        **queue: Any,
    ) -> None:
        super().__init__(batch_size=batch_size, **queue)
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"url {url!r}: expected an http:// or https:// URL")
        if "@" in urllib.parse.urlsplit(url).netloc:
            # Never echo it: the summary and the console would print the password.
            raise ValueError("url: a user name or password does not go in a pipeline file; use authorization_env")
        self.url = url
        self.timeout_s = float(timeout_s)
        self._headers = {"Content-Type": "application/json"}
        authorization = env_value(authorization_env, "authorization_env")
        if authorization is not None:
            self._headers["Authorization"] = authorization

    @staticmethod
    def body(batch: list[Item]) -> bytes:
        """The request body of ``batch``: a JSON array of its records."""
        return ("[" + ",".join(line for _, line in batch) + "]").encode("utf-8")

    def deliver(self, batch: list[Item]) -> None:
        request = urllib.request.Request(self.url, data=self.body(batch), headers=self._headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                answer.read()
        except urllib.error.HTTPError as exc:
            message = f"{self.url}: HTTP {exc.code} {exc.reason}"
            raise DeliveryError(message, permanent=exc.code not in _RETRY_STATUSES) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DeliveryError(f"{self.url}: {reason}") from None
