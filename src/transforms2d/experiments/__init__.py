"""Experiments: content-addressed run specs, the run store, executors and the registry.

``t2d run EXPERIMENT`` builds an experiment's run specs for a profile, computes the runs not yet
done into ``DIR/runs/<hash>/`` (resuming killed ones) and ``t2d report`` aggregates them.
"""

from . import (
    demo,  # noqa: F401  (each experiment module registers itself on import)
    e1,  # noqa: F401
    e2,  # noqa: F401
    e3,  # noqa: F401
    e4,  # noqa: F401
)
from .executors import EXECUTORS, Executor, LocalExecutor, Summary, get_executor, register_executor
from .pool_executor import PoolExecutor  # noqa: F401  (registers "pool")
from .ray_executor import RayExecutor  # noqa: F401  (registers "ray"; imports ray lazily)
from .registry import EXPERIMENTS, PROFILES, Experiment, get_experiment, register_experiment
from .run import execute
from .spec import InvarianceTarget, ProbeTarget, RunSpec, canonical_json, spec_hash
from .stats import MeanCI, mean_ci
from .store import DONE, FAILED, PENDING, RUNNING, STATUSES, RunStore

__all__ = [
    "DONE", "EXECUTORS", "EXPERIMENTS", "FAILED", "PENDING", "PROFILES", "RUNNING", "STATUSES",
    "Executor", "Experiment", "InvarianceTarget", "LocalExecutor", "MeanCI", "ProbeTarget",
    "RunSpec", "RunStore", "Summary", "canonical_json", "execute", "get_executor",
    "get_experiment", "mean_ci",
    "register_executor", "register_experiment", "spec_hash",
]
