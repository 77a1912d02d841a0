"""A minimal progress-bar wrapper over Rich that costs nothing when disabled."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class _Bar:
    def __init__(self, progress: Progress | None, task: int | None) -> None:
        self._p, self._t = progress, task

    def advance(self, n: int = 1) -> None:
        if self._p is not None:
            self._p.advance(self._t, n)

    def describe(self, text: str) -> None:
        if self._p is not None:
            self._p.update(self._t, description=text)


@contextmanager
def progress_bar(enabled: bool, desc: str, total: int) -> Iterator[_Bar]:
    """Yield a bar with ``advance()`` and ``describe(text)``; a no-op when not ``enabled``."""
    if not enabled:
        yield _Bar(None, None)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, transient=True) as p:
        yield _Bar(p, p.add_task(desc, total=total))
