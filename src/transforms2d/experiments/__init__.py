"""Experiments: content-addressed run specs, the run store, executors and the registry.

``t2d run EXPERIMENT`` builds an experiment's run specs for a profile, computes the runs not yet
done into ``DIR/runs/<hash>/`` (resuming killed ones) and ``t2d report`` aggregates them.
"""

from .executors import EXECUTORS, Executor, LocalExecutor, Summary, get_executor, register_executor
from .registry import EXPERIMENTS, PROFILES, Experiment, get_experiment, register_experiment
from .run import execute
from .spec import InvarianceTarget, ProbeTarget, RunSpec, canonical_json, spec_hash
from .store import DONE, FAILED, PENDING, RunStore

__all__ = [
    "DONE", "EXECUTORS", "EXPERIMENTS", "FAILED", "PENDING", "PROFILES", "Executor",
    "Experiment", "InvarianceTarget", "LocalExecutor", "ProbeTarget", "RunSpec", "RunStore",
    "Summary", "canonical_json", "execute", "get_executor", "get_experiment",
    "register_executor", "register_experiment", "spec_hash",
]
