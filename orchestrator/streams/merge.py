"""Merge the records of several streams, each produced in its own thread, into one sequence.

Every stream has a bounded queue. In ``ordered`` mode (deterministic runs) the merge is a k-way
merge on each record's *progress*, the highest frame index its stream has reached (records of one
frame, and relation records about earlier frames emitted there, share it), ties broken by stream
order: it waits until every live stream has a record ready, so the merged sequence depends only
on each stream's own records, never on thread timing. Unordered (realtime), records go out as
they arrive and a slow stream never holds up another.

Example:
    >>> merger = RecordMerger(["a", "b"], ordered=True)
    >>> for name, frame in [("b", 0), ("a", 0), ("b", 1), ("a", 1)]:
    ...     _ = merger.put(name, {"frame": frame})
    >>> merger.end("a"); merger.end("b")
    >>> [(name, record["frame"]) for name, record in iter(merger.next, None)]
    [('a', 0), ('b', 0), ('a', 1), ('b', 1)]
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

#: How often a waiting side looks again (a stop, a closed merger) while nothing arrives.
_POLL_S = 0.05


class RecordMerger:
    """Per-stream bounded queues of records, read in one merged sequence by `next`.

    Args:
        names: the streams, in the order that breaks ties.
        ordered: deterministic merge (see the module docstring); else first come, first out.
        capacity: records each stream's queue holds before its `put` waits.
    """

    def __init__(self, names: Sequence[str], ordered: bool, capacity: int = 256) -> None:
        self.names = list(names)
        self.ordered = ordered
        self.capacity = capacity
        self._queues: dict[str, deque[tuple[int, int, dict[str, Any]]]] = {name: deque() for name in self.names}
        self._progress = dict.fromkeys(self.names, -1)
        self._ended: set[str] = set()
        self._arrivals = 0
        self._closed = False
        self._cond = threading.Condition()

    def put(self, name: str, record: dict[str, Any]) -> bool:
        """Queue ``record`` of stream ``name``, waiting (bounded polls) while its queue is full.

        Returns False, without queueing, once the merger is closed (nobody reads any more).
        """
        with self._cond:
            while len(self._queues[name]) >= self.capacity and not self._closed:
                self._cond.wait(_POLL_S)
            if self._closed:
                return False
            frame = record.get("frame")
            if isinstance(frame, int):
                self._progress[name] = max(self._progress[name], frame)
            self._queues[name].append((self._progress[name], self._arrivals, record))
            self._arrivals += 1
            self._cond.notify_all()
            return True

    def end(self, name: str) -> None:
        """Stream ``name`` has no more records."""
        with self._cond:
            self._ended.add(name)
            self._cond.notify_all()

    def close(self) -> None:
        """Nobody reads any more: waiting `put` calls return False."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def open_streams(self) -> list[str]:
        """Streams not ended, in order."""
        with self._cond:
            return [name for name in self.names if name not in self._ended]

    def next(self, give_up: Callable[[], bool] = lambda: False) -> tuple[str, dict[str, Any]] | None:
        """The next ``(stream, record)``; None when every stream has ended and its records are out.

        Waits in bounded polls; returns None also once ``give_up()`` is true (streams that have not
        ended then are left behind: see `open_streams`).
        """
        with self._cond:
            while True:
                chosen = self._choose()
                if chosen is not None:
                    self._cond.notify_all()  # room in that queue
                    return chosen, self._queues[chosen].popleft()[2]
                if all(name in self._ended and not self._queues[name] for name in self.names):
                    return None
                if give_up():
                    return None
                self._cond.wait(_POLL_S)

    def _choose(self) -> str | None:
        ready = [name for name in self.names if self._queues[name]]
        if not ready:
            return None
        if not self.ordered:
            return min(ready, key=lambda name: self._queues[name][0][1])
        if any(not self._queues[name] and name not in self._ended for name in self.names):
            return None  # a live stream's next record could still come first
        return min(ready, key=lambda name: (self._queues[name][0][0], self.names.index(name)))
