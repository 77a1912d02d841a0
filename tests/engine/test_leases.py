"""Leases (one computer per run across processes and hosts), the self-healing store
(quarantine of unreadable artifacts) and ``t2d verify``."""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import pytest

from tests.helpers.engine import SMOKE, dead_pid, results, t2d, tiny_spec
from transforms2d.cli import app
from transforms2d.engine import RunStore, execute, spec_hash
from transforms2d.engine.executors import LocalExecutor, compute
from transforms2d.engine.lease import LEASE, RunHeld, acquire, holder
from transforms2d.engine.run import LeaseLost


def write_lease(run_dir, **fields):
    run_dir.mkdir(parents=True, exist_ok=True)
    lease = {"host": socket.gethostname(), "pid": os.getpid(), "token": "t",
             "heartbeat": time.time(), "started": "then", **fields}
    (run_dir / LEASE).write_text(json.dumps(lease))
    return lease


# -- the lease itself ------------------------------------------------------------------------
def test_a_held_lease_refuses_a_second_holder_until_released(tmp_path):
    lease = acquire(tmp_path)
    with pytest.raises(RunHeld, match=f"pid {os.getpid()} on {socket.gethostname()}"):
        acquire(tmp_path)
    assert holder(tmp_path)["token"] == lease.token
    lease.release()
    assert holder(tmp_path) is None and not (tmp_path / LEASE).exists()
    acquire(tmp_path).release()


@pytest.mark.parametrize("stale", [dict(pid=None), dict(host="elsewhere", heartbeat=0.0)],
                         ids=["dead-pid-here", "old-heartbeat-elsewhere"])
def test_a_stale_lease_is_taken_over(tmp_path, stale, monkeypatch):
    monkeypatch.setenv("T2D_LEASE_STALE_S", "60")

    write_lease(tmp_path, **{k: (dead_pid() if k == "pid" else v) for k, v in stale.items()})
    with acquire(tmp_path) as lease:
        assert json.loads((tmp_path / LEASE).read_text())["token"] == lease.token


def test_a_live_lease_on_another_host_is_respected(tmp_path, monkeypatch):
    monkeypatch.setenv("T2D_LEASE_STALE_S", "60")
    write_lease(tmp_path, host="node7", pid=1, heartbeat=time.time() - 30)
    with pytest.raises(RunHeld, match="pid 1 on node7"):
        acquire(tmp_path)


@pytest.mark.parametrize("stale_first", [False, True], ids=["free", "stale"])
def test_of_many_simultaneous_contenders_exactly_one_wins(tmp_path, stale_first, monkeypatch):
    """Threads of one process contend as processes do (O_EXCL is per file, not per pid); with
    a stale lease in place they race through the takeover too."""
    monkeypatch.setenv("T2D_LEASE_STALE_S", "60")
    if stale_first:
        write_lease(tmp_path, host="elsewhere", heartbeat=0.0)
    start, wins, held = threading.Barrier(8), [], []

    def contend():
        start.wait()
        try:
            wins.append(acquire(tmp_path))
        except RunHeld:
            held.append(1)
    threads = [threading.Thread(target=contend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and len(held) == 7
    assert json.loads((tmp_path / LEASE).read_text())["token"] == wins[0].token
    wins[0].release()


def test_the_heartbeat_refreshes_and_a_lost_lease_writes_no_result(tmp_path, monkeypatch):
    monkeypatch.setenv("T2D_LEASE_HEARTBEAT_S", "0.05")
    spec, run = tiny_spec(), tmp_path / "run"
    lease = acquire(run)
    first = lease.content["heartbeat"]
    time.sleep(0.3)
    assert json.loads((run / LEASE).read_text())["heartbeat"] > first
    write_lease(run, token="someone-else")  # taken over while this process was frozen
    with pytest.raises(LeaseLost):
        execute(spec, run, lease=lease)
    assert lease.lost and not (run / "result.json").exists()
    lease.release()  # not ours any more: left in place
    assert json.loads((run / LEASE).read_text())["token"] == "someone-else"


def test_a_run_held_elsewhere_is_skipped_then_waited_for(tmp_path, monkeypatch):
    """The local executor skips a leased run, computes the others, then waits: the holder
    dies (its heartbeat goes stale) and the run is computed here."""
    monkeypatch.setenv("T2D_LEASE_STALE_S", "2")
    store = RunStore(tmp_path)
    a, b = tiny_spec(seed=0), tiny_spec(seed=1)
    write_lease(store.run_dir(a), host="node7", pid=1)
    events = []
    runner = LocalExecutor()
    runner.poll_s = 0.2
    summary = runner.run([a, b], store, lambda kind, h, i, n: events.append((kind, h)))
    ha, hb = spec_hash(a), spec_hash(b)
    assert summary.ok and sorted(summary.computed) == sorted([ha, hb])
    assert events[:3] == [("held", ha), ("start", hb), ("done", hb)]
    assert events[-1] == ("done", ha)
    assert compute(a, store) == {"reused": True}


def test_two_drivers_on_one_folder_compute_every_run_once(tmp_path, demo_reference):
    """Two `t2d run demo` processes started at once on one output folder share its runs: each
    of the 4 runs is computed by one of them only, and the results equal a single driver's."""
    import subprocess
    import sys

    out = tmp_path / "shared"
    args = [sys.executable, "-m", "transforms2d", "run", "demo", "--profile", "smoke",
            "--seeds", "2", "--out", str(out)]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    logs = [p.read_text() for p in out.glob("runs/*/log.txt")]
    assert len(logs) == 4
    assert [text.count("pretrain: start") for text in logs] == [1, 1, 1, 1]
    assert [text.count("result: written") for text in logs] == [1, 1, 1, 1]
    computed = sum(int(o.split(" computed")[0].rsplit(" ", 1)[1]) for o, _ in outputs)
    assert computed == 4, outputs
    ref = results(demo_reference)
    assert {h: b for h, b in results(out).items() if h in ref} == ref


# -- self-healing store and verify -----------------------------------------------------------
def test_unreadable_artifacts_are_quarantined_and_recomputed(tmp_path, demo_reference, runner):
    out = tmp_path / "demo"
    assert t2d("run", "demo", *SMOKE, "--out", str(out)).returncode == 0
    h = sorted(p.parent.name for p in out.glob("runs/*/pretrain.pt"))[0]
    run = out / "runs" / h
    ckpt = run / "pretrain.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:100])  # a partial copy
    probe = sorted(run.glob("probes/*.json"))[0]
    probe.write_text('{"spec_hash": ')  # a full disk
    (run / "result.json").write_text("{}")

    r = runner.invoke(app, ["verify", str(out)])
    assert r.exit_code == 0, r.output  # result.json unreadable: the run is not done, not bad
    proc = t2d("run", "demo", *SMOKE, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert results(out) == results(demo_reference)
    moved = sorted(p.name.split(".")[0] for p in (run / "quarantine").iterdir()
                   if not p.name.endswith(".reason"))
    assert moved == sorted(["pretrain", probe.stem, "result"])
    reasons = " ".join(p.read_text() for p in (run / "quarantine").glob("*.reason"))
    assert "not a readable transforms2d checkpoint" in reasons
    status = runner.invoke(app, ["status", str(out)])
    assert status.output.count("quarantined ") == 3, status.output


def test_verify_finds_a_broken_done_run_and_quarantines_it(tmp_path, runner):
    out = tmp_path / "demo"
    assert t2d("run", "demo", *SMOKE, "--out", str(out)).returncode == 0
    r = runner.invoke(app, ["verify", str(out)])
    assert r.exit_code == 0 and "2 of 2 runs done and checked, 0 problem(s)" in r.output
    h = sorted(p.parent.name for p in out.glob("runs/*/pretrain.pt"))[0]
    ckpt = out / "runs" / h / "pretrain.pt"
    ckpt.write_bytes(b"")
    r = runner.invoke(app, ["verify", str(out)])
    assert r.exit_code == 1 and f"bad {h}/pretrain.pt: " in r.output, r.output
    r = runner.invoke(app, ["verify", str(out), "--quarantine"])
    assert r.exit_code == 1 and "moved to " in r.output and not ckpt.exists()
    assert runner.invoke(app, ["verify", str(out)]).exit_code == 0
    r = runner.invoke(app, ["verify", str(tmp_path / "nothing")])
    assert r.exit_code != 0 and "holds no experiment" in r.output


def test_out_of_memory_is_recorded_in_one_line_with_the_batch_sizes(tmp_path, monkeypatch):
    """A CUDA OOM cannot be produced on a CPU: the model's forward raises torch's own
    OutOfMemoryError instead; the run is recorded as failed with a one-line message."""
    import torch

    from tests.helpers.engine import tiny_spec
    from transforms2d.engine import RunStore, spec_hash
    from transforms2d.engine.executors import compute
    from transforms2d.models.vgg import VGG

    def oom(self, x):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(VGG, "features", oom)  # convnet_xs is a VGG
    store = RunStore(tmp_path / "out")
    spec = tiny_spec()
    out = compute(spec, store)
    assert out["ok"] is False
    assert out["message"].startswith("out of memory on cpu with pretraining batch size "
                                     f"{spec.train['batch_size']}")
    assert "--set batch_size=N" in out["message"]
    err = store.error(spec_hash(spec))
    assert err["type"] == "OutOfMemory" and "Tried to allocate" in err["traceback"]
