"""Model manifests: what a model is, where it comes from and how to convert it.

A manifest is a small YAML file (schema: ``orchestrator/schemas/model_manifest.schema.json``)
naming the npm package, version and sha512 integrity of its tarball, the files to take from it,
labels, input tensor and size, outputs, and the precisions it may be converted to. The shipped
manifests are package data (``orchestrator/modelstore/manifests/*.yaml``), found with
`importlib.resources`, so an installed wheel has them too.

Example:
    >>> manifests = load_manifests(packaged_manifests_dir())
    >>> sorted(manifests)
    ['hands.egohands', 'objects.coco.centernet']
    >>> hands = manifests["hands.egohands"]
    >>> hands.spec, hands.tarball_name, hands.input_shape
    ('handtrackjs@0.0.13', 'handtrackjs-0.0.13.tgz', [1, 300, 300, 3])
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
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
class ModelManifest:
    """One manifest file, validated.

    ``input_size`` is ``(width, height)`` in pixels; ``precisions`` are those the model may be
    built at (``fp32`` always, ``int8`` where its accuracy holds); ``path`` is the file read.
    """

    name: str
    package: str
    version: str
    integrity: str
    licence: str
    source: str
    graph: str
    files: tuple[str, ...] = field(repr=False)
    labels: tuple[str, ...] = field(repr=False)
    input_tensor: str
    input_size: tuple[int, int]
    outputs: tuple[str, ...]
    precisions: tuple[str, ...]
    path: Path
    description: str = ""

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
        if data["graph"] not in data["files"]:
            raise UserError(f"{path}: graph: {data['graph']!r} is not one of the listed files")
        return cls(
            name=data["name"],
            package=data["package"],
            version=str(data["version"]),
            integrity=data["integrity"],
            licence=data["licence"],
            source=data["source"],
            graph=data["graph"],
            files=tuple(data["files"]),
            labels=tuple(data["labels"]),
            input_tensor=data["input"]["tensor"],
            input_size=(int(data["input"]["size"][0]), int(data["input"]["size"][1])),
            outputs=tuple(data["outputs"]),
            precisions=tuple(data["precisions"]),
            path=path,
            description=data.get("description", ""),
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
