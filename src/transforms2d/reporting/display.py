"""One progress display for a whole grid of runs: runs finished out of the total, the current
run's stage (``pretrain epoch 3/10``, ``probe target``, ``invariance``) and the time left.

The time left is estimated from the runs computed so far in this call (reused runs cost
nothing): wall time per finished run since the first start × runs still to finish, less the
time since the last finish (at most one run's share). Run one at a time, that is the mean run
time; with parallel workers (Ray) it shrinks with their number. Until a first run finishes it
is unknown ("…").
The executor drives it through two callbacks: :meth:`GridProgress.on_event` (a run starts,
finishes, is reused or fails) and :meth:`GridProgress.on_progress` (the current run's stage).
With ``enabled=False`` nothing is drawn, and the counts are still kept (tests read them).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

FINISHED = ("done", "skip", "fail")


def fmt_seconds(s: float | None) -> str:
    """``1h02m``, ``4m05s``, ``12s``; ``…`` when unknown."""
    if s is None:
        return "…"
    s = int(round(s))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def stage_text(stage: str, done: int, total: int) -> str:
    """How a stage reads in the display: ``pretrain epoch 2/5``, ``probe target (1/2)``."""
    if stage == "pretrain":
        return f"pretrain epoch {min(done + 1, total)}/{total}"
    if stage.startswith("probe ") and total > 1:
        return f"{stage} ({done + 1}/{total})"
    return stage


class GridProgress:
    """Progress of ``total`` runs titled ``title``; a context manager that draws with Rich."""

    def __init__(self, total: int, title: str, enabled: bool = True, console=None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.title, self.enabled, self.clock = total, title, enabled, clock
        self.console = console
        self.finished = self.failed = 0  # finished: done, reused or failed
        self.ran = 0  # runs started in this call that finished (done or failed)
        self.first_start: float | None = None
        self.last_finish: float | None = None
        self.running: dict[str, str] = {}  # hash -> its stage, in start order
        self.held: set[str] = set()  # runs leased by another process, waited for
        self._bar = self._task = None

    # -- callbacks ----------------------------------------------------------------------------
    def on_event(self, kind: str, h: str, index: int, total: int) -> None:
        """Executor events: ``start`` | ``done`` | ``skip`` | ``fail`` | ``held`` of run ``h``
        (``held``: leased by another process; it ends with a later ``skip`` or ``done``)."""
        now = self.clock()
        if kind == "start":
            self.running[h] = "starting"
            self.first_start = now if self.first_start is None else self.first_start
        elif kind == "held":
            self.running.pop(h, None)
            self.held.add(h)
        elif kind in FINISHED:
            self.held.discard(h)
            self.finished += 1
            self.failed += kind == "fail"
            if self.running.pop(h, None) is not None:
                self.ran += 1
                self.last_finish = now
        self._draw()

    def on_progress(self, stage: str, done: int, total: int) -> None:
        """The stage of the current run (the last started; executors that report stages run
        one at a time in this process). See :func:`transforms2d.experiments.execute`."""
        if self.running:
            self.running[next(reversed(self.running))] = stage_text(stage, done, total)
        self._draw()

    # -- estimate -----------------------------------------------------------------------------
    def eta(self) -> float | None:
        """Seconds left for the grid, or None before any run started here has finished.

        ``per_run`` is the wall time per finished run since the first start (with parallel
        workers, less than one run's duration); the time since the last finish counts as
        progress on the next run, up to ``per_run``."""
        if not self.ran:
            return None
        per_run = (self.last_finish - self.first_start) / self.ran
        left = self.total - self.finished
        since = self.clock() - self.last_finish
        return max(per_run * left - since, per_run * (left - 1), 0.0)

    def text(self) -> str:
        """The one-line state: ``run abc123: pretrain epoch 2/5 · left 1m05s · 1 failed``."""
        if len(self.running) == 1:
            (h, stage), = self.running.items()
            parts = [f"run {h[:8]}: {stage}"]
        else:
            parts = [f"{len(self.running)} running" if self.running else ""]
        if self.held:
            parts.append(f"{len(self.held)} held by other processes")
        parts.append(f"left {fmt_seconds(self.eta())}")
        if self.failed:
            parts.append(f"{self.failed} failed")
        return " · ".join(p for p in parts if p)

    # -- drawing ------------------------------------------------------------------------------
    def __enter__(self) -> GridProgress:
        if self.enabled:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(),
                                 TextColumn("{task.fields[state]}"), console=self.console,
                                 transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.title, total=self.total, state=self.text())
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _draw(self) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=self.finished, state=self.text())
