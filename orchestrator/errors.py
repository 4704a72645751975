"""The application's exceptions, and the one table that maps every exception family to an exit code.

Families:

* `UserError`: a mistake in the user's input (file, field or value) → exit 2. `ConfigError`
  (a pipeline file's problems, one ``file:line: field: message`` line each) and `RegistryError`
  (an unknown or broken plugin) are user errors too.
* `PipelineError`: the run failed part way (a detector raised, the source broke); outputs
  written so far stay valid → exit 1.
* The libraries' own roots, `detectors.errors.DetectorError` (bad plugin parameters, a model
  file that cannot be loaded) and `trackers.errors.TrackerError`, → exit 2: they are raised
  while a run is set up, from what the user gave.

Example:
    >>> exit_code(PipelineError("detector 'hands' failed")), exit_code(ConfigError([]))
    (1, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

from detectors.errors import DetectorError
from trackers.errors import TrackerError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class OrchestratorError(Exception):
    """Root of the application's errors."""


class UserError(OrchestratorError):
    """A mistake in the user's input (file, field or value); the CLI prints it on one line."""


class PipelineError(OrchestratorError):
    """The run failed part way (a detector raised, the source broke); outputs written so far stay valid."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a pipeline file: where (file, 1-based line, dotted field path) and what."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path or '(top)'}: {self.message}"


class ConfigError(UserError):
    """A pipeline file has one or more problems; ``str()`` lists them one per line."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class RegistryError(UserError, LookupError):
    """A duplicate registration, an unknown plugin name, or a plugin that failed to import."""


class SinkClosed(OrchestratorError):
    """The reader of the output went away (a broken pipe)."""


#: Exception family → exit code, most specific first. Anything else is a bug and keeps its traceback.
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (PipelineError, EXIT_FAILED),
    (UserError, EXIT_USAGE),
    (DetectorError, EXIT_USAGE),
    (TrackerError, EXIT_USAGE),
)


def exit_code(exc: BaseException) -> int | None:
    """The exit code for ``exc``'s family, or ``None`` when it is not an expected failure."""
    for family, code in EXIT_CODES:
        if isinstance(exc, family):
            return code
    return None
