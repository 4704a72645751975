"""The README's export example runs as written on a real events file (the run line replaced by a scripted run)."""

from __future__ import annotations

import csv
import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

from helpers import REPO_ROOT, run_cli

from orchestrator.exports.intervals import COLUMNS


def _commands() -> list[list[str]]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- example-export -->\n```bash\n(.*?)```", readme, re.S)
    assert match, "README.md has no example-export block"
    return [shlex.split(line) for line in match.group(1).splitlines() if line.strip()]


def test_readme_export_commands(scripted_run: Any, tmp_path: Path) -> None:
    commands = _commands()
    assert commands[0][:4] == ["python", "-m", "orchestrator", "run"]  # needs models: the scripted run stands in
    shutil.copy(scripted_run.events, tmp_path / commands[0][commands[0].index("--events") + 1])
    exports = commands[1:]
    assert [c[c.index("--to") + 1] for c in exports] == ["mot", "coco", "csv"]
    for command in exports:
        assert command[:4] == ["python", "-m", "orchestrator", "export"]
        result = run_cli(*command[3:], cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    tracks = (tmp_path / "tracks.txt").read_text().splitlines()
    assert tracks and all(len(line.split(",")) == 10 for line in tracks)
    coco = json.loads((tmp_path / "detections.json").read_text())
    assert coco["annotations"] and {"images", "categories", "annotations"} <= coco.keys()
    with (tmp_path / "relations.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and tuple(rows[0]) == COLUMNS
