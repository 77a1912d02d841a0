"""The ``pool`` executor: spawned local worker processes with one torch thread each give the
same result bytes as the in-process executor with one thread; failures are recorded by the
worker with its traceback and the others go on; bad options are one line."""

from __future__ import annotations

import json

import pytest

from tests.helpers import torch_threads
from tests.helpers.engine import SMOKE, results
from transforms2d.cli import app
from transforms2d.engine import (
    EXPERIMENTS,
    Experiment,
    LocalExecutor,
    ProbeTarget,
    RunSpec,
    RunStore,
    get_executor,
    spec_hash,
)
from transforms2d.errors import ConfigError


@pytest.mark.slow
def test_pool_equals_local_one_thread_bytes_and_rerun_reuses(tmp_path):
    specs = EXPERIMENTS["demo"].specs("smoke", 1)
    with torch_threads(1):
        assert LocalExecutor().run(specs, RunStore(tmp_path / "local")).ok
    events = []
    pool = get_executor("pool", workers=2)
    summary = pool.run(specs, RunStore(tmp_path / "pool"), lambda *e: events.append(e[:2]))
    assert summary.ok and len(summary.computed) == len(specs) == 2
    assert results(tmp_path / "pool") == results(tmp_path / "local")
    assert sorted(k for k, _ in events) == ["done", "done", "start", "start"]
    again = pool.run(specs, RunStore(tmp_path / "pool"))
    assert again.reused == [spec_hash(s) for s in specs] and not again.computed


def tiny(**kw) -> RunSpec:
    data = dict(objects=2, n=16, image_size=16)
    return RunSpec(**{"model": "convnet_xs", "source": data,
                      "train": {"epochs": 1, "batch_size": 8},
                      "probes": (ProbeTarget("a", data, data, probe={"epochs": 2, "views": 1}),),
                      **kw})


@pytest.mark.slow
def test_failing_run_recorded_by_worker_others_go_on(tmp_path, monkeypatch, runner):
    good, bad = tiny(), tiny(model="no_such_model")
    monkeypatch.setitem(EXPERIMENTS, "broken", Experiment(
        "broken", lambda profile, seeds: [bad, good], lambda recs, profile: {"markdown": "ok\n"}))
    out, hb, hg = tmp_path / "broken", spec_hash(bad), spec_hash(good)
    args = ["run", "broken", *SMOKE, "--out", str(out), "--executor", "pool", "--workers", "2"]
    r = runner.invoke(app, args)
    assert r.exit_code == 1, r.output
    assert f"failed {hb}: Unknown model 'no_such_model'" in r.output
    err = json.loads((out / "runs" / hb / "error.json").read_text())
    assert err["type"] == "ConfigError" and "run_in_worker" in err["traceback"]
    assert (out / "runs" / hg / "result.json").exists()
    r = runner.invoke(app, args)  # the rerun retries only the failed run
    assert r.exit_code == 1 and "0 computed, 1 reused, 1 failed" in r.output, r.output


@pytest.mark.parametrize("kw", [{"workers": 0}, {"workers": "2"}, {"threads_per_run": 0}])
def test_bad_pool_options(kw):
    with pytest.raises(ConfigError, match=r"must be an int in \[1, inf\)"):
        get_executor("pool", **kw)


def test_workers_needs_the_pool_executor(tmp_path, runner):
    r = runner.invoke(app, ["run", "demo", *SMOKE, "--out", str(tmp_path / "x"),
                            "--workers", "2"])
    assert r.exit_code == 2 and "--workers needs --executor pool" in r.output
