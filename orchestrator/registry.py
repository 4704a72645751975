"""Named registries of plugins: the built-in table, entry points, dotted paths.

One `Registry` per plugin kind (detectors, trackers, sinks). A name is looked up in this order:

1. built-ins, listed here by the application (name → ``module:Class``) and imported on first
   lookup; the plugin modules themselves know nothing of this registry;
2. installed distributions' entry points in the registry's group (``orchestrator.detectors``);
3. a dotted path ``package.module:ClassName``, imported on demand.

An application embedding the orchestrator may also `Registry.register` its own classes.
A name registered twice is an error, wherever the two come from; a failed lookup lists the
valid names.

Example:
    >>> from orchestrator.registry import Registry
    >>> COLOURS = Registry("colour", entry_point_group=None, builtins={"ordered": "collections:OrderedDict"})
    >>> @COLOURS.register("red")
    ... class Red: ...
    >>> COLOURS.get("red").obj is Red, COLOURS.get("ordered").origin
    (True, 'built-in')
"""

from __future__ import annotations

import importlib
import importlib.metadata
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from orchestrator.errors import RegistryError

T = TypeVar("T")

BUILTIN = "built-in"
ENTRY_POINT = "entry point"
DOTTED_PATH = "dotted path"



@dataclass(frozen=True)
class Registered(Generic[T]):
    """A registered plugin and where it came from (``built-in``, ``entry point``, ``dotted path``)."""

    name: str
    obj: T
    origin: str
    source: str  # module path, or "distribution==version" for entry points


class Registry(Generic[T]):
    """A name → plugin table for one kind of plugin."""

    def __init__(
        self,
        kind: str,
        entry_point_group: str | None,
        builtins: Mapping[str, str] | None = None,
        check: Callable[[Any], str | None] | None = None,
    ) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._builtins = dict(builtins or {})
        self._check = check
        self._entries: dict[str, Registered[T]] = {}
        self._lock = threading.RLock()
        self._builtins_loaded = False
        self._entry_points_loaded = False

    # ------------------------------------------------------------ registration
    def register(self, name: str) -> Callable[[T], T]:
        """Class decorator registering a built-in plugin under ``name``."""
        if not name or not isinstance(name, str):
            raise RegistryError(f"{self.kind} plugin name must be a non-empty string, got {name!r}")

        def decorator(obj: T) -> T:
            self.add(name, obj, BUILTIN, getattr(obj, "__module__", "?"))
            return obj

        return decorator

    def add(self, name: str, obj: T, origin: str, source: str) -> Registered[T]:
        """Register ``obj``; raises `RegistryError` if ``name`` is taken."""
        if self._check is not None:
            problem = self._check(obj)
            if problem:
                raise RegistryError(f"{self.kind} plugin {name!r} from {source}: {problem}")
        with self._lock:
            existing = self._entries.get(name)
            if existing is not None:
                raise RegistryError(
                    f"duplicate {self.kind} plugin name {name!r}: registered by {existing.source} "
                    f"({existing.origin}) and again by {source} ({origin})"
                )
            entry = Registered(name, obj, origin, source)
            self._entries[name] = entry
            return entry

    # ------------------------------------------------------------ discovery
    def _load_builtins(self) -> None:
        if self._builtins_loaded:
            return
        self._builtins_loaded = True
        for name, path in self._builtins.items():
            module_name, _, attr = path.partition(":")
            obj = getattr(importlib.import_module(module_name), attr)
            self.add(name, obj, BUILTIN, module_name)

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded or self.entry_point_group is None:
            return
        self._entry_points_loaded = True
        for ep in sorted(importlib.metadata.entry_points(group=self.entry_point_group), key=lambda e: e.name):
            dist = f"{ep.dist.name}=={ep.dist.version}" if ep.dist else ep.value
            try:
                obj = ep.load()
            except Exception as exc:  # a broken third-party plugin must not hide which one it is
                raise RegistryError(
                    f"{self.kind} plugin {ep.name!r} (entry point {ep.value} from {dist}) failed to import: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            with self._lock:
                existing = self._entries.get(ep.name)
                # The same object reached twice (an editable install of a built-in) is not a clash.
                if existing is not None and existing.obj is obj:
                    continue
            self.add(ep.name, obj, ENTRY_POINT, dist)

    def discover(self) -> None:
        """Import built-ins and entry points (idempotent)."""
        with self._lock:
            self._load_builtins()
            self._load_entry_points()

    # ------------------------------------------------------------ lookup
    def names(self) -> list[str]:
        """Registered names (built-ins and entry points), sorted."""
        self.discover()
        return sorted(self._entries)

    def entries(self) -> list[Registered[T]]:
        """Registered plugins, sorted by name."""
        self.discover()
        return [self._entries[name] for name in sorted(self._entries)]

    def get(self, name: str) -> Registered[T]:
        """Look ``name`` up; ``package.module:Class`` is imported on demand.

        Raises `RegistryError` naming the valid names when nothing matches.
        """
        self.discover()
        with self._lock:
            if name in self._entries:
                return self._entries[name]
        if ":" in name:
            return self._load_dotted(name)
        valid = ", ".join(self.names()) or "(none)"
        raise RegistryError(
            f"unknown {self.kind} plugin {name!r}; valid names: {valid}; or give a dotted path package.module:ClassName"
        )

    def _load_dotted(self, path: str) -> Registered[T]:
        module_name, _, attr = path.partition(":")
        if not module_name or not attr:
            raise RegistryError(f"{self.kind} plugin path {path!r} must look like package.module:ClassName")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise RegistryError(
                f"{self.kind} plugin {path!r}: cannot import module {module_name!r}: {type(exc).__name__}: {exc}"
            ) from exc
        obj: Any = module
        for part in attr.split("."):
            if not hasattr(obj, part):
                raise RegistryError(f"{self.kind} plugin {path!r}: module {module_name!r} has no attribute {attr!r}")
            obj = getattr(obj, part)
        if self._check is not None:
            problem = self._check(obj)
            if problem:
                raise RegistryError(f"{self.kind} plugin {path!r}: {problem}")
        # Dotted paths are not added to the table: the same path may be used by several pipelines.
        return Registered(path, obj, DOTTED_PATH, module_name)


def _check_detector(obj: Any) -> str | None:
    from detectors.detector import Detector

    if not (isinstance(obj, type) and issubclass(obj, Detector)):
        return f"{obj!r} is not a subclass of detectors.detector.Detector"
    return None


def _check_tracker(obj: Any) -> str | None:
    from trackers.tracker import Tracker

    if not (isinstance(obj, type) and issubclass(obj, Tracker)):
        return f"{obj!r} is not a subclass of trackers.tracker.Tracker"
    return None


#: The built-in detector plugins: name → ``module:Class``.
BUILTIN_DETECTORS: dict[str, str] = {
    "hands.egohands": "detectors.egohands:EgoHandsDetector",
    "hands.mediapipe": "detectors.mediapipe.detector:MediaPipeHandsDetector",
    "hands.mediapipe.landmarks": "detectors.mediapipe.stage:LandmarkStage",
    "objects.coco.centernet": "detectors.centernet:CenterNetDetector",
    "testing.noop": "detectors.testing:NoopDetector",
    "testing.scripted": "detectors.testing:ScriptedDetector",
}

#: The built-in tracker plugins: name → ``module:Class``.
BUILTIN_TRACKERS: dict[str, str] = {
    "none": "trackers.none:NoTracker",
    "sort": "trackers.sort:SortTracker",
}

#: Detector plugins: the built-ins, then the ``orchestrator.detectors`` entry point group.
DETECTORS: Registry[Any] = Registry(
    "detector", entry_point_group="orchestrator.detectors", builtins=BUILTIN_DETECTORS, check=_check_detector
)

#: Tracker plugins: the built-ins, then the ``orchestrator.trackers`` entry point group.
TRACKERS: Registry[Any] = Registry(
    "tracker", entry_point_group="orchestrator.trackers", builtins=BUILTIN_TRACKERS, check=_check_tracker
)


def _check_sink(obj: Any) -> str | None:
    from orchestrator.sinks.base import check_sink

    return check_sink(obj)


#: The built-in sinks of ``outputs.sinks``: name → ``module:Class``.
BUILTIN_SINKS: dict[str, str] = {
    "jsonl": "orchestrator.sinks.jsonl:JsonlFileSink",
    "mqtt": "orchestrator.sinks.mqtt:MqttSink",
    "webhook": "orchestrator.sinks.webhook:WebhookSink",
}

#: Sinks: the built-ins, then the ``orchestrator.sinks`` entry point group.
SINKS: Registry[Any] = Registry(
    "sink", entry_point_group="orchestrator.sinks", builtins=BUILTIN_SINKS, check=_check_sink
)
