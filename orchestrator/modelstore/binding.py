"""Injection: hand a detector plugin the installed files of its model.

Detector plugins know nothing of the store. One that loads model files says so by having a
``model_name`` and a ``bind_model_files`` method (`detectors.modelfiles.UsesModelFiles`); the
application calls `bind_model_files` on every detector it creates, before ``load``. Others pass
through untouched.

Example:
    >>> from detectors.testing import NoopDetector
    >>> detector = NoopDetector()
    >>> bind_model_files(detector) is detector
    True
    >>> from detectors.egohands import EgoHandsDetector
    >>> bind_model_files(EgoHandsDetector(), ModelStore(root="/nonexistent"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    orchestrator.errors.UserError: model hands.egohands is not installed in /nonexistent; run `python -m ...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from detectors.modelfiles import UsesModelFiles
from orchestrator.errors import UserError
from orchestrator.modelstore.installed import INSTALL_HINT
from orchestrator.modelstore.store import ModelStore

D = TypeVar("D")


def bind_model_files(detector: D, store: ModelStore | None = None) -> D:
    """Give ``detector`` its model's installed files (if it uses any); returns ``detector``.

    Args:
        detector: a constructed detector plugin.
        store: where the files are installed; default `ModelStore()` (``$ORCHESTRATOR_MODELS``, ...).

    Raises:
        UserError: the model is not installed (naming the command that installs it), or unknown to the
            store, or a build at the detector's ``input_size`` that the manifest lists is missing.
    """
    if not isinstance(detector, UsesModelFiles) or not detector.model_name:
        return detector
    installed = (store or ModelStore()).installed(detector.model_name)
    files = installed.model_files()
    size = getattr(detector, "input_size", None)
    if size is not None and tuple(size) in installed.manifest.other_sizes and tuple(size) not in files.other_sizes:
        raise UserError(
            f"{detector.model_name}: the {size[0]}x{size[1]} build is not installed (the model was installed "
            f"before its manifest listed that size); {INSTALL_HINT}"
        )
    if getattr(detector, "runtime", None) == "tf":
        from orchestrator.tflogs import import_tensorflow

        import_tensorflow()  # before the plugin does, so TensorFlow's start-up lines stay quiet
    detector.bind_model_files(files)
    return detector


def input_size_problem(
    model_name: str, input_size: Sequence[int], runtime: str | None = None, store: ModelStore | None = None
) -> str | None:
    """Why a plugin of ``model_name`` cannot run at ``input_size`` (width, height) on ``runtime``, or None.

    The sizes are those the store's manifest builds: the model's own (any runtime) and its
    ``input.other_sizes`` (LiteRT only). A model the store does not know gives None.

    Example:
        >>> input_size_problem("objects.coco.centernet", [512, 384]) is None
        True
        >>> input_size_problem("objects.coco.centernet", [640, 480])  # doctest: +ELLIPSIS
        '[640, 480] is not a size the model store builds for objects.coco.centernet: [512, 512], [512, 384] ...'
    """
    manifest = (store or ModelStore()).manifests().get(model_name)
    if manifest is None:
        return None
    size = (int(input_size[0]), int(input_size[1]))
    if size == manifest.input_size:
        return None
    if size not in manifest.other_sizes:
        built = ", ".join(f"[{w}, {h}]" for w, h in (manifest.input_size, *manifest.other_sizes))
        return (
            f"{list(size)} is not a size the model store builds for {model_name}: {built} "
            "(another size goes in input.other_sizes of its manifest, then re-import the model)"
        )
    if runtime not in (None, "litert"):
        own = list(manifest.input_size)
        return f"{list(size)} runs on runtime litert only; runtime {runtime} runs {model_name} at its own {own}"
    return None


def bind_and_load(detector: D, store: ModelStore | None = None) -> D:
    """`bind_model_files`, then ``detector.load()`` with LiteRT's start-up note kept off stderr; returns ``detector``.

    Raises what `bind_model_files` and the plugin's ``load`` raise.
    """
    from orchestrator.tflogs import litert_notes_dropped

    bind_model_files(detector, store)
    with litert_notes_dropped():
        detector.load()  # type: ignore[attr-defined]
    return detector
