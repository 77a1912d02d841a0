"""The ``ray`` executor on a real multi-node Ray cluster on this machine: a head (no CPUs: it
only hosts the driver) and two worker nodes of one CPU each, separate raylets started by
``ray.cluster_utils.Cluster``, each with its own scratch folder (``T2D_SCRATCH``) and no
shared store: results travel back through Ray's object store and the driver (``t2d run`` in a
subprocess) commits them.

One worker node is SIGKILLed while it holds a run (``remove_node(allow_graceful=False)``), or
the driver is SIGKILLed mid-grid and started again, or the head node is SIGKILLed (the grid
ends with a one-line error) and the command rerun on a new cluster; each time the grid
completes, every run is committed once, ``t2d verify`` finds nothing wrong and the results
are byte-identical to the local executor's at one thread (see tests/engine/test_ray.py on
threads).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from ray.cluster_utils import Cluster  # noqa: E402

from tests.helpers import torch_threads  # noqa: E402
from tests.helpers.engine import results, t2d  # noqa: E402
from transforms2d.engine import EXPERIMENTS, LocalExecutor, RunStore  # noqa: E402
from transforms2d.engine.lease import LEASE, read_lease  # noqa: E402
from transforms2d.engine.run import PAUSE_ENV  # noqa: E402
from transforms2d.engine.transfer import SCRATCH_ENV  # noqa: E402

SEEDS = 2  # demo at smoke: 2 families x 2 seeds = 4 runs, about a second each
GRID = ["run", "demo", "--profile", "smoke", "--seeds", str(SEEDS), "--executor", "ray"]
# Each run pauses after each of its two probes, so that a kill lands while a node holds it.
PAUSE = {PAUSE_ENV: "probe", "T2D_TEST_PAUSE_S": "1.5"}
# Notice a dead node within ~2 s instead of Ray's default ~15 s (test speed only).
FAST_HEALTH = {"health_check_period_ms": 500, "health_check_failure_threshold": 4}
COMMITTED = re.compile(r"computed on Ray node (\w+) .*: result committed")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    """The grid computed in-process by the local executor with 1 torch thread."""
    out = tmp_path_factory.mktemp("local") / "demo"
    with torch_threads(1):
        summary = LocalExecutor().run(EXPERIMENTS["demo"].specs("smoke", SEEDS), RunStore(out))
    assert summary.ok and len(summary.computed) == 2 * SEEDS
    return results(out)


@contextlib.contextmanager
def make_cluster(folder: Path):
    """A head without CPUs and worker nodes ``a`` and ``b`` (1 CPU each, their scratch folders
    under ``folder``); yields ``(cluster, {name: (node, scratch folder)})``, then removes
    every node left."""
    c = Cluster(initialize_head=True, head_node_args=dict(
        num_cpus=0, include_dashboard=False, _system_config=FAST_HEALTH))
    nodes = {}
    try:
        for name in ("a", "b"):
            scratch = folder / f"scratch-{name}"
            env = {SCRATCH_ENV: str(scratch), **PAUSE}
            nodes[name] = (c.add_node(num_cpus=1, env_vars=env), scratch)
        c.wait_for_nodes()
        yield c, nodes
    finally:
        c.shutdown()


@pytest.fixture
def cluster(tmp_path):
    with make_cluster(tmp_path) as made:
        yield made


def start_driver(address: str, out: Path) -> subprocess.Popen:
    """``t2d run`` of the grid on the cluster, as its own process (the driver)."""
    env = {k: v for k, v in os.environ.items() if k not in PAUSE and k != SCRATCH_ENV}
    return subprocess.Popen([sys.executable, "-m", "transforms2d", *GRID, "--out", str(out),
                             "--ray-address", address], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def held(scratch: Path) -> set[str]:
    """The runs that a node is computing now: leased in its scratch folder."""
    return {p.parent.name for p in scratch.glob(f"runs/*/{LEASE}")}


def lease_pids(out: Path) -> set[int]:
    """The pids holding leases in the driver's folder now."""
    return {(read_lease(p) or {}).get("pid") for p in out.glob(f"runs/*/{LEASE}")} - {None}


def wait_until(check, driver: subprocess.Popen, what: str, timeout: float = 180) -> None:
    """Poll ``check()`` (every 0.05 s) until true; fail if the driver ended first."""
    deadline = time.monotonic() + timeout
    while not check():
        assert driver.poll() is None, f"the driver ended before {what}: {driver.communicate()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def snapshot(out: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``out`` with its size and modification time."""
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in out.rglob("*")
            if p.is_file()}


def check_store(out: Path, reference: dict[str, bytes]) -> dict[str, list[str]]:
    """Results equal the reference, t2d verify passes, no lease or temporary file is left,
    and each run's log says its result was committed once; ``{run: [node of that commit]}``."""
    assert results(out) == reference
    proc = t2d("verify", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp") or p.name == LEASE]
    commits = {h: COMMITTED.findall((out / "runs" / h / "log.txt").read_text())
               for h in reference}
    assert all(len(nodes) == 1 for nodes in commits.values()), commits
    return commits


@pytest.mark.slow
def test_a_killed_worker_node_loses_nothing(cluster, reference, tmp_path):
    c, nodes = cluster
    (node_a, scratch_a), (node_b, scratch_b) = nodes["a"], nodes["b"]
    out = tmp_path / "demo"
    t0 = time.monotonic()
    driver = start_driver(c.address, out)
    pids: set[int] = set()

    def b_holds_a_run() -> bool:
        pids.update(lease_pids(out))
        return bool(held(scratch_b))
    wait_until(b_holds_a_run, driver, "node b holds a run")
    lost = held(scratch_b)
    c.remove_node(node_b, allow_graceful=False)  # SIGKILL: raylet, object store, workers
    stdout, stderr = driver.communicate(timeout=300)
    wall = time.monotonic() - t0
    assert driver.returncode == 0, stdout + stderr
    assert f"{2 * SEEDS} computed, 0 reused, 0 failed" in stdout, stdout
    commits = check_store(out, reference)
    assert pids == {driver.pid}  # only the driver ever held a run in its folder
    for h in lost:  # retried by Ray on the surviving node, committed from there
        assert commits[h] == [node_a.node_id[:8]], (h, commits)
    assert lost <= {p.name for p in scratch_b.glob("runs/*")}  # the dead attempt's
    assert not list(scratch_a.glob("runs/*"))  # the survivor cleaned up what it returned
    print(f"node b killed holding {len(lost)} run(s) {sorted(lost)}; grid done in "
          f"{wall:.1f}s")


@pytest.mark.slow
def test_a_restarted_driver_resumes_without_duplicates(cluster, reference, tmp_path):
    c, _ = cluster
    out = tmp_path / "demo"
    t0 = time.monotonic()
    first = start_driver(c.address, out)
    wait_until(lambda: len(results(out)) >= 1, first, "a first committed run")
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=60)
    before = results(out)
    assert 1 <= len(before) < 2 * SEEDS, "the driver was killed mid-grid"
    files = snapshot(out)
    time.sleep(2.0)  # the killed driver's tasks may still run: none writes into --out
    assert snapshot(out) == files
    second = start_driver(c.address, out)
    stdout, stderr = second.communicate(timeout=300)
    wall = time.monotonic() - t0
    assert second.returncode == 0, stdout + stderr
    left = 2 * SEEDS - len(before)
    assert f"{left} computed, {len(before)} reused, 0 failed" in stdout, stdout
    check_store(out, reference)
    print(f"driver killed after {len(before)} of {2 * SEEDS} runs; grid done in {wall:.1f}s")


@pytest.mark.slow
def test_a_lost_head_ends_the_grid_and_a_rerun_resumes(cluster, reference, tmp_path):
    c, _ = cluster
    out = tmp_path / "demo"
    t0 = time.monotonic()
    first = start_driver(c.address, out)
    wait_until(lambda: len(results(out)) >= 1, first, "a first committed run")
    c.remove_node(c.head_node, allow_graceful=False)  # the GCS with it: the cluster is gone
    stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == 2, stdout + stderr
    assert "Lost the Ray cluster" in stderr and "Traceback" not in stderr, stderr
    before = results(out)
    assert 1 <= len(before) < 2 * SEEDS
    assert not list(out.glob(f"runs/*/{LEASE}"))  # the driver gave its leases back
    with make_cluster(tmp_path / "again") as (again, _):
        second = start_driver(again.address, out)
        stdout, stderr = second.communicate(timeout=300)
    wall = time.monotonic() - t0
    assert second.returncode == 0, stdout + stderr
    assert f"{2 * SEEDS - len(before)} computed, {len(before)} reused, 0 failed" in stdout
    check_store(out, reference)
    print(f"head killed after {len(before)} of {2 * SEEDS} runs; rerun on a new cluster done, "
          f"{wall:.1f}s in all")
