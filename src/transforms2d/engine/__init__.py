"""The experiment engine's core: content-addressed run specs, the run store and its leases, run
execution, executors (local, pool, Ray), the experiment registry and size overrides, claiming
a grid, provenance, verify, plan and rehearse. Reports, the progress display, trackers and
statistics are :mod:`transforms2d.reporting`, above it. It knows nothing about the paper: the
experiments live in :mod:`transforms2d.study` and register themselves here.

``t2d run EXPERIMENT`` builds an experiment's run specs for a profile, computes the runs not yet
done into ``DIR/runs/<hash>/`` (resuming killed ones) and ``t2d report`` aggregates them.
"""

from . import pool_executor, ray_executor  # noqa: F401  (register "pool" and "ray"; Ray loads lazily)
from .executors import (
    EXECUTORS,
    Executor,
    LocalExecutor,
    Summary,
    get_executor,
    register_executor,
    unique,
)
from .registry import (
    EXPERIMENTS,
    Experiment,
    get_experiment,
    paper_experiments,
    register_experiment,
    unregister_experiment,
)
from .run import execute
from .spec import InvarianceTarget, ProbeTarget, RunSpec, canonical_json, spec_hash
from .store import DONE, FAILED, PENDING, RUNNING, STATUSES, RunStore

__all__ = [
    "DONE", "EXECUTORS", "EXPERIMENTS", "FAILED", "PENDING", "RUNNING", "STATUSES", "Executor",
    "Experiment", "InvarianceTarget", "LocalExecutor", "ProbeTarget", "RunSpec",
    "RunStore", "Summary", "canonical_json", "execute", "get_executor", "get_experiment",
    "paper_experiments", "register_executor", "register_experiment", "spec_hash",
    "unique", "unregister_experiment",
]
