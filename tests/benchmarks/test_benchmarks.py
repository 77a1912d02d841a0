"""The benchmark scripts run end to end (tiny settings; the numbers themselves are not checked:
timings belong to benchmarks, not tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the repository
pytestmark = pytest.mark.slow  # each runs a benchmark script end to end


def test_bench_generator_prints_a_table_with_ratios():
    res = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_generator.py"), "--batch", "32",
         "--pil-samples", "16", "--reps", "1", "--transforms", "rotate,noise"],
        capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stderr
    rows = [line for line in res.stdout.splitlines() if line.startswith("| ")]
    assert [r.split("|")[1].strip() for r in rows[1:]] == ["rotate", "noise", "none"]
    assert "harmonic mean of the ratio over 2 transforms" in res.stdout


def _run(script: str, *args: str, env: dict | None = None) -> str:
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args],
                         capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_bench_models_probe_and_train_run():
    out = _run("bench_models.py", "--models", "convnet_xs", "--batch", "8", "--steps", "1",
               "--reps", "1", "--warmup", "1")
    assert "| convnet_xs |" in out
    out = _run("bench_probe.py", "--n-train", "64", "--n-test", "64", "--epochs", "2",
               "--pretrain-epochs", "1", "--model", "convnet_xs")
    assert "| reference (fresh views every epoch) |" in out and "speed-up" in out
    out = _run("bench_train.py", "--models", "convnet_xs", "--batch", "16", "--steps", "1",
               "--small-steps", "1", "--warmup", "1")
    assert "| convnet_xs |" in out and "GFLOP/s" in out


def test_bench_engine_scale_pool_equals_local_one_thread():
    out = _run("bench_engine_scale.py", "--seeds", "1", "--configs", "local-1t,pool-2w")
    row = next(line for line in out.splitlines() if line.startswith("| pool, 2 one-thread"))
    assert row.rstrip(" |").endswith("local-1t")  # same result bytes as the local executor


def test_bench_profile_prints_the_stage_shares():
    out = _run("bench_profile.py", "--model", "convnet_xs", "--pairs", "40",
               "--transforms", "rotate,hue", "--resamples", "20", "--batch-size", "20")
    stages = [line.split("|")[1].strip() for line in out.splitlines() if line.startswith("| ")]
    assert stages[1:] == ["render (both views)", "embed (model forward)",
                          "scores, CKA, bootstrap", "setup (model checks, datasets)",
                          "whole profile"]
    assert "images/s through the whole profile" in out


def test_bench_gpu_runs_on_cpu_at_small_size(tmp_path):
    env = {**os.environ, "T2D_CACHE": str(tmp_path / "cache")}  # the calibration lands here
    out = _run("bench_gpu.py", "--device", "cpu", "--small", "--out", str(tmp_path), env=env)
    assert "harmonic mean" in out and "E4 run" in out
    import json

    res = json.loads((tmp_path / "bench_gpu.json").read_text())
    assert len(res["generator"]) == 18 and res["training"]["samples_per_s"] > 0
    assert 0 < res["training"]["render_share"] < 1 and res["e4"]["seconds"] > 0
    assert set(res["plan_minutes"]["smoke"]) == {"e1", "e2", "e3", "e4"}
    assert "t2d plan at the throughputs measured here" in out
    assert (tmp_path / "calibration.json").exists()


def test_bench_probe_solvers_prints_before_and_after(tmp_path):
    out = _run("bench_probe_solvers.py", "--profile", "smoke", "--cache", str(tmp_path))
    rows = [line.split("|") for line in out.splitlines() if line.startswith("| ")]
    assert [r[1].strip() for r in rows[1:]] == ["before: adam 1000x1, 500 epochs",
                                                 "lbfgs 1000x1", "after: lbfgs 60x1"]
    assert rows[1][-2].strip() == "1.00x"  # each total is a ratio to the first row's
