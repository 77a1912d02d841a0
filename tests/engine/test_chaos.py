"""Chaos: random SIGKILLs of pool workers and of drivers, and drivers racing on one folder,
during a smoke grid; at the end every result is byte-identical to an undisturbed run's, no
stage was computed twice except after its process was killed, and nothing is half-written."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.engine import results, t2d
from transforms2d.engine.lease import LEASE, read_lease

GRID = ["run", "demo", "--profile", "smoke", "--seeds", "4", "--executor", "pool",
        "--workers", "2"]
MIN_KILLS = 10
START = re.compile(r"\[(\d+)\] (pretrain|probe \S+): start")


def start_driver(out: Path, rng: random.Random) -> subprocess.Popen:
    """A driver whose runs pause (0.4 s) at some of the stage boundaries, so that kills land
    inside runs: after training, after a probe, before the result's rename."""
    points = ",".join(p for p in ("pretrain", "probe", "result") if rng.random() < 0.7)
    env = {**os.environ, "T2D_TEST_PAUSE_AT": points or "probe", "T2D_TEST_PAUSE_S": "0.4"}
    return subprocess.Popen([sys.executable, "-m", "transforms2d", *GRID, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def worker_pids(out: Path, drivers: list[subprocess.Popen]) -> list[int]:
    """Pids of the pool workers holding leases now (not the drivers)."""
    own = {d.pid for d in drivers}
    pids = [(read_lease(p) or {}).get("pid") for p in out.glob(f"runs/*/{LEASE}")]
    return sorted({p for p in pids if isinstance(p, int) and p not in own})


def wait_for_worker(out: Path, drivers: list[subprocess.Popen], deadline: float) -> int | None:
    """A pool worker holding a lease, once one does (None if the drivers ended first)."""
    while time.monotonic() < deadline:
        workers = worker_pids(out, drivers)
        if workers:
            return random.Random(sum(workers)).choice(workers)
        if all(d.poll() is not None for d in drivers):
            return None
        time.sleep(0.05)
    return None


def kill(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def chaos(out: Path, rng: random.Random, deadline: float) -> dict:
    """Keep one or two drivers running on ``out`` and SIGKILL a random worker or driver at
    random moments until ``MIN_KILLS`` kills landed (or the grid finished)."""
    drivers, killed, counts = [], set(), {"worker": 0, "driver": 0, "races": 0}
    while counts["worker"] + counts["driver"] < MIN_KILLS and time.monotonic() < deadline:
        live = [d for d in drivers if d.poll() is None]
        if not live:
            race = rng.random() < 0.4  # two drivers started at once on the folder
            drivers += [start_driver(out, rng) for _ in range(2 if race else 1)]
            counts["races"] += race
        if rng.random() < 0.5:  # a worker, at a random moment of its run
            pid, kind = wait_for_worker(out, drivers, deadline), "worker"
            time.sleep(rng.uniform(0.0, 0.8))
        else:  # a driver, at a random moment (starting, dispatching, waiting)
            time.sleep(rng.uniform(0.5, 5.0))
            live = [d for d in drivers if d.poll() is None]
            pid, kind = (rng.choice(live).pid if live else None), "driver"
        if pid is None:
            continue
        if kill(pid):
            killed.add(pid)
            counts[kind] += 1
    return {"drivers": drivers, "killed": killed, **counts}


def duplicated_stages(out: Path, killed: set[int]) -> list[str]:
    """Stages started again although the process that started them before was not killed."""
    dup = []
    for log in out.glob("runs/*/log.txt"):
        last: dict[str, int] = {}
        for pid, stage in START.findall(log.read_text()):
            if stage in last and last[stage] not in killed:
                dup.append(f"{log.parent.name} {stage}: pid {last[stage]} then {pid}")
            last[stage] = int(pid)
    return dup


@pytest.mark.slow
def test_random_kills_and_racing_drivers_leave_identical_results(tmp_path):
    ref = tmp_path / "ref"
    proc = t2d(*GRID, "--out", str(ref))
    assert proc.returncode == 0, proc.stderr
    out, rng = tmp_path / "chaos", random.Random(20261203)
    state = chaos(out, rng, time.monotonic() + 420)
    assert state["worker"] + state["driver"] >= MIN_KILLS, state
    final = t2d(*GRID, "--out", str(out), timeout=600)  # waits for orphaned workers' runs
    assert final.returncode == 0, final.stderr + final.stdout
    for d in state["drivers"]:
        _, stderr = d.communicate(timeout=300)
        if d.returncode != -signal.SIGKILL:
            assert "Traceback" not in stderr, stderr
    assert results(out) == results(ref)
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp") or p.name == LEASE]
    assert not leftovers
    assert duplicated_stages(out, state["killed"]) == []
    for log in out.glob("runs/*/log.txt"):
        assert log.read_text().count("result: written") == 1, log
    print(f"chaos: {state['worker']} workers and {state['driver']} drivers killed, "
          f"{state['races']} races of two drivers, 0 stages duplicated")
