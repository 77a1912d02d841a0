"""The ``t2d`` Typer app and what every command shares: consoles and the one-line error exit.

Command modules import only this, Typer and the standard library at import time; each command
imports the heavy parts (torch, the engine, the study) when it runs, so ``t2d --help`` starts
without them.
"""

from __future__ import annotations

import errno
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Transforms-2D datasets and the invariance-transfer study.")
console = Console()
err = Console(stderr=True)


def whole_number(text: str) -> int:
    """Parse an integer option strictly (Typer alone reads ``--seeds 1.0`` as 1)."""
    try:
        return int(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a whole number.") from None


def int_option(*param_decls: str, **kwargs: Any) -> Any:
    """``typer.Option`` for an ``int`` parameter, refusing ``1.0`` and ``1e3``."""
    return typer.Option(*param_decls, parser=whole_number, **kwargs)


def fail(exc: Exception) -> NoReturn:
    """Print a one-line error and exit with status 2 (no traceback for user errors). The
    message is printed as written: no markup, no emoji codes (``--set x=a:b:c`` names ``:b:``)."""
    err.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True,
              emoji=False)
    raise typer.Exit(2)


# Errors of the machine, not of the program: a one-line message and status 1, no traceback.
RESOURCE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT,
                   errno.EFBIG}


def resource_error(exc: OSError) -> str:
    """``cannot write /out/x.json: No space left on device``."""
    where = f" {exc.filename}" if exc.filename else ""
    return f"cannot write{where}: {exc.strerror or exc}"


def main(argv: list[str] | None = None) -> None:
    """The ``t2d`` console entry point: the Typer app, with a full disk, a read-only or
    forbidden folder reported in one line (status 1) wherever it strikes."""
    try:
        app(args=argv, prog_name="t2d")
    except OSError as exc:
        if exc.errno not in RESOURCE_ERRNOS:
            raise
        err.print(f"[bold red]Error:[/] {escape(resource_error(exc))}", highlight=False,
                  soft_wrap=True)
        sys.exit(1)
