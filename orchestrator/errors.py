"""Errors that reach the user as one line, never as a traceback."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input (file, field or value); the CLI prints it on one line.

    ``exit_code`` is what the CLI exits with: 2 for bad input, 1 for a failed run.
    """

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class PipelineError(UserError):
    """The run failed part way (a detector raised, the source broke); outputs written so far stay valid."""

    exit_code = 1
