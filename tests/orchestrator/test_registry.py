"""Plugin registries: built-ins by decorator, entry points, dotted paths, duplicates, failed lookups.

Unit tests use fresh `Registry` instances (and private entry-point groups) so the global
``DETECTORS`` / ``TRACKERS`` are not changed; the one end-to-end test builds a real distribution
with pip and exercises it through ``python -m orchestrator`` in subprocesses only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from helpers import make_video, run_cli, validate_records, write_pipeline

from detectors.detections import Detections
from detectors.detector import Detector
from detectors.testing import NoopDetector
from orchestrator.config import ConfigError, load_pipeline
from orchestrator.registry import (
    BUILTIN,
    DETECTORS,
    DOTTED_PATH,
    ENTRY_POINT,
    Registry,
    RegistryError,
    _check_detector,
)


class _Plain:
    """Not a Detector."""


class _Boxes(Detector):
    labels = ("box",)

    def detect(self, image):
        return Detections.empty()


def fresh(group: str | None = None, check=None) -> Registry:
    return Registry("detector", entry_point_group=group, check=check)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def write_module(folder: Path, name: str, source: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def write_dist_info(folder: Path, dist: str, version: str, group: str, entry_points: dict[str, str]) -> Path:
    """A hand-made installed distribution (``.dist-info`` with ``entry_points.txt``) in ``folder``."""
    info = folder / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
    lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{group}]\n{lines}", encoding="utf-8")
    return info


# ---------------------------------------------------------------------------- built-ins
def test_decorator_registers_a_builtin_and_returns_the_class() -> None:
    registry = fresh()

    @registry.register("b.second")
    class Second:
        pass

    @registry.register("a.first")
    class First:
        pass

    assert registry.names() == ["a.first", "b.second"]
    entry = registry.get("a.first")
    assert (entry.name, entry.obj, entry.origin, entry.source) == ("a.first", First, BUILTIN, __name__)
    assert [e.obj for e in registry.entries()] == [First, Second]
    assert isinstance(Second, type)  # the decorator hands the class back unchanged


@pytest.mark.parametrize("name", ["", None, 3])
def test_register_refuses_a_name_that_is_not_a_non_empty_string(name: object) -> None:
    with pytest.raises(RegistryError, match="must be a non-empty string"):
        fresh().register(name)  # type: ignore[arg-type]


def test_builtin_table_is_imported_on_first_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugins = unique("builtin_plugins")
    # The plugin module knows nothing of the registry: the application's table names it.
    write_module(tmp_path, plugins, "class One:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry("detector", entry_point_group=None, builtins={"lazy.one": f"{plugins}:One"})
    assert plugins not in sys.modules  # nothing imported until the first lookup
    entry = registry.get("lazy.one")
    assert (entry.origin, entry.source) == (BUILTIN, plugins)
    assert plugins in sys.modules
    assert registry.names() == ["lazy.one"]  # a second discovery does not import (and register) again


def test_check_refuses_a_registration() -> None:
    registry = fresh(check=_check_detector)
    with pytest.raises(RegistryError, match=r"detector plugin 'plain' from .*: .* is not a subclass of"):
        registry.register("plain")(_Plain)
    assert registry.register("boxes")(_Boxes) is _Boxes


# ---------------------------------------------------------------------------- duplicates
def test_duplicate_builtin_name_is_an_error() -> None:
    registry = fresh()
    registry.register("dup")(_Plain)
    with pytest.raises(RegistryError) as info:
        registry.register("dup")(_Boxes)
    assert str(info.value) == (
        f"duplicate detector plugin name 'dup': registered by {__name__} (built-in) and again by {__name__} (built-in)"
    )
    assert registry.get("dup").obj is _Plain  # the first registration stands


def test_duplicate_between_entry_point_and_builtin_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    group, module = unique("orchestrator_test.detectors"), unique("clash_mod")
    write_module(tmp_path, module, "class Thing:\n    pass\n")
    write_dist_info(tmp_path, "clash-dist", "1.2", group, {"thing": f"{module}:Thing"})
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = fresh(group)
    registry.register("thing")(_Plain)
    with pytest.raises(RegistryError) as info:
        registry.names()
    assert str(info.value) == (
        f"duplicate detector plugin name 'thing': registered by {__name__} (built-in) "
        "and again by clash-dist==1.2 (entry point)"
    )


def test_entry_point_to_the_builtin_object_itself_is_not_a_clash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An editable install can expose a built-in through an entry point too: same object, no error.
    group = unique("orchestrator_test.detectors")
    write_dist_info(tmp_path, "self-dist", "1.0", group, {"testing.noop": "detectors.testing:NoopDetector"})
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = fresh(group)
    registry.register("testing.noop")(NoopDetector)
    assert registry.names() == ["testing.noop"]
    assert registry.get("testing.noop").origin == BUILTIN


def test_two_entry_points_and_a_broken_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    group, good, bad = unique("orchestrator_test.detectors"), unique("good_mod"), unique("bad_mod")
    write_module(tmp_path, good, "class A:\n    pass\nclass B:\n    pass\n")
    write_module(tmp_path, bad, "raise RuntimeError('boom at import')\n")
    write_dist_info(tmp_path, "good-dist", "2.0", group, {"x.b": f"{good}:B", "x.a": f"{good}:A"})
    monkeypatch.syspath_prepend(str(tmp_path))

    registry = fresh(group)
    entries = registry.entries()
    assert [(e.name, e.origin, e.source) for e in entries] == [
        ("x.a", ENTRY_POINT, "good-dist==2.0"),
        ("x.b", ENTRY_POINT, "good-dist==2.0"),
    ]

    broken_group = unique("orchestrator_test.detectors")
    write_dist_info(tmp_path, "bad-dist", "0.1", broken_group, {"x.bad": f"{bad}:Nothing"})
    with pytest.raises(RegistryError) as info:
        fresh(broken_group).names()
    assert str(info.value) == (
        f"detector plugin 'x.bad' (entry point {bad}:Nothing from bad-dist==0.1) failed to import: "
        "RuntimeError: boom at import"
    )


# ---------------------------------------------------------------------------- lookup
@pytest.mark.parametrize(
    ("registered", "valid"),
    [((), "(none)"), (("b.two", "a.one"), "a.one, b.two")],
    ids=["empty", "two-names-sorted"],
)
def test_failed_lookup_lists_the_valid_names(registered: tuple[str, ...], valid: str) -> None:
    registry = fresh()
    for name in registered:
        registry.register(name)(type(name, (), {}))
    with pytest.raises(RegistryError) as info:
        registry.get("nope")
    assert str(info.value) == (
        f"unknown detector plugin 'nope'; valid names: {valid}; or give a dotted path package.module:ClassName"
    )


def test_failed_lookup_in_the_global_detectors_lists_the_builtins() -> None:
    with pytest.raises(RegistryError) as info:
        DETECTORS.get("testing.scriptedd")
    for name in ("testing.noop", "testing.scripted"):
        assert name in str(info.value)
    assert isinstance(info.value, LookupError)


# ---------------------------------------------------------------------------- dotted paths
@pytest.fixture
def dotted_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh module on sys.path with a Detector subclass, a plain class and a function."""
    name = unique("dotted_plugins")
    write_module(
        tmp_path,
        name,
        """
        from detectors.detections import Detections
        from detectors.detector import Detector


        class Corners(Detector):
            labels = ("corner",)
            params_schema = {
                "type": "object",
                "additionalProperties": False,
                "properties": {"size": {"type": "integer", "minimum": 1}},
            }

            def __init__(self, size: int = 10) -> None:
                self.size = size

            def detect(self, image):
                s = self.size
                return Detections.from_lists([[0, 0, s, s]], [1.0], [0], ["corner"])

            class Inner(Detector):
                def detect(self, image):
                    return Detections.empty()


        class NotADetector:
            pass


        def factory():
            return Corners()
        """,
    )
    write_module(tmp_path, unique("unused"), "")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_dotted_path_loads_a_detector_class(dotted_module: str) -> None:
    entry = DETECTORS.get(f"{dotted_module}:Corners")
    assert entry.origin == DOTTED_PATH
    assert entry.source == dotted_module
    assert entry.name == f"{dotted_module}:Corners"
    assert issubclass(entry.obj, Detector) and entry.obj.__name__ == "Corners"
    assert f"{dotted_module}:Corners" not in DETECTORS.names()  # not added to the table
    nested = DETECTORS.get(f"{dotted_module}:Corners.Inner")
    assert nested.obj.__qualname__ == "Corners.Inner"


@pytest.mark.parametrize(
    ("attr", "message"),
    [
        (
            "NotADetector",
            r"detector plugin '{m}:NotADetector': <class '{m}.NotADetector'> is not a subclass of "
            r"detectors.detector.Detector",
        ),
        (
            "factory",
            r"detector plugin '{m}:factory': <function factory at .*> is not a subclass of detectors.detector.Detector",
        ),
        ("Missing", r"detector plugin '{m}:Missing': module '{m}' has no attribute 'Missing'"),
        ("Corners.Missing", r"detector plugin '{m}:Corners.Missing': module '{m}' has no attribute 'Corners.Missing'"),
    ],
    ids=["plain-class", "function", "missing-attribute", "missing-nested-attribute"],
)
def test_dotted_path_refusals(dotted_module: str, attr: str, message: str) -> None:
    with pytest.raises(RegistryError, match="^" + message.replace("{m}", dotted_module) + "$"):
        DETECTORS.get(f"{dotted_module}:{attr}")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (":Corners", "detector plugin path ':Corners' must look like package.module:ClassName"),
        ("some.module:", "detector plugin path 'some.module:' must look like package.module:ClassName"),
        (
            "no_such_package_xyz.mod:Thing",
            "detector plugin 'no_such_package_xyz.mod:Thing': cannot import module 'no_such_package_xyz.mod': "
            "ModuleNotFoundError: No module named 'no_such_package_xyz'",
        ),
    ],
    ids=["no-module", "no-class", "no-such-module"],
)
def test_malformed_or_missing_dotted_paths(path: str, message: str) -> None:
    with pytest.raises(RegistryError) as info:
        DETECTORS.get(path)
    assert str(info.value) == message


def test_dotted_path_module_that_fails_to_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = unique("exploding")
    write_module(tmp_path, name, "raise ValueError('no GPU here')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(RegistryError) as info:
        DETECTORS.get(f"{name}:Anything")
    assert str(info.value) == (
        f"detector plugin '{name}:Anything': cannot import module '{name}': ValueError: no GPU here"
    )


def test_dotted_path_in_a_pipeline(dotted_module: str, tmp_path: Path) -> None:
    good = write_pipeline(
        tmp_path / "good.yaml",
        f"""
        version: 1
        detectors:
          corners:
            plugin: {dotted_module}:Corners
            params: {{size: 4}}
        """,
    )
    config = load_pipeline(good)
    spec = config.detector("corners")
    assert (spec.origin, spec.params, spec.plugin_class.__name__) == (DOTTED_PATH, {"size": 4}, "Corners")

    bad = write_pipeline(
        tmp_path / "bad.yaml",
        f"""
        version: 1
        detectors:
          corners:
            plugin: {dotted_module}:NotADetector
          sized:
            plugin: {dotted_module}:Corners
            params: {{size: 0}}
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_pipeline(bad)
    assert [(i.line, i.path) for i in info.value.issues] == [
        (4, "detectors.corners.plugin"),
        (7, "detectors.sized.params.size"),
    ]
    assert "is not a subclass of detectors.detector.Detector" in info.value.issues[0].message
    assert info.value.issues[1].message == "value 0 is out of range: must be >= 1"


# ---------------------------------------------------------------------------- a real third-party distribution
BOXES_MODULE = """
    from detectors.detections import Detections
    from detectors.detector import Detector


    class BoxesDetector(Detector):
        \"\"\"Two fixed boxes on every frame: a third-party plugin installed by pip.\"\"\"

        labels = ("box", "ball")
        input_size = (64, 48)
        params_schema = {
            "type": "object",
            "additionalProperties": False,
            "properties": {"size": {"type": "integer", "minimum": 1}},
        }

        def __init__(self, size: int = 20) -> None:
            self.size = size

        def detect(self, image):
            s = self.size
            return Detections.from_lists([[5, 6, 5 + s, 6 + s], [40, 30, 60, 50]], [0.75, 0.5], [0, 1], ["box", "ball"])
    """

BOXES_PYPROJECT = """
    [build-system]
    requires = ["setuptools>=61"]
    build-backend = "setuptools.build_meta"

    [project]
    name = "thirdparty-boxes"
    version = "0.3.1"

    [project.entry-points."orchestrator.detectors"]
    "thirdparty.boxes" = "thirdparty_boxes:BoxesDetector"

    [tool.setuptools]
    py-modules = ["thirdparty_boxes"]
    """


@pytest.fixture(scope="module")
def thirdparty_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build ``thirdparty-boxes`` with pip (offline, no build isolation) into a private target folder.

    ``pip install --target`` writes the module and its ``.dist-info`` (with ``entry_points.txt``) as a
    normal install would, but into a temporary folder that only the subprocesses given it on
    ``PYTHONPATH`` see: nothing is added to the shared virtualenv, so other tests (and other people
    running tests at the same time) never see the plugin, and there is nothing to uninstall.
    """
    pytest.importorskip("setuptools")
    root = tmp_path_factory.mktemp("thirdparty")
    src, target = root / "src", root / "site"
    src.mkdir()
    (src / "pyproject.toml").write_text(textwrap.dedent(BOXES_PYPROJECT), encoding="utf-8")
    (src / "thirdparty_boxes.py").write_text(textwrap.dedent(BOXES_MODULE), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--quiet", "--target", str(target), str(src)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    entry_points = list(target.glob("thirdparty_boxes-0.3.1.dist-info/entry_points.txt"))
    assert entry_points and "thirdparty.boxes = thirdparty_boxes:BoxesDetector" in entry_points[0].read_text()
    return target


def test_entry_point_plugin_is_listed(thirdparty_site: Path) -> None:
    env = {"PYTHONPATH": str(thirdparty_site)}
    listed = run_cli("plugins", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    boxes = rows["thirdparty.boxes"]
    assert (boxes["kind"], boxes["origin"], boxes["source"]) == ("detector", ENTRY_POINT, "thirdparty-boxes==0.3.1")
    assert (boxes["labels"], boxes["input_size"]) == (["box", "ball"], [64, 48])
    assert rows["testing.noop"]["origin"] == BUILTIN

    table = run_cli("plugins", env=env)
    assert table.returncode == 0, table.stderr
    (line,) = [line for line in table.stdout.splitlines() if "thirdparty.boxes" in line]
    assert line.split()[:2] == ["detector", "thirdparty.boxes"]
    assert "entry point (thirdparty-boxes==0.3.1)" in line

    # Without the folder on the path the plugin is simply not there.
    assert "thirdparty.boxes" not in run_cli("plugins").stdout


def test_entry_point_plugin_runs_in_a_pipeline(thirdparty_site: Path, tmp_path: Path) -> None:
    make_video(tmp_path / "clip.avi", frames=5, size=(96, 64))
    pipeline = write_pipeline(
        tmp_path / "boxes.yaml",
        """
        version: 1
        source: {uri: clip.avi}
        detectors:
          things:
            plugin: thirdparty.boxes
            params: {size: 10}
        outputs: {records: [detections]}
        """,
    )
    result = run_cli("run", pipeline, "--events", "-", env={"PYTHONPATH": str(thirdparty_site)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    validate_records(records)
    detections = [r for r in records if r["type"] == "detections"]
    assert [r["frame"] for r in detections] == [0, 1, 2, 3, 4]
    for record in detections:
        assert record["detector"] == "things"
        assert record["detections"] == [
            {"box": [5.0, 6.0, 15.0, 16.0], "score": 0.75, "class_id": 0, "label": "box"},
            {"box": [40.0, 30.0, 60.0, 50.0], "score": 0.5, "class_id": 1, "label": "ball"},
        ]
    assert records[-1]["type"] == "summary"
    assert records[-1]["detectors"]["things"]["plugin"] == "thirdparty.boxes"

    # A bad parameter is checked against the third-party params_schema, at its line.
    pipeline.write_text(pipeline.read_text().replace("size: 10", "size: 0"), encoding="utf-8")
    bad = run_cli("validate", pipeline, env={"PYTHONPATH": str(thirdparty_site)}, cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr == f"{pipeline}:6: detectors.things.params.size: value 0 is out of range: must be >= 1\n"


def test_entry_point_clashing_with_a_builtin_is_one_line_error(tmp_path: Path) -> None:
    module = unique("clash_plugin")
    write_module(
        tmp_path, module, "from detectors.testing import NoopDetector\n\nclass Noop(NoopDetector):\n    pass\n"
    )
    write_dist_info(tmp_path, "clash-plugin", "1.0", "orchestrator.detectors", {"testing.noop": f"{module}:Noop"})
    result = run_cli("plugins", env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr == (
        "error: duplicate detector plugin name 'testing.noop': registered by detectors.testing (built-in) "
        "and again by clash-plugin==1.0 (entry point)\n"
    )
