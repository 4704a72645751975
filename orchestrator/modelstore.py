"""The model cache: pinned npm packages in, converted LiteRT/TensorFlow models out.

Each model has a manifest ``models/<something>.yaml`` (see
``orchestrator/schemas/model_manifest.schema.json``): the npm package, version and sha512
integrity of its tarball, the files to take from it, labels, input tensor and size, outputs,
and the precisions it may be converted to. Installing a model means:

1. check the tarball's sha512 against the pinned integrity, before reading anything in it;
2. extract only the listed files, refusing absolute paths, ``..``, links and devices;
3. load the tfjs graph (`detectors.tfjs`), cut it to the manifest's input and outputs, and
   write ``graph.pb`` (runtime ``tf``) and ``model.fp32.tflite`` (runtime ``litert``);
4. record the sha256 of each runtime file in ``installed.json`` and move the finished folder
   into place with a rename, so the cache never holds a half-written model.

The cache is ``models/cache/`` in the repository unless ``ORCHESTRATOR_MODELS`` names another
folder.

Example:
    >>> store = ModelStore()  # doctest: +SKIP
    >>> store.import_tarballs(["../shared/npm/handtrackjs-0.0.13.tgz"])  # doctest: +SKIP
    [InstalledModel(name='hands.egohands', ...)]
    >>> store.installed("hands.egohands").runtime_file("litert", "fp32").name  # doctest: +SKIP
    'model.fp32.tflite'
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from orchestrator.errors import UserError

#: The repository root: the parent of the ``orchestrator`` package.
REPO_ROOT = Path(__file__).resolve().parent.parent
#: Where the manifests live.
MANIFESTS_DIR = REPO_ROOT / "models"
#: Environment variable overriding the cache folder.
ENV_VAR = "ORCHESTRATOR_MODELS"
INSTALLED_FILE = "installed.json"
GRAPH_FILE = "graph.pb"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
INSTALL_HINT = (
    "run `python -m orchestrator models import ../shared/npm/*.tgz` (or `python -m orchestrator models pull`)"
)


def default_cache_dir() -> Path:
    """``$ORCHESTRATOR_MODELS`` if set, else ``models/cache`` in the repository."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else REPO_ROOT / "models" / "cache"


def tflite_file(precision: str) -> str:
    """The LiteRT file name for a precision: ``model.fp32.tflite``, ``model.int8.tflite``."""
    return f"model.{precision}.tflite"


# --------------------------------------------------------------------------- manifests
@dataclass(frozen=True)
class ModelManifest:
    """One ``models/*.yaml`` file, validated."""

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
        """Read and validate one manifest; errors name the file and the field."""
        import jsonschema
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise UserError(f"{path}: cannot read model manifest ({str(exc).splitlines()[0]})") from None
        schema = json.loads((REPO_ROOT / "orchestrator" / "schemas" / "model_manifest.schema.json").read_text())
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
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


# --------------------------------------------------------------------------- installed models
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
        """Installed LiteRT precisions, e.g. ``("fp32", "int8")``."""
        return tuple(p for p in ("fp32", "int8") if tflite_file(p) in self.record.get("files", {}))

    def runtime_file(self, runtime: str, precision: str = "fp32") -> Path:
        """The file a runtime loads: ``graph.pb`` for ``tf``, ``model.<precision>.tflite`` for ``litert``.

        Raises `UserError` naming the command that makes a missing file.

        Example:
            >>> installed.runtime_file("litert", "int8")  # doctest: +SKIP
            PosixPath('models/cache/hands.egohands/model.int8.tflite')
        """
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


# --------------------------------------------------------------------------- helpers
def sri_sha512(path: Path) -> str:
    """The SRI string (``sha512-<base64>``) of a file, as npm's ``dist.integrity`` has it."""
    digest = hashlib.sha512()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return "sha512-" + base64.b64encode(digest.digest()).decode("ascii")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _unsafe_reason(member: tarfile.TarInfo) -> str | None:
    parts = PurePosixPath(member.name).parts
    if member.name.startswith(("/", "\\")) or (parts and ":" in parts[0]):
        return "absolute path"
    if ".." in parts:
        return "path with .."
    if member.issym() or member.islnk():
        return "link"
    if member.isdev():
        return "device or fifo"
    if not (member.isfile() or member.isdir()):
        return "not a regular file"
    return None


def extract_members(tarball: Path, manifest: ModelManifest, dest: Path) -> None:
    """Extract the manifest's files from ``tarball`` into ``dest`` (flat), refusing unsafe tarballs.

    Every member is checked, not only the wanted ones: one absolute path, ``..``, link or device
    anywhere means the tarball is not what npm makes, and nothing is taken from it.
    """
    wanted = {manifest.source + name: name for name in manifest.files}
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                reason = _unsafe_reason(member)
                if reason:
                    raise UserError(f"{tarball}: unsafe member {member.name!r} ({reason}); refusing the tarball")
            by_name = {m.name.removeprefix("./"): m for m in members}
            for member_name, file_name in wanted.items():
                member = by_name.get(member_name)
                if member is None or not member.isfile():
                    raise UserError(
                        f"{tarball}: missing model file {member_name} (needed by {manifest.name}; "
                        f"is this {manifest.spec}?)"
                    )
                source = tar.extractfile(member)
                if source is None:  # pragma: no cover - isfile() members always have data
                    raise UserError(f"{tarball}: cannot read {member_name}")
                with source, (dest / file_name).open("xb") as out:
                    shutil.copyfileobj(source, out)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise UserError(f"{tarball}: corrupt tarball ({exc or type(exc).__name__})") from None


def list_images(directory: Path) -> list[Path]:
    """Image files (jpg, jpeg, png, bmp) directly in ``directory``, sorted by name."""
    if not directory.is_dir():
        raise UserError(f"{directory}: not a folder of images")
    return sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def read_rgb(path: Path) -> Any:
    """Decode an image file to an RGB uint8 array; `UserError` naming the file if it cannot."""
    import cv2
    import numpy as np

    data = np.fromfile(str(path), dtype=np.uint8) if path.is_file() else None
    image = None
    if data is not None and data.size:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if image is None:
        raise UserError(f"{path}: cannot decode image (not a readable JPEG/PNG/BMP file)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


# --------------------------------------------------------------------------- the store
class ModelStore:
    """The model cache folder plus the manifests describing what may go in it.

    Args:
        root: the cache folder; default `default_cache_dir` (``$ORCHESTRATOR_MODELS`` or
            ``models/cache`` in the repository).
        manifests_dir: folder of ``*.yaml`` manifests; default ``models/`` in the repository.

    Example:
        >>> store = ModelStore()
        >>> sorted(store.manifests())
        ['hands.egohands', 'objects.coco.centernet']
    """

    def __init__(self, root: str | Path | None = None, manifests_dir: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.manifests_dir = Path(manifests_dir) if manifests_dir is not None else MANIFESTS_DIR
        self._manifests: dict[str, ModelManifest] | None = None

    # ---------------------------------------------------------------- manifests
    def manifests(self) -> dict[str, ModelManifest]:
        """All manifests, by model name (read once)."""
        if self._manifests is None:
            found: dict[str, ModelManifest] = {}
            for path in sorted(self.manifests_dir.glob("*.yaml")):
                manifest = ModelManifest.load(path)
                if manifest.name in found:
                    raise UserError(f"{path}: model {manifest.name!r} is also described by {found[manifest.name].path}")
                found[manifest.name] = manifest
            self._manifests = found
        return self._manifests

    def manifest(self, name: str) -> ModelManifest:
        """The manifest of ``name``; `UserError` listing the known models otherwise."""
        manifests = self.manifests()
        if name not in manifests:
            raise UserError(f"unknown model {name!r}; known models: {', '.join(sorted(manifests)) or '(none)'}")
        return manifests[name]

    # ---------------------------------------------------------------- installed models
    def installed(self, name: str) -> InstalledModel:
        """The installed model ``name``; `UserError` naming the command to install it otherwise.

        Example:
            >>> ModelStore(root="/nonexistent").installed("hands.egohands")  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            orchestrator.errors.UserError: model hands.egohands is not installed in /nonexistent; run `python -m ...
        """
        manifest = self.manifest(name)
        directory = self.root / name
        record_path = directory / INSTALLED_FILE
        if not record_path.is_file():
            raise UserError(f"model {name} is not installed in {self.root}; {INSTALL_HINT}")
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"{record_path}: unreadable install record ({exc}); {INSTALL_HINT}") from None
        return InstalledModel(manifest, directory, record)

    def list_models(self) -> list[ModelStatus]:
        """One status per manifest: installed or not, precisions, size on disk."""
        rows = []
        for name, manifest in sorted(self.manifests().items()):
            try:
                model = self.installed(name)
            except UserError:
                rows.append(ModelStatus(name, manifest.spec, installed=False))
                continue
            size = sum(p.stat().st_size for p in model.directory.iterdir() if p.is_file())
            rows.append(ModelStatus(name, manifest.spec, True, model.precisions, size, model.directory))
        return rows

    def verify(self, names: Sequence[str] = ()) -> list[ModelStatus]:
        """Re-hash every installed runtime file and compare with ``installed.json``.

        Problems (missing file, changed file, installed from another package version, not
        installed) are listed per model; `ModelStatus.ok` is true when there are none.
        """
        rows = []
        for status in self.list_models():
            if names and status.name not in names:
                continue
            if not status.installed:
                rows.append(ModelStatus(status.name, status.spec, False, problems=("not installed",)))
                continue
            model = self.installed(status.name)
            problems = []
            if model.record.get("integrity") != model.manifest.integrity:
                problems.append(
                    f"installed from {model.record.get('package')}@{model.record.get('version')}, "
                    f"manifest pins {model.manifest.spec}: re-import it"
                )
            for file_name, info in sorted(model.record.get("files", {}).items()):
                path = model.directory / file_name
                if not path.is_file():
                    problems.append(f"{path}: missing")
                elif sha256_file(path) != info.get("sha256"):
                    problems.append(f"{path}: sha256 differs from the install record (modified or corrupt)")
            rows.append(dataclasses.replace(status, problems=tuple(problems)))
        unknown = set(names) - {r.name for r in rows}
        if unknown:
            self.manifest(sorted(unknown)[0])
        return rows

    # ---------------------------------------------------------------- installing
    def import_tarballs(self, paths: Iterable[str | Path]) -> list[InstalledModel]:
        """Verify, extract, convert and install the models in these npm tarballs.

        A tarball is matched to manifests by its ``npm pack`` file name, or else by its
        integrity; it is checked against the pinned sha512 before anything is read from it.
        """
        installed = []
        for path in (Path(p) for p in paths):
            if not path.is_file():
                raise UserError(f"{path}: no such tarball")
            for manifest in self._manifests_for(path):
                installed.append(self._install(manifest.name, lambda out, m=manifest, t=path: self._convert(t, m, out)))
        return installed

    def _manifests_for(self, tarball: Path) -> list[ModelManifest]:
        manifests = list(self.manifests().values())
        digest = sri_sha512(tarball)
        by_name = [m for m in manifests if m.tarball_name == tarball.name]
        if by_name:
            wrong = [m for m in by_name if m.integrity != digest]
            if wrong:
                m = wrong[0]
                raise UserError(
                    f"{tarball}: integrity mismatch for {m.spec}: expected {m.integrity}, got {digest} "
                    f"(not the pinned package; fetch it again with `npm pack {m.spec}`)"
                )
            return by_name
        by_digest = [m for m in manifests if m.integrity == digest]
        if by_digest:
            return by_digest
        known = ", ".join(sorted({m.tarball_name for m in manifests}))
        raise UserError(f"{tarball}: not a known model package (sha512 matches no manifest); expected one of: {known}")

    def _convert(self, tarball: Path, manifest: ModelManifest, out: Path) -> dict[str, Any]:
        from detectors import litert, tfjs

        src = out.parent / "src"
        src.mkdir()
        extract_members(tarball, manifest, src)
        try:
            graph_def = tfjs.load_graph_def(src / manifest.graph)
            graph_def = tfjs.cut_graph(graph_def, {manifest.input_tensor: manifest.input_shape}, manifest.outputs)
            (out / GRAPH_FILE).write_bytes(graph_def.SerializeToString())
            flatbuffer = litert.convert(graph_def, {manifest.input_tensor: manifest.input_shape}, manifest.outputs)
        except UserError as exc:
            message = str(exc).replace(str(src) + os.sep, f"{tarball}:{manifest.source}")
            raise UserError(message) from exc
        (out / tflite_file("fp32")).write_bytes(flatbuffer)
        return {"source": {"tarball": tarball.name}}

    def quantize(self, name: str, calibration_images: str | Path, count: int = 100) -> InstalledModel:
        """Build ``model.int8.tflite``: full-int8 post-training quantization, float input and output.

        ``count`` images, evenly spread over the sorted folder, calibrate the activation ranges;
        they get the plugin's preprocessing (RGB, bilinear stretch to the input size, 0..255).

        Example:
            >>> ModelStore().quantize("hands.egohands", "../shared/data/egohands/train")  # doctest: +SKIP
        """
        manifest = self.manifest(name)
        if "int8" not in manifest.precisions:
            raise UserError(
                f"model {name} cannot be quantized: int8 is not supported for it (its manifest {manifest.path.name} "
                f"offers {', '.join(manifest.precisions)}); use precision: fp32"
            )
        if count < 1:
            raise UserError(f"--count must be at least 1, got {count}")
        current = self.installed(name)
        images = list_images(Path(calibration_images))
        if not images:
            raise UserError(f"{calibration_images}: no calibration images (jpg, jpeg, png, bmp) found")
        if len(images) > count:
            step = len(images) / count
            images = [images[int(i * step)] for i in range(count)]

        def build(out: Path) -> dict[str, Any]:
            from detectors import litert, tfjs
            from detectors.ops import resize_bilinear

            def samples() -> Iterator[list[Any]]:
                for path in images:
                    yield [resize_bilinear(read_rgb(path), manifest.input_size)[None]]

            graph_def = tfjs.read_graph_def(current.directory / GRAPH_FILE)
            for image in images:  # fail on an unreadable image before the converter swallows it
                read_rgb(image)
            inputs = {manifest.input_tensor: manifest.input_shape}
            flatbuffer = litert.convert(graph_def, inputs, manifest.outputs, calibration=samples)
            for file_name in current.record.get("files", {}):
                if file_name != tflite_file("int8"):
                    _link_or_copy(current.directory / file_name, out / file_name)
            (out / tflite_file("int8")).write_bytes(flatbuffer)
            return {
                "source": current.record.get("source", {}),
                "int8": {"calibration_images": str(Path(calibration_images).resolve()), "count": len(images)},
            }

        return self._install(name, build)

    def pull(self, names: Sequence[str] = (), npm: str = "npm") -> list[InstalledModel]:
        """``npm pack`` each model's pinned package into a temporary folder, then `import_tarballs`."""
        manifests = [self.manifest(n) for n in names] if names else list(self.manifests().values())
        executable = shutil.which(npm)
        if executable is None:
            raise UserError(
                f"{npm} not found: install Node.js, or fetch the tarballs elsewhere and run "
                "`python -m orchestrator models import TARBALL...`"
            )
        installed = []
        with tempfile.TemporaryDirectory(prefix="orchestrator-pull-") as tmp:
            for index, spec in enumerate(sorted({m.spec for m in manifests})):
                folder = Path(tmp) / str(index)
                folder.mkdir()
                result = subprocess.run(
                    [executable, "pack", spec, "--silent"], cwd=folder, capture_output=True, text=True, check=False
                )
                if result.returncode != 0:
                    last = (result.stderr.strip().splitlines() or ["no output"])[-1]
                    raise UserError(f"npm pack {spec} failed (exit {result.returncode}): {last}")
                installed.extend(self.import_tarballs(sorted(folder.glob("*.tgz"))))
        return installed

    def _install(self, name: str, build: Callable[[Path], dict[str, Any]]) -> InstalledModel:
        """Run ``build(out_dir)`` in a temporary folder inside the cache, record hashes, rename into place."""
        import tensorflow as tf

        manifest = self.manifest(name)
        self.root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=self.root))
        try:
            out = work / "model"
            out.mkdir()
            extra = build(out)
            files = {p.name: {"sha256": sha256_file(p), "bytes": p.stat().st_size} for p in sorted(out.iterdir())}
            record = {
                "name": name,
                "package": manifest.package,
                "version": manifest.version,
                "integrity": manifest.integrity,
                "manifest": manifest.path.name,
                "input": {"tensor": manifest.input_tensor, "size": list(manifest.input_size)},
                "outputs": list(manifest.outputs),
                "tensorflow": tf.__version__,
                "installed_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                **extra,
                "files": files,
            }
            (out / INSTALLED_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
            _replace_dir(out, self.root / name)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return self.installed(name)


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``; an existing ``target`` is swapped out first and removed after."""
    old = None
    if target.exists():
        old = target.with_name(f".old-{target.name}-{uuid.uuid4().hex[:8]}")
        target.rename(old)
    try:
        new.rename(target)
    except BaseException:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- module-level API
def pull(names: Sequence[str] = (), npm: str = "npm") -> list[InstalledModel]:
    """`ModelStore.pull` on the default store."""
    return ModelStore().pull(names, npm)


def import_tarballs(paths: Iterable[str | Path]) -> list[InstalledModel]:
    """`ModelStore.import_tarballs` on the default store."""
    return ModelStore().import_tarballs(paths)


def list_models() -> list[ModelStatus]:
    """`ModelStore.list_models` on the default store."""
    return ModelStore().list_models()


def verify(names: Sequence[str] = ()) -> list[ModelStatus]:
    """`ModelStore.verify` on the default store."""
    return ModelStore().verify(names)


def quantize(name: str, calibration_images: str | Path, count: int = 100) -> InstalledModel:
    """`ModelStore.quantize` on the default store."""
    return ModelStore().quantize(name, calibration_images, count)


def installed_model(name: str) -> InstalledModel:
    """`ModelStore.installed` on the default store (what the detector plugins call in ``load``)."""
    return ModelStore().installed(name)
