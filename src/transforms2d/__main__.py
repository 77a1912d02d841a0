"""``python -m transforms2d`` runs the ``t2d`` command."""

from .cli import app

app(prog_name="t2d")
