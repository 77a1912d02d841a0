"""The experiment engine: run hashing, the atomic store, `t2d run/status/report`, failures, and
resuming after SIGKILL in a real subprocess with bit-identical results."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from transforms2d.cli import app
from transforms2d.engine import (
    EXPERIMENTS,
    Experiment,
    InvarianceTarget,
    ProbeTarget,
    RunSpec,
    RunStore,
    canonical_json,
    execute,
    spec_hash,
)
from transforms2d.engine import executors as executors_mod
from transforms2d.engine import run as run_mod
from transforms2d.errors import ConfigError

runner = CliRunner()
SMOKE = ["--profile", "smoke", "--seeds", "1"]


def tiny(model: str = "convnet_xs", seed: int = 0, **train) -> RunSpec:
    """A run small enough to compute in-process in about a second."""
    data = dict(objects=4, transforms="hue", n=32, image_size=16)
    return RunSpec(model=model, source={**data, "n": 64}, seed=seed,
                   train={"epochs": 1, "batch_size": 32, **train},
                   probes=(ProbeTarget("a", data, data, probe={"epochs": 5, "views": 1}),
                           ProbeTarget("b", {**data, "transforms": ""}, data,
                                       probe={"epochs": 5, "views": 1})),
                   invariance=(InvarianceTarget("a", data, metrics=("l2",)),))


def t2d(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "transforms2d", *args], capture_output=True,
                          text=True, timeout=timeout)


def results(folder: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in (folder / "runs").glob("*/result.json")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """`t2d run demo --profile smoke --seeds 1`, uninterrupted, in a real subprocess."""
    out = tmp_path_factory.mktemp("ref") / "demo"
    proc = t2d("run", "demo", *SMOKE, "--out", str(out))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return out


# -- hashing ---------------------------------------------------------------------------------
def test_same_run_same_hash_whatever_the_spelling():
    a = tiny()
    assert spec_hash(a) == spec_hash(tiny()) and len(spec_hash(a)) == 16
    d = json.loads(canonical_json(a))
    shuffled = {k: d[k] for k in reversed(list(d))}
    assert spec_hash(RunSpec.from_dict(shuffled)) == spec_hash(a)
    spelled = a.replace(source={"objects": [0, 1, 2, 3], "transforms": ["hue"], "n": 64,
                                "image_size": 16, "seed": 0},
                        train={"epochs": 1, "batch_size": 32, "lr": 1e-3, "min_lr": 0})
    assert spec_hash(spelled) == spec_hash(a) and spelled == a


@pytest.mark.parametrize("change", [
    dict(model="convnet_s"), dict(seed=1), dict(train={"epochs": 2, "batch_size": 32}),
    dict(train={"epochs": 1, "batch_size": 32, "lr": 0.002}),
    dict(source={"objects": 4, "transforms": "hue", "n": 65, "image_size": 16}),
    dict(source={"objects": 4, "transforms": "hue,invert", "n": 64, "image_size": 16}),
    dict(model_kwargs={"width": 8}), dict(probes=()), dict(invariance=()),
])
def test_any_change_changes_the_hash(change):
    assert spec_hash(tiny().replace(**change)) != spec_hash(tiny())


@pytest.mark.parametrize("edit,field", [
    (lambda d: d["train"].update(epochs=0), "epochs"),
    (lambda d: d["train"].update(epoch=3), "train.epoch"),
    (lambda d: d.update(colour="red"), "colour"),
    (lambda d: d.pop("model"), "model"),
    (lambda d: d["source"].update(bogus=1), "source.bogus"),
    (lambda d: d["invariance"][0].update(metrics=["l3"]), "invariance.a.metrics"),
    (lambda d: d.update(seed=-1), "seed"),
])
def test_invalid_spec_dict_is_one_line_naming_the_field(edit, field):
    d = tiny().to_dict()
    edit(d)
    with pytest.raises(ConfigError, match=field) as info:
        RunSpec.from_dict(d)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("profile", ["smoke", "quick", "paper"])
def test_demo_profiles_build_the_same_grid(profile):
    specs = EXPERIMENTS["demo"].specs(profile, 2)
    assert len({spec_hash(s) for s in specs}) == 4
    assert [s.seed for s in specs] == [0, 0, 1, 1]
    assert {tuple(s.source["transforms"]) for s in specs} == {("hue", "invert"), ("rotate", "blur")}


# -- store -----------------------------------------------------------------------------------
def test_partial_files_are_never_done(tmp_path):
    store, spec = RunStore(tmp_path), tiny()
    h = spec_hash(spec)
    d = store.prepare(spec)
    assert store.status(h) == "pending"
    (d / ".result.json.abc123.tmp").write_text('{"format": 1}')
    assert store.status(h) == "pending"
    (d / "result.json").write_text('{"format": 1, "spec_hash": "' + h)  # truncated
    assert store.status(h) == "pending"
    (d / "result.json").write_text(json.dumps({"format": 1, "spec_hash": "0" * 16}))
    assert store.status(h) == "pending"  # a result of another run is not this run's
    (d / "result.json").write_text(json.dumps({"format": 1, "spec_hash": h}))
    assert store.status(h) == "done"
    store.prepare(spec)
    assert not list(d.glob("*.tmp")) and not list(d.glob(".*.tmp"))


def test_a_run_killed_between_probes_redoes_only_the_rest(tmp_path, monkeypatch):
    spec, calls = tiny(), []
    real = run_mod.probe

    def flaky(net, target, *a, **k):
        calls.append(target.name)
        if target.name == "b" and calls.count("b") == 1:
            raise RuntimeError("killed")
        return real(net, target, *a, **k)
    monkeypatch.setattr(run_mod, "probe", flaky)
    with pytest.raises(RuntimeError):
        execute(spec, tmp_path / "x")
    assert (tmp_path / "x/probes/a.json").exists() and not (tmp_path / "x/result.json").exists()
    resumed = execute(spec, tmp_path / "x")
    assert calls == ["a", "b", "b"]  # a was not redone
    assert "reusing pretrain.pt" in (tmp_path / "x/log.txt").read_text()
    monkeypatch.setattr(run_mod, "probe", real)
    assert execute(spec, tmp_path / "y") == resumed
    assert (tmp_path / "x/result.json").read_bytes() == (tmp_path / "y/result.json").read_bytes()


# -- CLI ---------------------------------------------------------------------------------------
def test_run_end_to_end_then_rerun_is_a_no_op(reference, tmp_path):
    assert len(results(reference)) == 2
    res = json.loads(next(iter(results(reference).values())))
    assert set(res["probes"]) == {"target", "plain"} and "l2" in res["invariance"]["target"]
    assert not list(reference.rglob("*.tmp"))
    out = tmp_path / "copy"
    shutil.copytree(reference, out)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.suffix in (".pt", ".json")
              and p.name != "experiment.json"}
    r = runner.invoke(app, ["run", "demo", *SMOKE, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "0 computed, 2 reused" in r.output
    assert stamps == {p: p.stat().st_mtime_ns for p in stamps}

    r = runner.invoke(app, ["status", str(out)])
    assert r.exit_code == 0 and "2 runs: 2 done, 0 running, 0 failed, 0 pending" in r.output
    for p in ("report.md", "claims.json", "tables", "figures"):
        shutil.rmtree(out / p) if (out / p).is_dir() else (out / p).unlink()
    r = runner.invoke(app, ["report", str(out)])
    assert r.exit_code == 0, r.output
    report = (out / "report.md").read_text()
    assert "| same | probe target test_acc | 1 |" in report
    assert "| D1 |" in report and "not run (needs >= 3 seeds, got 1)" in report
    assert "![probe_accuracy](figures/probe_accuracy.png)" in report
    assert (out / "figures/probe_accuracy.png").read_bytes()[:4] == b"\x89PNG"
    assert pd.read_parquet(out / "tables/probe_accuracy.parquet").shape == (6, 6)
    assert json.loads((out / "claims.json").read_text())["claims"][0]["verdict"] == "not run"


def test_failed_run_is_recorded_the_rest_go_on_and_rerun_retries_it(tmp_path, monkeypatch):
    good, bad = tiny(), tiny(model="no_such_model")
    monkeypatch.setitem(EXPERIMENTS, "broken", Experiment(
        "broken", lambda profile, seeds: [bad, good], lambda recs, profile: {"markdown": "ok\n"}))
    calls = []
    real = executors_mod.execute
    monkeypatch.setattr(executors_mod, "execute",
                        lambda spec, *a, **k: calls.append(spec_hash(spec)) or real(spec, *a, **k))
    out = tmp_path / "broken"
    r = runner.invoke(app, ["run", "broken", *SMOKE, "--out", str(out)])
    assert r.exit_code == 1, r.output
    hb, hg = spec_hash(bad), spec_hash(good)
    assert f"failed {hb}: Unknown model 'no_such_model'" in r.output
    err = json.loads((out / "runs" / hb / "error.json").read_text())
    assert "Traceback" in err["traceback"] and err["type"] == "ConfigError"
    assert (out / "runs" / hg / "result.json").exists()

    r = runner.invoke(app, ["status", str(out)])
    assert "1 done, 0 running, 1 failed, 0 pending" in r.output and f"failed {hb}" in r.output
    r = runner.invoke(app, ["run", "broken", *SMOKE, "--out", str(out)])
    assert r.exit_code == 1 and calls == [hb, hg, hb]  # only the failed run was retried


@pytest.mark.parametrize("args,message", [
    (["run", "dem", *SMOKE], "Unknown experiment 'dem'; did you mean 'demo'? Valid: "),
    (["run", "demo", "--profile", "fast"], "Unknown profile 'fast'"),
    (["run", "demo", "--profile", "smoke", "--seeds", "0"], "'seeds' parameter of demo"),
    (["run", "demo", *SMOKE, "--executor", "slurm"], "Unknown executor 'slurm'"),
    (["status", "nowhere"], "holds no experiment"),
    (["report", "nowhere"], "holds no experiment"),
])
def test_bad_input_is_one_line(args, message, tmp_path):
    if args[0] == "run":
        args = [*args, "--out", str(tmp_path / "x")]
    else:
        args = [args[0], str(tmp_path / args[1])]
    r = runner.invoke(app, args)
    assert r.exit_code == 2 and message in r.output, r.output
    assert r.output.strip().count("\n") <= 2  # one message (Rich may wrap it)


def test_folder_of_another_experiment_is_refused(tmp_path):
    (tmp_path / "experiment.json").write_text(json.dumps({"experiment": "other", "runs": []}))
    r = runner.invoke(app, ["run", "demo", *SMOKE, "--out", str(tmp_path)])
    assert r.exit_code == 2 and "holds runs of experiment 'other'" in r.output
    assert json.loads((tmp_path / "experiment.json").read_text())["experiment"] == "other"


def test_hand_edited_spec_is_refused_and_nothing_is_lost(reference, tmp_path):
    out = tmp_path / "edited"
    shutil.copytree(reference, out)
    h = sorted(results(out))[0]
    path = out / "runs" / h / "spec.json"
    spec = json.loads(path.read_text())
    spec["train"]["epochs"] = "ten"
    path.write_text(json.dumps(spec))
    for args in (["run", "demo", *SMOKE, "--out", str(out)], ["report", str(out)]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and "spec.json is invalid" in r.output and "epochs" in r.output
    spec["train"]["epochs"] = 3  # valid, but no longer the run its folder is named after
    path.write_text(json.dumps(spec))
    r = runner.invoke(app, ["run", "demo", *SMOKE, "--out", str(out)])
    assert r.exit_code == 2 and "was edited" in r.output
    assert results(out) == results(reference)


# -- resume after SIGKILL ----------------------------------------------------------------------
def _run_until(out: Path, ready, timeout: float = 120) -> None:
    """Start `t2d run demo` in a subprocess and SIGKILL it as soon as ``ready(out)`` holds."""
    proc = subprocess.Popen([sys.executable, "-m", "transforms2d", "run", "demo", *SMOKE,
                             "--out", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while not ready(out):
            assert proc.poll() is None, "the run finished before the kill point"
            assert time.monotonic() < deadline, "kill point never reached"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()


def _pretraining(out: Path) -> bool:
    return any("pretrain: start" in p.read_text() and not (p.parent / "pretrain.pt").exists()
               for p in out.glob("runs/*/log.txt"))


def _run_paused(out: Path, point: str, timeout: float = 120) -> str:
    """Start `t2d run demo` with the test-only hook T2D_TEST_PAUSE_AT=point, wait until it
    pauses there, check that `t2d status` sees the run running, then SIGKILL it. Returns the
    hash of the paused run."""
    env = {**os.environ, "T2D_TEST_PAUSE_AT": point}
    proc = subprocess.Popen([sys.executable, "-m", "transforms2d", "run", "demo", *SMOKE,
                             "--out", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env)
    deadline, text = time.monotonic() + timeout, ""
    try:
        while f"paused at {point} in run " not in text:
            left = deadline - time.monotonic()
            assert left > 0 and select.select([proc.stderr], [], [], left)[0], "no pause"
            chunk = os.read(proc.stderr.fileno(), 4096).decode()
            assert chunk, f"exited before pausing at {point}: {text[-2000:]}"
            text += chunk
        h = text.split(f"paused at {point} in run ")[1].split()[0]
        r = runner.invoke(app, ["status", str(out)])
        assert "1 running" in r.output and f"running {h}: pid {proc.pid} on " in r.output
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    return h


def test_killed_run_resumes_to_identical_results(reference, tmp_path):
    out = tmp_path / "killed"
    _run_until(out, _pretraining)  # during pretraining (timing-based)
    assert not results(out) and list(out.glob("runs/*/running.json"))
    r = runner.invoke(app, ["status", str(out)])  # the killed run's marker names a dead pid
    assert "2 runs: 0 done, 0 running, 0 failed, 2 pending" in r.output, r.output

    h = _run_paused(out, "probe")  # a probe computed, its file not yet written
    run = out / "runs" / h
    assert (run / "pretrain.pt").exists() and not list(run.glob("probes/*.json"))
    assert _run_paused(out, "result") == h  # result.json's temporary file written, not renamed
    assert list(run.glob(".result.json.*.tmp")) and not (run / "result.json").exists()
    assert len(list(run.glob("probes/*.json"))) == 2

    proc = t2d("run", "demo", *SMOKE, "--out", str(out))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert results(out) == results(reference)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert not list(out.glob("runs/*/running.json"))
    assert "reusing pretrain.pt" in (run / "log.txt").read_text()
    assert all((p.parent / "provenance.json").exists() for p in out.glob("runs/*/spec.json"))
