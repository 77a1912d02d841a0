"""The experiment engine: run hashing, the atomic store, and resuming after SIGKILL in a real
subprocess with bit-identical results (`t2d run/status/report` themselves: tests/cli)."""

from __future__ import annotations

import json
import math
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.engine import SMOKE, results, t2d, tiny_spec
from transforms2d.cli import app
from transforms2d.engine import RunSpec, RunStore, canonical_json, execute, spec_hash
from transforms2d.engine import run as run_mod
from transforms2d.engine.spec import SPEC_FORMAT, train_settings
from transforms2d.engine.store import RESULT_FORMAT
from transforms2d.errors import ConfigError
from transforms2d.train import TrainConfig, recipe_for


# -- hashing ---------------------------------------------------------------------------------
def test_same_run_same_hash_whatever_the_spelling():
    a = tiny_spec()
    assert spec_hash(a) == spec_hash(tiny_spec()) and len(spec_hash(a)) == 16
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
    assert spec_hash(tiny_spec().replace(**change)) != spec_hash(tiny_spec())


@pytest.mark.parametrize("edit,field", [
    (lambda d: d["train"].update(epochs=0), "epochs"),
    (lambda d: d["train"].update(epoch=3), "train.epoch"),
    (lambda d: d.update(colour="red"), "colour"),
    (lambda d: d.pop("model"), "model"),
    (lambda d: d["source"].update(bogus=1), "source.bogus"),
    (lambda d: d["invariance"][0].update(metrics=["l3"]), "invariance.a.metrics"),
    (lambda d: d.update(seed=-1), "seed"),
    # a count is expanded to a list of indices before any pack is read: 2**31 would ask for
    # ~20 GB (found by the fuzzer, whose xdist worker the kernel then killed)
    (lambda d: d["source"].update(objects=2 ** 31), "source.objects"),
    (lambda d: d["source"].update(objects=2 ** 63), "source.objects"),
])
def test_invalid_spec_dict_is_one_line_naming_the_field(edit, field):
    d = tiny_spec().to_dict()
    edit(d)
    with pytest.raises(ConfigError, match=field) as info:
        RunSpec.from_dict(d)
    assert "\n" not in str(info.value)


def test_spec_format_is_written_and_checked():
    d = tiny_spec().to_dict()
    assert d["format"] == SPEC_FORMAT == 2
    with pytest.raises(ConfigError, match=f"'format' field must be {SPEC_FORMAT}"):
        RunSpec.from_dict({**d, "format": SPEC_FORMAT - 1})


def test_train_settings_take_the_profile_sizes_and_its_early_stop():
    plain = train_settings("convnet_xs", {"epochs": 3, "batch_size": 16, "n": 999})
    assert plain == {k: v for k, v in recipe_for("convnet_xs", epochs=3, batch_size=16)
                     .to_dict().items() if k not in ("device", "progress", "seed", "compile")}
    assert plain["stop_train_acc"] is None and plain["stop_patience"] == 2
    stop = train_settings("convnet_xs", {"epochs": 3, "batch_size": 16, "stop_train_acc": 0.99,
                                         "stop_patience": 3})
    assert (stop["stop_train_acc"], stop["stop_patience"]) == (0.99, 3)
    assert {k: v for k, v in stop.items() if not k.startswith("stop_")} == \
        {k: v for k, v in plain.items() if not k.startswith("stop_")}
    vit = train_settings("vit_s", {"epochs": 3, "batch_size": 16, "stop_train_acc": 0.9})
    assert vit["schedule"] == "warmup_cosine" and vit["stop_train_acc"] == 0.9
    a, b = (tiny_spec().replace(train=t) for t in (plain, stop))
    assert a.train["stop_train_acc"] is None and spec_hash(a) != spec_hash(b)
    assert TrainConfig(**b.train).stop_train_acc == 0.99  # a spec's train builds its config


def test_source_val_normalises_and_names_another_run():
    a = tiny_spec()
    val = dict(a.source, n=16)
    b = a.replace(source_val=val)
    assert a.source_val is None and b.source_val["n"] == 16 and spec_hash(a) != spec_hash(b)
    assert RunSpec.from_dict(json.loads(canonical_json(b))) == b
    with pytest.raises(ConfigError, match="source_val"):
        a.replace(source_val={**val, "bogus": 1})


def test_a_run_records_validation_curves_probe_loss_curves_and_finetuning(tmp_path,
                                                                          one_thread):
    from transforms2d.engine import ProbeTarget

    spec = tiny_spec()
    data = dict(spec.probes[0].train)
    spec = spec.replace(
        source_val=dict(spec.source, n=32), train={"epochs": 2, "batch_size": 32},
        probes=(*spec.probes, ProbeTarget("ft", data, data, probe={"epochs": 4, "views": 1},
                                          finetune={"epochs": 2, "batch_size": 16})))
    res = execute(spec, tmp_path / "run")
    pre = res["pretrain"]
    assert len(pre["history"]) == 2 and pre["stopped_early"] is False
    assert all(0 <= row["val_acc"] <= 1 and "test_acc" not in row for row in pre["history"])
    assert pre["final"]["val_acc"] == pre["history"][-1]["val_acc"]
    for name, epochs in (("a", 5), ("b", 5), ("ft", 4)):
        curve = res["probes"][name]["loss_curve"]
        assert len(curve) == epochs and all(math.isfinite(v) and v > 0 for v in curve)
        assert res["probes"][name]["acc_curve"][-1]["epoch"] == epochs
    ft = res["probes"]["ft"]["finetune"]
    assert len(ft["train_acc_curve"]) == 2 and ft["train_acc_curve"][-1] == ft["train_acc"]
    assert "finetune" not in res["probes"]["a"]
    stored = json.loads((tmp_path / "run/result.json").read_text())
    assert stored["format"] == RESULT_FORMAT and stored["probes"] == res["probes"]


def test_a_run_records_an_early_stop(tmp_path, one_thread):
    spec = tiny_spec(epochs=4, stop_train_acc=0.01, stop_patience=2)  # any accuracy beats it
    pre = execute(spec, tmp_path / "run")["pretrain"]
    assert pre["stopped_early"] is True and len(pre["history"]) == 2
    assert "2 epochs, stopped at the accuracy ceiling" in (tmp_path / "run/log.txt").read_text()


# -- store -----------------------------------------------------------------------------------
def test_partial_files_are_never_done(tmp_path):
    store, spec = RunStore(tmp_path), tiny_spec()
    h = spec_hash(spec)
    d = store.prepare(spec)
    assert store.status(h) == "pending"
    fmt = RESULT_FORMAT
    (d / ".result.json.abc123.tmp").write_text(f'{{"format": {fmt}}}')
    assert store.status(h) == "pending"
    (d / "result.json").write_text(f'{{"format": {fmt}, "spec_hash": "' + h)  # truncated
    assert store.status(h) == "pending"
    (d / "result.json").write_text(json.dumps({"format": fmt, "spec_hash": "0" * 16}))
    assert store.status(h) == "pending"  # a result of another run is not this run's
    (d / "result.json").write_text(json.dumps({"format": fmt - 1, "spec_hash": h}))
    assert store.status(h) == "pending"  # a result of an older format is redone
    (d / "result.json").write_text(json.dumps({"format": fmt, "spec_hash": h}))
    assert store.status(h) == "done"
    store.prepare(spec)
    assert not list(d.glob("*.tmp")) and not list(d.glob(".*.tmp"))


def test_a_run_killed_between_probes_redoes_only_the_rest(tmp_path, monkeypatch):
    spec, calls = tiny_spec(), []
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


def _run_paused(runner, out: Path, point: str, timeout: float = 120) -> str:
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


@pytest.mark.slow
def test_killed_run_resumes_to_identical_results(demo_reference, tmp_path, runner):
    reference = demo_reference
    out = tmp_path / "killed"
    _run_until(out, _pretraining)  # during pretraining (timing-based)
    assert not results(out) and list(out.glob("runs/*/lease.json"))
    r = runner.invoke(app, ["status", str(out)])  # the killed run's marker names a dead pid
    assert "2 runs: 0 done, 0 running, 0 failed, 2 pending" in r.output, r.output

    h = _run_paused(runner, out, "probe")  # a probe computed, its file not yet written
    run = out / "runs" / h
    assert (run / "pretrain.pt").exists() and not list(run.glob("probes/*.json"))
    # result.json's temporary file written, not renamed
    assert _run_paused(runner, out, "result") == h
    assert list(run.glob(".result.json.*.tmp")) and not (run / "result.json").exists()
    assert len(list(run.glob("probes/*.json"))) == 2

    proc = t2d("run", "demo", *SMOKE, "--out", str(out))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert results(out) == results(reference)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert not list(out.glob("runs/*/lease.json"))
    assert "reusing pretrain.pt" in (run / "log.txt").read_text()
    assert all((p.parent / "provenance.json").exists() for p in out.glob("runs/*/spec.json"))


def test_probe_settings_keep_legacy_hashes_and_name_the_solver():
    from transforms2d.engine.spec import ProbeTarget, probe_config

    data = dict(objects=2, transforms="rotate", n=16)
    adam = ProbeTarget("p", data, data, probe=dict(epochs=7, batch_size=8))
    assert "solver" not in adam.probe and "tol" not in adam.probe  # the pre-solver form
    assert probe_config(adam.probe).solver == "adam"
    explicit = ProbeTarget("p", data, data, probe=dict(solver="adam", epochs=7, batch_size=8))
    assert explicit.probe == adam.probe
    lbfgs = ProbeTarget("p", data, data, probe=dict(solver="lbfgs", views=2))
    assert lbfgs.probe["solver"] == "lbfgs" and "epochs" not in lbfgs.probe
    cfg = probe_config(lbfgs.probe, seed=3)
    assert (cfg.solver, cfg.views, cfg.seed) == ("lbfgs", 2, 3)


def test_keep_is_implicit_at_last_and_named_at_best_val():
    last = RunSpec(model="convnet_xs", source=dict(objects=2, n=16), train=dict(epochs=1))
    assert "keep" not in last.train
    best = last.replace(train=dict(epochs=1, keep="best_val"))
    assert best.train["keep"] == "best_val" and spec_hash(best) != spec_hash(last)
    with pytest.raises(ConfigError, match="keep"):
        last.replace(train=dict(keep="first"))
