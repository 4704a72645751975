"""Where records go besides ``outputs.events``: the sinks of ``outputs.sinks``.

* `orchestrator.sinks.base`: `Sink`, the base of every sink plugin, and `SinkStats`;
* `orchestrator.sinks.queued`: `QueuedSink`, the bounded queue and worker thread of network sinks;
* `orchestrator.sinks.jsonl`, `.mqtt`, `.webhook`: the built-in sinks ``jsonl``, ``mqtt``, ``webhook``;
* `orchestrator.sinks.fanout`: `SinkSet`, one run's events file and sinks, and the summary's ``sinks`` counts.

Sink plugins are named in the registry `orchestrator.registry.SINKS` (entry point group
``orchestrator.sinks``); a plugin imports `orchestrator.sinks.base` (or ``.queued``), never the
pipeline loader.
"""

from orchestrator.sinks.base import Sink, SinkStats

__all__ = ["Sink", "SinkStats"]
