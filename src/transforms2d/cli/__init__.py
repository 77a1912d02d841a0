"""The ``t2d`` command: one module per group of commands, heavy imports deferred to the command
that needs them (see :mod:`.app`).

- :mod:`.datasets`: ``preview``, ``transforms``, ``assets``
- :mod:`.steps`: ``models``, ``train``, ``probe``, ``invariance`` (one run's steps)
- :mod:`.experiments`: ``experiments``, ``run``, ``status``, ``report``
- :mod:`.reproduce`: ``reproduce`` (the paper's experiments end to end)
- :mod:`.profile`: ``profile`` (the invariance profile of any model)
"""

from . import datasets, experiments, profile, reproduce, steps  # noqa: F401  (register commands)
from .app import app, main

__all__ = ["app", "main"]
