"""The grid-running path of ``t2d run`` and ``t2d reproduce``: one progress display over the
runs, the trackers fed and closed, one summary line per grid, the failures listed."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping

from .app import console, err


def run_grid(runner, specs, store, display, trackers=None):
    """Run ``specs`` into ``store`` under ``display`` (a ``GridProgress``: the current run's
    stage where the executor reports it); ``trackers`` log every run that finishes and are
    closed after. Returns the executor's ``Summary``."""
    from ..reporting.trackers import chain

    hook = display.on_event if trackers is None else chain(display.on_event, trackers.on_event)
    try:
        return runner.run(specs, store, hook, display.on_progress)
    finally:
        if trackers is not None:
            trackers.close()


@contextlib.contextmanager
def progress(runner, total: int, title: str) -> Iterator[Callable]:
    """``run(specs, store, trackers=None) -> Summary`` for every grid of one command, all
    under one progress display of ``total`` runs."""
    from ..reporting.display import GridProgress

    with GridProgress(total, title, console=console) as display:
        yield lambda specs, store, trackers=None: run_grid(runner, specs, store, display,
                                                            trackers)


def summary_line(title: str, summary) -> str:
    """``demo (smoke, 1 seed(s)): 2 runs, 2 computed, 0 reused, 0 failed``."""
    held = f", {len(summary.held)} still held by other processes" if summary.held else ""
    return (f"{title}: {summary.total} runs, {len(summary.computed)} computed, "
            f"{len(summary.reused)} reused, {len(summary.failed)} failed{held}")


def print_failures(failed: Mapping[str, str], store) -> None:
    """One line per failed run, with where its traceback is."""
    for h, msg in failed.items():
        err.print(f"failed {h}: {msg} (see {store.run_dir(h) / 'error.json'})",
                  highlight=False, soft_wrap=True, markup=False)
