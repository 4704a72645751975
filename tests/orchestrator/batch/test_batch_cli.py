"""``python -m orchestrator batch``: outputs and index, resume, retry, --force, exit statuses, Ctrl-C."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO_ROOT, make_video

from orchestrator.batch.index import read_index
from orchestrator.batch.inputs import path_digest
from orchestrator.cli import main


def _batch(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    code = main(["batch", *map(str, args)])
    return code, capsys.readouterr().err


def _mtimes(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in out.glob("*.jsonl")}


def test_batch_resume_retry_and_force(
    make_pipeline: Callable[..., Path],
    clips: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    read_output: Callable[[Path], Any],
    body: Callable[[Path], str],
) -> None:
    pipeline, out = make_pipeline(), tmp_path / "out"
    args = (pipeline, clips["a"].parent, clips["other_a"], "--out", out, "--workers", "2")
    code, err = _batch(capsys, *args)
    assert code == 1, err
    assert f"failed: {clips['broken']}: not a video OpenCV can open" in err
    assert "batch: 3 done, 1 failed, 0 skipped (done before)" in err
    other = f"a-{path_digest(clips['other_a'])}"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".batch.lock", "a.jsonl", "b.jsonl", f"{other}.jsonl", "index.csv"]
    )
    rows = read_index(out / "index.csv")
    assert [(Path(k).name, r.name, r.status, r.frames) for k, r in sorted(rows.items())] == [
        ("a.avi", other, "done", 9),  # .../other/a.avi sorts before .../videos/a.avi
        ("a.avi", "a", "done", 12),
        ("b.avi", "b", "done", 15),
        ("broken.avi", "broken", "failed", 0),
    ]
    assert all(read_output(out / f"{r.name}.jsonl")[-1]["status"] == "completed" for r in rows.values() if r.frames)
    first = _mtimes(out)
    b_body = body(out / "b.jsonl")

    # Again: the done inputs are skipped (their outputs untouched), the failed one retried (and fails).
    code, err = _batch(capsys, *args)
    assert code == 1 and "batch: 0 done, 1 failed, 3 skipped" in err
    assert _mtimes(out) == first

    # A touched input is redone, to the same name and the same records.
    os.utime(clips["b"], ns=(time.time_ns(), time.time_ns()))
    code, err = _batch(capsys, *args)
    assert code == 1 and "batch: 1 done, 1 failed, 2 skipped" in err
    assert body(out / "b.jsonl") == b_body and _mtimes(out)["a.jsonl"] == first["a.jsonl"]

    # The broken file repaired: retried, done; all done is exit 0.
    make_video(tmp_path / "fixed.avi", frames=7).replace(clips["broken"])
    code, err = _batch(capsys, *args)
    assert code == 0 and "batch: 1 done, 0 failed, 3 skipped" in err
    assert read_index(out / "index.csv")[str(clips["broken"])].frames == 7

    # --force redoes everything; the arguments in another order keep every output name.
    code, err = _batch(capsys, pipeline, clips["other_a"], clips["a"].parent, "--out", out, "--force", "-q")
    assert code == 0 and err == ""
    assert {r.name for r in read_index(out / "index.csv").values()} == {"a", "b", "broken", other}
    assert all(mtime > first.get(name, 0) for name, mtime in _mtimes(out).items())


def test_a_changed_pipeline_redoes_the_batch(
    make_pipeline: Callable[..., Path], clips: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline, out = make_pipeline(), tmp_path / "out"
    assert _batch(capsys, pipeline, clips["a"], "--out", out, "--workers", "1")[0] == 0
    pipeline.write_text(pipeline.read_text(encoding="utf-8").replace("records: [tracks]", "records: []"))
    code, err = _batch(capsys, pipeline, clips["a"], "--out", out, "--workers", "1")
    assert code == 0 and "batch: 1 done, 0 failed, 0 skipped" in err


@pytest.mark.parametrize(
    ("setup", "arguments", "message"),
    [
        (None, ["{pipeline}", "{tmp}/nothing.mp4", "--out", "{tmp}/out"], "error: input {tmp}/nothing.mp4: no such"),
        ("lock", ["{pipeline}", "{tmp}/videos", "--out", "{tmp}/out"], "error: --out {tmp}/out: another batch"),
        ("csv", ["{pipeline}", "{tmp}/videos", "--out", "{tmp}/out"], "error: {tmp}/out/index.csv: not a batch index"),
        (None, ["{tmp}/none.yaml", "{tmp}/videos", "--out", "{tmp}/out"], "error: {tmp}/none.yaml: cannot read"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(
    setup: str | None,
    arguments: list[str],
    message: str,
    make_pipeline: Callable[..., Path],
    clips: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "out").mkdir()
    lock = None
    if setup == "lock":  # another batch holds the folder
        lock = os.open(tmp_path / "out" / ".batch.lock", os.O_RDWR | os.O_CREAT)
        fcntl.flock(lock, fcntl.LOCK_EX)
    if setup == "csv":
        (tmp_path / "out" / "index.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    values = {"pipeline": make_pipeline(), "tmp": tmp_path}
    try:
        code, err = _batch(capsys, *(a.format(**values) for a in arguments))
    finally:
        if lock is not None:
            os.close(lock)
    assert code == 2 and err.startswith(message.format(**values)) and err.count("\n") == 1, err
    assert "index.csv" not in os.listdir(tmp_path / "out") or setup == "csv"


def test_ctrl_c_stops_promptly_keeps_whole_outputs_and_a_rerun_finishes(
    make_pipeline: Callable[..., Path],
    tmp_path: Path,
    read_output: Callable[[Path], Any],
    body: Callable[[Path], str],
) -> None:
    videos = [make_video(tmp_path / "many" / f"clip{i}.avi", frames=20) for i in range(6)]
    pipeline = make_pipeline(delay_ms=40)  # about a second per clip
    out = tmp_path / "out"
    command = [sys.executable, "-m", "orchestrator", "batch", str(pipeline), str(tmp_path / "many"), "--out", str(out)]
    process = subprocess.Popen(
        [*command, "--workers", "2"],
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    deadline = time.monotonic() + 90
    while not any(r.status == "done" for r in _rows(out)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() is None, "the batch ended before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the driver and its workers
    sent = time.monotonic()
    _, err = process.communicate(timeout=30)
    stopped_s = time.monotonic() - sent
    assert process.returncode == 130, err
    assert stopped_s < 5, f"took {stopped_s:.1f} s to stop"
    assert "interrupted:" in err and "run the same command again" in err
    rows = _rows(out)
    done = {r.name for r in rows if r.status == "done"}
    assert 1 <= len(done) < 6
    finished = {p.stem for p in out.glob("*.jsonl")}
    assert finished == done  # every output under its final name is whole and in the index
    for name in finished:
        read_output(out / f"{name}.jsonl")
    assert not list(out.glob(".*.part-*"))

    again = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"batch: {6 - len(done)} done, 0 failed, {len(done)} skipped" in again.stderr
    clean = tmp_path / "clean"
    assert main(["batch", str(pipeline), *map(str, videos), "--out", str(clean), "-q"]) == 0
    for video in videos:
        assert body(out / f"{video.stem}.jsonl") == body(clean / f"{video.stem}.jsonl")


def _rows(out: Path) -> list[Any]:
    try:
        return list(read_index(out / "index.csv").values())
    except Exception:  # the index is being compacted (renamed over) right now
        return []
