"""TensorFlow's own start-up and C++ log lines, kept off the user's terminal.

TensorFlow prints CUDA probing (``failed call to cuInit`` on a CPU machine), CPU-feature notes
and the converter's ``I0000``/``W0000`` lines straight to file descriptor 2. Two measures, in
this one place:

* `quiet_environment` sets ``TF_CPP_MIN_LOG_LEVEL=3`` (unless the user set it: ``0`` shows
  everything again); `orchestrator` calls it on import, before anything can import TensorFlow.
  Real failures still reach the user as Python exceptions with their messages.
* `import_tensorflow` imports TensorFlow with descriptor 2 sent to a temporary file, because
  a few lines are written before TensorFlow reads that variable, and `stderr_captured` does the
  same around a conversion; if the block fails, what was captured is written to stderr before
  the exception propagates.
* `litert_notes_dropped` sends descriptor 2 to a temporary file while detectors load and then
  writes back every line but LiteRT's ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.``
  (printed when an interpreter is made; no setting of LiteRT's Python API turns it off).

Example:
    >>> quiet_environment()["TF_CPP_MIN_LOG_LEVEL"] in {"0", "1", "2", "3"}
    True
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from types import ModuleType
from typing import Any

#: Variables set (when unset) before TensorFlow is imported.
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3"}


def quiet_environment(environ: MutableMapping[str, str] = os.environ) -> MutableMapping[str, str]:
    """Set `QUIET_ENV` in ``environ`` where the user has not set the variable; returns ``environ``."""
    for key, value in QUIET_ENV.items():
        environ.setdefault(key, value)
    return environ


@contextmanager
def stderr_captured() -> Iterator[None]:
    """Send file descriptor 2 to a temporary file for the block; replay it to stderr if the block raises.

    For the converter's C++ lines (``fully_quantize: 0, ...``), which no setting turns off.
    """
    sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", "replace"))
            sys.stderr.flush()
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_tensorflow() -> ModuleType:
    """``import tensorflow`` with its start-up lines on descriptor 2 swallowed (replayed if the import fails)."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    quiet_environment()
    with stderr_captured():
        import tensorflow
    return tensorflow


#: Lines LiteRT writes when an interpreter is made, dropped by `litert_notes_dropped`.
LITERT_NOTES = ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",)

# The captures of `litert_notes_dropped` now in force (innermost last), for `release_stderr`.
_CAPTURES: list[dict[str, Any]] = []


@contextmanager
def litert_notes_dropped() -> Iterator[None]:
    """Send file descriptor 2 to a temporary file for the block, then write back all of it but `LITERT_NOTES`.

    Anything else written meanwhile (by any thread) reaches stderr after the block, in order;
    nothing is lost when the block raises, or when the process must exit during the block
    (`release_stderr`).
    """
    sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        state = {"saved": os.dup(2), "file": captured, "done": False}
        os.dup2(captured.fileno(), 2)
        _CAPTURES.append(state)
        try:
            yield
        finally:
            _release(state)
            _CAPTURES.remove(state)


def release_stderr() -> None:
    """End every `litert_notes_dropped` capture now: descriptor 2 back, what it kept written out.

    For a process about to exit without unwinding (``os._exit`` on a second Ctrl-C while models load).
    """
    for state in reversed(list(_CAPTURES)):
        _release(state)


def _release(state: dict[str, Any]) -> None:
    if state["done"]:
        return
    state["done"] = True
    sys.stderr.flush()
    os.dup2(state["saved"], 2)
    os.close(state["saved"])
    captured = state["file"]
    captured.seek(0)
    kept = [
        line
        for line in captured.read().decode("utf-8", "replace").splitlines(keepends=True)
        if line.rstrip("\r\n") not in LITERT_NOTES
    ]
    if kept:
        sys.stderr.write("".join(kept))
        sys.stderr.flush()
