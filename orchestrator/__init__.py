"""Real-time hands-and-objects pipelines.

``orchestrator.run(pipeline, source=...)`` runs a pipeline from Python (see `orchestrator.api`);
``orchestrator.open(pipeline)`` gives one to drive with your own frames (see `orchestrator.embedding`).
Heavy modules load on first use, so ``import orchestrator`` (and the plugin registry that
detector plugins import) stays cheap.
"""

from __future__ import annotations

from typing import Any

from orchestrator.tflogs import quiet_environment

# TensorFlow's start-up and C++ log lines stay off the terminal (set before anything imports it).
quiet_environment()

__version__ = "0.1.0"
__all__ = ["FrameResult", "open", "run"]


def __getattr__(name: str) -> Any:
    if name == "run":
        from orchestrator.api import run

        return run
    if name == "FrameResult":
        from orchestrator.frame_results import FrameResult

        return FrameResult
    if name == "open":
        from orchestrator.embedding import open_pipeline

        return open_pipeline
    raise AttributeError(f"module 'orchestrator' has no attribute {name!r}")
