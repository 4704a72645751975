"""The ``bench`` command without real models (those are timed in tests/detectors/test_real_models.py)."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from orchestrator.bench import detector as bench
from orchestrator.errors import UserError


def test_synthetic_frame_is_deterministic_and_textured() -> None:
    a, b = bench.synthetic_frame(), bench.synthetic_frame()
    assert a.shape == (720, 1280, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b) and a.std() > 20


def test_cli_times_a_detector_without_runtimes(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="orchestrator")
    bench.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["bench", "--detector", "testing.noop", "--runs", "5", "--warmup", "1", "--json"])
    assert args.handler(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["runs"] == 5 and result["median_ms"] >= 0 and result["p90_ms"] >= result["median_ms"]
    assert result["tf_median_ms"] is None and result["speedup_vs_tf"] is None


def test_bad_arguments_are_user_errors() -> None:
    with pytest.raises(UserError, match="has no runtime parameter"):
        bench.bench("testing.noop", runtime="tf", runs=1)
    with pytest.raises(UserError, match="--runs must be >= 1"):
        bench.bench("testing.noop", runs=0)
    with pytest.raises(UserError, match="unknown detector plugin"):
        bench.bench("nope")

