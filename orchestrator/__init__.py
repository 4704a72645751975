"""Real-time hands-and-objects pipelines.

Heavy modules load on first use, so ``import orchestrator`` (and the plugin registry that
detector plugins import) stays cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"
