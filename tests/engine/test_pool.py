"""The ``pool`` executor: spawned local worker processes with one torch thread each give the
same result bytes as the in-process executor with one thread; failures are recorded by the
worker with its traceback and the others go on; bad options are one line."""

from __future__ import annotations

import json
import os

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
    assert err["type"] == "ConfigError" and "in compute" in err["traceback"]
    assert err["pid"] != os.getpid()  # written by the worker
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


def kill_workers_once(store, specs, stop):
    """Kill the worker computing each run of ``specs`` once, as soon as its lease names it."""
    import os
    import signal
    import time

    from transforms2d.engine.lease import read_lease

    killed = []
    while not stop.is_set() and len(killed) < len(specs):
        for s in specs:
            lease = read_lease(store.run_dir(s) / "lease.json")
            pid = lease.get("pid") if lease else None
            if pid and pid != os.getpid() and pid not in killed:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        time.sleep(0.02)
    return killed


@pytest.mark.parametrize("retries", [2, 0])
def test_a_dead_worker_is_one_failed_attempt(tmp_path, retries):
    """SIGKILL each run's worker once: with retries the grid still ends with every result
    byte-identical to an undisturbed run; without, those runs fail with the cause and the
    driver returns normally."""
    import threading

    specs = [tiny(seed=s) for s in range(2)]
    with torch_threads(1):
        assert LocalExecutor().run(specs, RunStore(tmp_path / "ref")).ok
    store, stop = RunStore(tmp_path / "pool"), threading.Event()
    killer = threading.Thread(target=kill_workers_once, args=(store, specs, stop), daemon=True)
    killer.start()
    summary = get_executor("pool", workers=2, retries=retries).run(specs, store)
    stop.set()
    killer.join()
    for s in specs:
        attempts = json.loads((store.run_dir(s) / "attempts.json").read_text())
        assert [a["cause"] for a in attempts] == ["killed by signal 9 (SIGKILL)"]
    if retries:
        assert summary.ok and len(summary.computed) == 2
        assert results(tmp_path / "pool") == results(tmp_path / "ref")
    else:
        assert not summary.computed and set(summary.failed) == {spec_hash(s) for s in specs}
        assert all("killed by signal 9" in m for m in summary.failed.values())
        assert all(store.status(spec_hash(s)) == "failed" for s in specs)
