"""``python -m transforms2d`` runs the ``t2d`` command."""

from .cli import main

main()
