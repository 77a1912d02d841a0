"""The study: the paper's four experiments (E1–E4), a small demo, ``t2d reproduce`` and the
aggregation helpers they share. Importing this package registers every experiment with the
engine's registry (:mod:`transforms2d.engine.registry`).
"""

from ..engine.registry import EXPERIMENTS, get_experiment, paper_experiments
from . import demo, e1, e2, e3, e4  # noqa: F401  (each module registers its experiment)

__all__ = ["EXPERIMENTS", "get_experiment", "paper_experiments"]
