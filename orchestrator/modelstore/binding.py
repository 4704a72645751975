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

from typing import TypeVar

from detectors.modelfiles import UsesModelFiles
from orchestrator.modelstore.store import ModelStore

D = TypeVar("D")


def bind_model_files(detector: D, store: ModelStore | None = None) -> D:
    """Give ``detector`` its model's installed files (if it uses any); returns ``detector``.

    Args:
        detector: a constructed detector plugin.
        store: where the files are installed; default `ModelStore()` (``$ORCHESTRATOR_MODELS``, ...).

    Raises:
        UserError: the model is not installed (naming the command that installs it), or unknown to the store.
    """
    if not isinstance(detector, UsesModelFiles) or not detector.model_name:
        return detector
    files = (store or ModelStore()).installed(detector.model_name).model_files()
    if getattr(detector, "runtime", None) == "tf":
        from orchestrator.tflogs import import_tensorflow

        import_tensorflow()  # before the plugin does, so TensorFlow's start-up lines stay quiet
    detector.bind_model_files(files)
    return detector
