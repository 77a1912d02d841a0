"""The ``t2d`` command: one module per group of commands, heavy imports deferred to the command
that needs them (see :mod:`.app`).

- :mod:`.datasets`: ``preview``, ``transforms``, ``assets``
- :mod:`.steps`: ``models``, ``train``, ``probe``, ``invariance`` (one run's steps)
- :mod:`.experiments`: ``experiments``, ``run``, ``status``, ``report``
- :mod:`.reproduce`: ``reproduce`` (the paper's experiments end to end)
"""

from . import datasets, experiments, reproduce, steps  # noqa: F401  (register their commands)
from .app import app, main

__all__ = ["app", "main"]
