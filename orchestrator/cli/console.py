"""Messages for people on stderr, and a quiet stdout once its reader has gone away."""

from __future__ import annotations

import os
import sys


def eprint(message: str) -> None:
    """Print ``message`` to stderr and flush (records own stdout)."""
    print(message, file=sys.stderr, flush=True)


def silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's exit flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
