"""The end-to-end rehearsal of the ``paper`` profile, shared by the two test files that split
it (pytest-xdist runs files in parallel: E1 alone costs about as much as E2-E4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from transforms2d.engine import RunStore, spec_hash
from transforms2d.engine.rehearse import BANNER
from transforms2d.study import get_experiment

BATCH_CAP = 8  # CI's CPU cannot afford a paper batch; models and images keep their real size


def rehearse(out: Path, experiments: str, cifar_root: Path) -> subprocess.CompletedProcess:
    """``t2d reproduce --profile paper --rehearse`` of ``experiments``, one seed, in a real
    subprocess with CIFAR found at ``cifar_root``."""
    env = {**os.environ, "T2D_CIFAR_ROOT": str(cifar_root)}
    cmd = [sys.executable, "-m", "transforms2d", "reproduce", "--profile", "paper",
           "--rehearse", "--rehearse-batch", str(BATCH_CAP), "--seeds", "1",
           "--experiments", experiments, "--executor", "local", "--no-plan", "--out", str(out)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)


def check_rehearsal(out: Path, names: list[str]) -> dict[str, list]:
    """Assert what marks ``out`` as a finished rehearsal; return each experiment's run specs."""
    assert (out / "REHEARSAL.md").exists()
    assert BANNER.splitlines()[0] in (out / "REPORT.md").read_text()
    specs = {}
    for name in names:
        store = RunStore(out / name)
        rec = store.experiment()
        assert rec["rehearsal"]["batch_cap"] == BATCH_CAP
        assert len(store.hashes()) < rec["rehearsal"]["grid_runs"]
        assert all(store.status(h) == "done" for h in store.hashes())
        assert BANNER.splitlines()[0] in (out / name / "report.md").read_text()
        assert json.loads((out / name / "claims.json").read_text())["rehearsal"]
        real = {spec_hash(s) for s in get_experiment(name).specs("paper", 1)}
        assert not real & set(store.hashes())  # other hashes: never mistaken for results
        specs[name] = [store.load_spec(h) for h in store.hashes()]
    return specs
