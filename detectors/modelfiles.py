"""What a model detector is given to load: its installed files, by runtime and precision, or by role.

The detector library does not know where models are stored or how they are installed. The
application resolves a plugin's files (from its model store) into a `ModelFiles` value and
hands it to the plugin with ``bind_model_files`` before `Detector.load`; a plugin that needs
such files says so by having a ``model_name`` and that method (`UsesModelFiles`).

Example:
    >>> from pathlib import Path
    >>> files = ModelFiles(
    ...     name="hands.egohands",
    ...     input_tensor="input:0",
    ...     outputs=("scores:0", "boxes:0"),
    ...     paths={("litert", "fp32"): Path("m/model.fp32.tflite"), ("tf", "fp32"): Path("m/graph.pb")},
    ...     missing={("litert", "int8"): "hands.egohands: precision int8 is not built yet"},
    ... )
    >>> files.precisions, files.path("tf", "fp32").name
    (('fp32',), 'graph.pb')
    >>> files.path("litert", "int8")
    Traceback (most recent call last):
    ...
    detectors.errors.ModelError: hands.egohands: precision int8 is not built yet

A model made of several ready LiteRT files (the MediaPipe palm detector and landmark models)
names each by its role in ``extra``; the plugin asks for them with `ModelFiles.path_of`:

    >>> mediapipe = ModelFiles(
    ...     name="hands.mediapipe",
    ...     input_tensor="",
    ...     outputs=(),
    ...     paths={},
    ...     extra={"palm_detection_full": Path("m/palm_detection_full.tflite")},
    ... )
    >>> mediapipe.roles, mediapipe.path_of("palm_detection_full").name
    (('palm_detection_full',), 'palm_detection_full.tflite')
    >>> mediapipe.path_of("palm_lite")
    Traceback (most recent call last):
    ...
    detectors.errors.ModelError: hands.mediapipe: no model file with role 'palm_lite'; roles: palm_detection_full
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from detectors.errors import ModelError

#: Precisions in the order `ModelFiles.precisions` lists them.
PRECISIONS = ("fp32", "int8")


@dataclass(frozen=True)
class ModelFiles:
    """The runtime files of one installed model, and how to feed and read it.

    Attributes:
        name: the model's name (the plugin's ``model_name``).
        input_tensor: the graph's input tensor name, e.g. ``"tower_0/images:0"``.
        outputs: the output tensor names, in the order the plugin reads them.
        paths: ``(runtime, precision)`` → the file that runtime loads (present on disk), e.g.
            ``("litert", "int8")`` → ``.../model.int8.tflite``, ``("tf", "fp32")`` → ``.../graph.pb``.
        missing: ``(runtime, precision)`` → a one-line reason why there is no such file and what
            makes it (written by whoever built this value).
        extra: role → file, for a model made of several ready files (each a LiteRT fp32
            flatbuffer), e.g. ``"palm_detection_full"`` → ``.../palm_detection_full.tflite``;
            empty for a single converted model. Read with `path_of`.
        package: ``package@version`` of the package the files came from (``handtrackjs@0.0.13``),
            for the plugin's `detectors.detector.Provenance`; empty when not known.
        input_size: ``(width, height)`` of the model's own input, the size of the files in
            ``paths``; None when not known.
        other_sizes: ``(width, height)`` → a LiteRT fp32 build of the same model at that input
            size (a fully convolutional model rebuilt with its size constants rescaled).

    Raises:
        ModelError: on construction, an empty ``name``, a ``paths``/``extra`` value that is not a
            `pathlib.Path`, or an empty role.
    """

    name: str
    input_tensor: str
    outputs: tuple[str, ...]
    paths: Mapping[tuple[str, str], Path] = field(repr=False)
    missing: Mapping[tuple[str, str], str] = field(default_factory=dict, repr=False)
    extra: Mapping[str, Path] = field(default_factory=dict, repr=False)
    package: str = ""
    input_size: tuple[int, int] | None = None
    other_sizes: Mapping[tuple[int, int], Path] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ModelError("ModelFiles: empty model name")
        for key, value in (*self.paths.items(), *self.extra.items(), *self.other_sizes.items()):
            if not isinstance(value, Path):
                raise ModelError(f"{self.name}: model file for {key!r} is {value!r}, not a pathlib.Path")
        if any(not isinstance(role, str) or not role for role in self.extra):
            raise ModelError(f"{self.name}: roles must be non-empty strings, got {sorted(map(repr, self.extra))}")
        object.__setattr__(self, "outputs", tuple(self.outputs))
        object.__setattr__(self, "paths", MappingProxyType(dict(self.paths)))
        object.__setattr__(self, "missing", MappingProxyType(dict(self.missing)))
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))
        object.__setattr__(self, "other_sizes", MappingProxyType(dict(self.other_sizes)))

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles of ``extra``, in the order the model's manifest lists them."""
        return tuple(self.extra)

    def path_of(self, role: str) -> Path:
        """The file with this role (one of `roles`), e.g. ``path_of("hand_landmark_full")``.

        Raises:
            ModelError: no file has that role; the message lists the roles there are.
        """
        if role in self.extra:
            return self.extra[role]
        known = ", ".join(self.extra) or "(none: this model is one converted file; use path(runtime, precision))"
        raise ModelError(f"{self.name}: no model file with role {role!r}; roles: {known}")

    def path_at_size(self, size: tuple[int, int]) -> Path:
        """The LiteRT fp32 file for input ``size`` (``(width, height)``): the model's own or an ``other_sizes`` build.

        Raises:
            ModelError: no build at that size; the message lists the sizes there are.

        Example:
            >>> files = ModelFiles("m", "x:0", ("y:0",), {("litert", "fp32"): Path("m/model.fp32.tflite")},
            ...                    input_size=(512, 512), other_sizes={(512, 384): Path("m/model.fp32.512x384.tflite")})
            >>> files.path_at_size((512, 384)).name
            'model.fp32.512x384.tflite'
            >>> files.path_at_size((640, 480))
            Traceback (most recent call last):
            ...
            detectors.errors.ModelError: m: no build at input size 640x480; built: 512x512, 512x384
        """
        size = (int(size[0]), int(size[1]))
        if size == self.input_size:
            return self.path("litert", "fp32")
        if size in self.other_sizes:
            return self.other_sizes[size]
        sizes = ([self.input_size] if self.input_size else []) + list(self.other_sizes)
        built = ", ".join(f"{w}x{h}" for w, h in sizes)
        raise ModelError(f"{self.name}: no build at input size {size[0]}x{size[1]}; built: {built or 'none'}")

    @property
    def precisions(self) -> tuple[str, ...]:
        """The LiteRT precisions there is a file for, e.g. ``("fp32", "int8")``."""
        return tuple(p for p in PRECISIONS if ("litert", p) in self.paths)

    def path(self, runtime: str, precision: str) -> Path:
        """The file ``runtime`` (``litert`` or ``tf``) loads at ``precision`` (``fp32`` or ``int8``).

        Raises:
            ModelError: there is no such file; the message is the ``missing`` reason when there is one.
        """
        key = (runtime, precision)
        if key in self.paths:
            return self.paths[key]
        if key in self.missing:
            raise ModelError(self.missing[key])
        if runtime not in {r for r, _ in (*self.paths, *self.missing)}:
            raise ModelError(f"{self.name}: unknown runtime {runtime!r}; valid: litert, tf")
        raise ModelError(f"{self.name}: no {runtime} model file at precision {precision}")


@runtime_checkable
class UsesModelFiles(Protocol):
    """A detector that loads installed model files: the application binds them before ``load``."""

    #: The name its files are installed under.
    model_name: str

    def bind_model_files(self, files: ModelFiles) -> None:
        """Take the files `load` will open."""
