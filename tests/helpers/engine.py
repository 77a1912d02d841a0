"""Helpers for tests that run experiments: result bytes of a folder, the smoke options, and
the digest that pins a grid's spec hashes."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from transforms2d.engine import InvarianceTarget, ProbeTarget, RunSpec, spec_hash

SMOKE = ["--profile", "smoke", "--seeds", "1"]


def results(folder: Path) -> dict[str, bytes]:
    """``{run hash: result.json bytes}`` of the done runs of an experiment folder."""
    return {p.parent.name: p.read_bytes() for p in (folder / "runs").glob("*/result.json")}


def dead_pid() -> int:
    """The pid of a process that has exited (for stale-lease tests)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def t2d(*args: str, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    """Run the real console entry point (``python -m transforms2d``) in a subprocess."""
    return subprocess.run([sys.executable, "-m", "transforms2d", *args], capture_output=True,
                          text=True, timeout=timeout, **kw)


def spec_digest(specs) -> str:
    """sha256 (hex) of the comma-joined spec hashes of ``specs``, in order."""
    return hashlib.sha256(",".join(spec_hash(s) for s in specs).encode()).hexdigest()


def tiny_spec(model: str = "convnet_xs", seed: int = 0, **train) -> RunSpec:
    """A run small enough to compute in-process in about a second: two probes, one
    invariance target."""
    data = dict(objects=4, transforms="hue", n=32, image_size=16)
    return RunSpec(model=model, source={**data, "n": 64}, seed=seed,
                   train={"epochs": 1, "batch_size": 32, **train},
                   probes=(ProbeTarget("a", data, data, probe={"epochs": 5, "views": 1}),
                           ProbeTarget("b", {**data, "transforms": ""}, data,
                                       probe={"epochs": 5, "views": 1})),
                   invariance=(InvarianceTarget("a", data, metrics=("l2",)),))
