"""The ``ray`` executor on a real local Ray instance (2 CPUs): same bytes as the local executor,
failures recorded by the worker, and bad input (unreachable cluster, no Ray) as one line.

Determinism note: the bytes of a result depend on torch's thread count (float reductions are
split differently: invariance metrics differ in the last digits between 1 and 2 threads), and
each Ray task runs with as many threads as CPUs it reserved (1 here). The local reference is
therefore computed with 1 thread too.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from tests.helpers import torch_threads  # noqa: E402
from tests.helpers.engine import SMOKE, results  # noqa: E402
from tests.helpers.trackers import TRACKED_CONFIG, check_logged, wandb_env  # noqa: E402
from transforms2d.cli import app  # noqa: E402
from transforms2d.engine import (  # noqa: E402
    EXPERIMENTS,
    Experiment,
    LocalExecutor,
    ProbeTarget,
    RunSpec,
    RunStore,
    get_executor,
    spec_hash,
)
from transforms2d.engine import ray_executor as ray_mod  # noqa: E402
from transforms2d.errors import ConfigError  # noqa: E402


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory) -> Path:
    """The demo smoke grid computed in-process by the local executor with 1 torch thread."""
    out = tmp_path_factory.mktemp("local") / "demo"
    with torch_threads(1):
        summary = LocalExecutor().run(EXPERIMENTS["demo"].specs("smoke", 1), RunStore(out))
    assert summary.ok and len(summary.computed) == 2
    return out


@pytest.fixture(scope="module")
def ray_instance():
    """A real local Ray instance with 2 CPUs, shared by the CLI tests of this module."""
    if ray.is_initialized():
        ray.shutdown()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_executor_starts_ray_and_equals_local_bytes(local_reference, tmp_path):
    """Runs first (no fixture yet): the executor starts its own 2-CPU instance, runs both runs
    at once (one task each, 1 CPU, 1 thread) and shuts the instance down."""
    started_here = not ray.is_initialized()
    ex = get_executor("ray", device="cpu", num_cpus=2)
    events: list[tuple[str, str]] = []
    summary = ex.run(EXPERIMENTS["demo"].specs("smoke", 1), RunStore(tmp_path / "ray"),
                     lambda kind, h, i, n: events.append((kind, h)))
    assert summary.ok and len(summary.computed) == 2, summary.to_dict()
    assert results(tmp_path / "ray") == results(local_reference)
    assert sorted(k for k, _ in events) == ["done", "done", "start", "start"]
    assert not list((tmp_path / "ray").rglob("*.tmp"))
    if started_here:
        assert not ray.is_initialized()  # what the executor started, it shut down


@pytest.mark.slow
def test_cli_ray_equals_local_then_rerun_reuses(ray_instance, local_reference, tmp_path, runner):
    out = tmp_path / "demo"
    r = runner.invoke(app, ["run", "demo", *SMOKE, "--out", str(out), "--executor", "ray"])
    assert r.exit_code == 0, r.output
    assert "2 computed, 0 reused, 0 failed" in r.output
    assert results(out) == results(local_reference)
    r = runner.invoke(app, ["run", "demo", *SMOKE, "--out", str(out), "--executor", "ray"])
    assert r.exit_code == 0 and "0 computed, 2 reused" in r.output, r.output
    r = runner.invoke(app, ["status", str(out)])
    assert "2 done" in r.output, r.output
    assert ray.is_initialized()  # an instance the caller started is left running


@pytest.mark.slow
def test_shared_store_workers_write_the_folder_themselves(ray_instance, local_reference,
                                                          tmp_path, runner):
    """--shared-store: each task leases and writes its run in --out (the folder is shared
    here, one machine); the same bytes as the default mode's and the local executor's."""
    out = tmp_path / "demo"
    r = runner.invoke(app, ["run", "demo", *SMOKE, "--out", str(out), "--executor", "ray",
                            "--shared-store"])
    assert r.exit_code == 0 and "2 computed" in r.output, r.output
    assert results(out) == results(local_reference)
    for log in out.glob("runs/*/log.txt"):  # written by the workers, nothing committed
        assert "result: written" in log.read_text() and "committed" not in log.read_text()


@pytest.mark.slow
def test_ray_runs_arrive_in_mlflow_and_wandb(ray_instance, tmp_path, runner, monkeypatch):
    """The driver logs what Ray workers computed: every epoch, the probes' curves, the finals
    (read back with MLflow's client and wandb's reader; tests/helpers/trackers.py)."""
    for k, v in wandb_env(tmp_path).items():
        monkeypatch.setenv(k, v)
    config = tmp_path / "tracked.yaml"
    config.write_text(TRACKED_CONFIG)
    out = tmp_path / "tracked"
    r = runner.invoke(app, ["run", "--config", str(config), "--executor", "ray", "--log",
                            "mlflow,wandb", "--out", str(out)])
    assert r.exit_code == 0 and "2 computed" in r.output, r.output
    check_logged(out, "config:tracked")


def tiny(model: str = "convnet_xs") -> RunSpec:
    data = dict(objects=4, transforms="hue", n=32, image_size=16)
    return RunSpec(model=model, source={**data, "n": 64}, seed=0,
                   train={"epochs": 1, "batch_size": 32},
                   probes=(ProbeTarget("a", data, data, probe={"epochs": 5, "views": 1}),))


@pytest.mark.slow
def test_failing_run_recorded_by_worker_others_go_on(ray_instance, tmp_path, monkeypatch, runner):
    good, bad = tiny(), tiny(model="no_such_model")
    monkeypatch.setitem(EXPERIMENTS, "broken", Experiment(
        "broken", lambda profile, seeds: [bad, good], lambda recs, profile: {"markdown": "ok\n"}))
    out, hb, hg = tmp_path / "broken", spec_hash(bad), spec_hash(good)
    args = ["run", "broken", *SMOKE, "--out", str(out), "--executor", "ray"]
    r = runner.invoke(app, args)
    assert r.exit_code == 1, r.output
    assert f"failed {hb}: Unknown model 'no_such_model'" in r.output
    err = json.loads((out / "runs" / hb / "error.json").read_text())
    assert err["type"] == "ConfigError" and "Traceback" in err["traceback"]
    assert "in compute" in err["traceback"] and err["pid"] != os.getpid()  # by the Ray worker
    assert "failure committed" in (out / "runs" / hb / "log.txt").read_text()  # by the driver
    assert (out / "runs" / hg / "result.json").exists()
    r = runner.invoke(app, args)  # the rerun retries only the failed run
    assert r.exit_code == 1 and "0 computed, 1 reused, 1 failed" in r.output, r.output


@pytest.mark.slow
def test_unreachable_address_is_one_line_fast_and_loses_nothing(local_reference, tmp_path):
    out = tmp_path / "demo"
    RunStore(out).claim("demo", "smoke", 1, sorted(results(local_reference)))
    h = sorted(results(local_reference))[0]
    (out / "runs").mkdir()
    shutil.copytree(local_reference / "runs" / h, out / "runs" / h)
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "transforms2d", "run", "demo", *SMOKE,
                           "--out", str(out), "--executor", "ray", "--ray-address",
                           "127.0.0.1:1"], capture_output=True, text=True, timeout=90)
    assert time.monotonic() - t0 < 45
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert "Cannot reach the Ray cluster at 127.0.0.1:1" in proc.stderr
    assert proc.stderr.strip().count("\n") <= 2, proc.stderr  # one message (Rich may wrap)
    assert results(out) == {h: results(local_reference)[h]}  # the done run is still there


@pytest.mark.parametrize("args,message", [
    (["--ray-address", "127.0.0.1:6379"], "--ray-address needs --executor ray"),
    (["--executor", "ray", "--ray-address", "nohost"], "Invalid Ray address 'nohost'"),
    (["--executor", "ray", "--device", "tpu"], "Unknown device 'tpu'"),
    (["--gpus-per-run", "0.5"], "--gpus-per-run needs --executor ray"),
    (["--executor", "ray", "--device", "cuda", "--gpus-per-run", "1.5"], "a whole number"),
    (["--executor", "ray", "--device", "cuda", "--gpus-per-run", "0"], "gpus_per_run"),
    (["--shared-store"], "--shared-store needs --executor ray"),
])
def test_bad_ray_options_are_one_line(args, message, tmp_path, runner):
    r = runner.invoke(app, ["run", "demo", *SMOKE, "--out", str(tmp_path / "x"), *args])
    assert r.exit_code == 2 and message in r.output, r.output
    assert r.output.strip().count("\n") <= 2
    assert not (tmp_path / "x").exists()


def test_missing_ray_names_the_extra(monkeypatch, tmp_path, runner):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(ConfigError, match=r"pip install 'transforms2d\[ray\]'") as info:
        get_executor("ray")
    assert "\n" not in str(info.value)
    r = runner.invoke(app, ["run", "demo", *SMOKE, "--out", str(tmp_path / "x"),
                            "--executor", "ray"])
    assert r.exit_code == 2 and "transforms2d[ray]" in r.output, r.output


def test_gpu_runs_ask_ray_for_one_gpu_each():
    ex = ray_mod.RayExecutor(device="cuda:1")
    assert ex.gpus_per_run == 1 and ray_mod._task_device("cuda:1") == "cuda"
    assert ray_mod.RayExecutor(device="cpu").gpus_per_run == 0
    # a fractional share: several runs on one GPU (Ray packs 1 / share tasks per GPU)
    assert ray_mod.RayExecutor(device="cuda", gpus_per_run=0.25).gpus_per_run == 0.25
    assert ray_mod.RayExecutor(device="cuda", gpus_per_run=2).gpus_per_run == 2


def test_compile_reaches_ray_workers_through_their_environment(monkeypatch):
    monkeypatch.delenv(ray_mod.COMPILE_ENV, raising=False)
    assert ray_mod._runtime_env() == {}
    monkeypatch.setenv(ray_mod.COMPILE_ENV, "1")
    assert ray_mod._runtime_env() == {"runtime_env": {"env_vars": {ray_mod.COMPILE_ENV: "1"}}}


@pytest.mark.slow
def test_cuda_on_a_cluster_without_gpus_is_one_line(ray_instance, tmp_path, runner):
    r = runner.invoke(app, ["run", "demo", *SMOKE, "--out", str(tmp_path / "x"),
                            "--executor", "ray", "--device", "cuda"])
    assert r.exit_code == 2 and "the Ray cluster has 0 GPUs" in r.output, r.output
    assert r.output.strip().count("\n") <= 2
    assert not list((tmp_path / "x").glob("runs/*"))  # nothing was started
