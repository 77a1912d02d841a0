"""The ``t2d`` Typer app and what every command shares: consoles and the one-line error exit.

Command modules import only this, Typer and the standard library at import time; each command
imports the heavy parts (torch, the engine, the study) when it runs, so ``t2d --help`` starts
without them.
"""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Transforms-2D datasets and the invariance-transfer study.")
console = Console()
err = Console(stderr=True)


def fail(exc: Exception) -> NoReturn:
    """Print a one-line error and exit with status 2 (no traceback for user errors)."""
    err.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)
