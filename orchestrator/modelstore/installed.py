"""An installed model: its folder in the cache, the record written at install time, its files.

A converted model's folder holds ``graph.pb`` (runtime ``tf``), ``model.fp32.tflite`` and, once
built, ``model.int8.tflite`` (runtime ``litert``); a model of ready LiteRT files holds one
``<role>.tflite`` per file (runtime ``litert``, fp32). Both have ``installed.json``: the source
package, the sha256 of every runtime file (and, for ready files, role and where each came from),
and how an int8 build was calibrated.

Example:
    >>> tflite_file("int8")
    'model.int8.tflite'

A converted model whose manifest lists ``input.other_sizes`` also holds a LiteRT fp32 build per
such size (``model.fp32.512x384.tflite``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detectors.modelfiles import PRECISIONS, ModelFiles
from orchestrator.errors import UserError
from orchestrator.modelstore.manifest import ModelManifest

INSTALLED_FILE = "installed.json"
GRAPH_FILE = "graph.pb"
RUNTIMES = ("litert", "tf")
INSTALL_HINT = (
    "run `python -m orchestrator models import ../shared/npm/*.tgz` (or `python -m orchestrator models pull`)"
)


def tflite_file(precision: str, size: tuple[int, int] | None = None) -> str:
    """The LiteRT file name for a precision, and an input size other than the model's own.

    Example:
        >>> tflite_file("fp32", (512, 384))
        'model.fp32.512x384.tflite'
    """
    return f"model.{precision}.tflite" if size is None else f"model.{precision}.{size[0]}x{size[1]}.tflite"


@dataclass(frozen=True)
class InstalledModel:
    """A converted model in the cache: its folder and the record written at install time."""

    manifest: ModelManifest = field(repr=False)
    directory: Path
    record: dict[str, Any] = field(repr=False)

    @property
    def name(self) -> str:
        """The model (and detector) name."""
        return self.manifest.name

    @property
    def precisions(self) -> tuple[str, ...]:
        """Installed LiteRT precisions, e.g. ``("fp32", "int8")``; ``("fp32",)`` once every ready file is there."""
        files = self.record.get("files", {})
        if not self.manifest.converted:
            return ("fp32",) if all(f.file_name in files for f in self.manifest.litert_files) else ()
        return tuple(p for p in PRECISIONS if tflite_file(p) in files)

    @property
    def package_spec(self) -> str:
        """``package@version`` the files were installed from (the install record's, else the manifest's)."""
        package, version = self.record.get("package"), self.record.get("version")
        if isinstance(package, str) and isinstance(version, str) and package and version:
            return f"{package}@{version}"
        return self.manifest.spec

    def role_files(self) -> dict[str, Path]:
        """Role → installed file, for a model of ready LiteRT files (empty for a converted model)."""
        return {f.role: self.directory / f.file_name for f in self.manifest.litert_files}

    def runtime_file(self, runtime: str, precision: str = "fp32") -> Path:
        """The file a runtime loads: ``graph.pb`` for ``tf``, ``model.<precision>.tflite`` for ``litert``.

        Raises:
            UserError: no such file; the message names the command that makes it (or, for a
                model of several ready files, says to ask for a file by role).

        Example:
            >>> installed.runtime_file("litert", "int8")  # doctest: +SKIP
            PosixPath('models/cache/hands.egohands/model.int8.tflite')
        """
        if not self.manifest.converted:
            roles = ", ".join(self.manifest.roles)
            raise UserError(
                f"{self.name}: this model is several LiteRT fp32 files, one per role ({roles}); "
                "a plugin gets each with ModelFiles.path_of(role)"
            )
        if runtime == "tf":
            if precision != "fp32":
                raise UserError(f"{self.name}: runtime tf runs float32 only; use runtime: litert for {precision}")
            return self.directory / GRAPH_FILE
        if runtime != "litert":
            raise UserError(f"{self.name}: unknown runtime {runtime!r}; valid: litert, tf")
        if precision not in self.manifest.precisions:
            valid = ", ".join(self.manifest.precisions)
            raise UserError(f"{self.name}: precision {precision} is not offered for this model; valid: {valid}")
        if precision not in self.precisions:
            raise UserError(
                f"{self.name}: precision {precision} is not built yet; run `python -m orchestrator models quantize "
                f"{self.name} --calibration-images DIR` first"
            )
        return self.directory / tflite_file(precision)

    def other_size_files(self) -> dict[tuple[int, int], Path]:
        """``(width, height)`` → the installed LiteRT fp32 build at that input size (those the record lists)."""
        files = self.record.get("files", {})
        return {
            size: self.directory / tflite_file("fp32", size)
            for size in self.manifest.other_sizes
            if tflite_file("fp32", size) in files
        }

    def model_files(self) -> ModelFiles:
        """The value a detector plugin loads from: a path, or the reason there is none, per (runtime, precision).

        Example:
            >>> installed.model_files().precisions  # doctest: +SKIP
            ('fp32', 'int8')
        """
        paths: dict[tuple[str, str], Path] = {}
        missing: dict[tuple[str, str], str] = {}
        for runtime in RUNTIMES:
            for precision in PRECISIONS:
                try:
                    paths[(runtime, precision)] = self.runtime_file(runtime, precision)
                except UserError as exc:
                    missing[(runtime, precision)] = str(exc)
        return ModelFiles(
            self.name,
            self.manifest.input_tensor,
            self.manifest.outputs,
            paths,
            missing,
            extra=self.role_files(),
            package=self.package_spec,
            input_size=self.manifest.input_size,
            other_sizes=self.other_size_files(),
        )


@dataclass(frozen=True)
class ModelStatus:
    """One row of `ModelStore.list_models` / `ModelStore.verify`."""

    name: str
    spec: str
    installed: bool
    precisions: tuple[str, ...] = ()
    size_bytes: int = 0
    directory: Path | None = None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Installed and every recorded file matches its sha256."""
        return self.installed and not self.problems
