"""``pool``: the pending runs of a grid in N local worker processes, one run per process at a
time, each with ``threads_per_run`` torch threads.

Why: the quick profile's small models do not use two cores well from one process (one thread
reaches ~0.8 of two threads' speed here); on a 2-core CPU two one-thread workers ran the 7 runs
of ``e2 --profile quick --seeds 1`` 1.34x faster than one two-thread process
(``benchmarks/bench_engine_scale.py``). No Ray start-up cost, no extra dependency; workers are
spawned (never forked from a process holding torch's thread pools) and live for the whole grid,
so imports and asset caches are paid once per worker.

Determinism: as with Ray, the bytes of a result depend on the thread count; a grid computed by
one-thread workers equals the in-process ``local`` executor's run with one thread.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

from ..validation import check_int
from .executors import (
    EventHook,
    Summary,
    pending,
    register_executor,
    run_in_worker,
    settle,
    unique,
)
from .run import ProgressHook
from .spec import RunSpec, spec_hash
from .store import RunStore


def available_cpus() -> int:
    """CPUs this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class PoolExecutor:
    """Runs the pending runs of a grid in ``workers`` spawned processes (default: one per CPU
    divided by ``threads_per_run``), at most ``workers`` runs at once, in grid order."""

    def __init__(self, device: str = "cpu", progress: bool = False, workers: int | None = None,
                 threads_per_run: int = 1) -> None:
        for name, v in (("workers", workers), ("threads_per_run", threads_per_run)):
            if v is not None:
                check_int(name, v, 1)
        self.device, self.progress = device, progress
        self.threads = threads_per_run
        self.workers = workers or max(1, available_cpus() // threads_per_run)

    def run(self, specs: Sequence[RunSpec], store: RunStore, on_event: EventHook | None = None,
            on_progress: ProgressHook | None = None) -> Summary:
        """Compute the runs not done; ``on_progress`` is accepted for the common interface and
        not called (stages happen in other processes)."""
        specs = unique(specs)
        emit = on_event or (lambda *a: None)
        summary, todo = pending(specs, store, emit)
        if not todo:
            return summary
        return settle(summary, todo, self._compute(todo, store, len(specs), emit))

    def _compute(self, todo, store: RunStore, total: int, emit) -> dict[str, str]:
        root = str(Path(store.root).resolve())
        failed: dict[str, str] = {}
        queue = list(reversed(todo))
        running: dict[Future, tuple[int, str]] = {}
        pool = ProcessPoolExecutor(min(self.workers, len(todo)), mp.get_context("spawn"))
        try:
            while queue or running:
                while queue and len(running) < self.workers:  # "start" = really started
                    i, spec = queue.pop()
                    h = spec_hash(spec)
                    store.prepare(spec)
                    store.clear_failure(h)
                    fut = pool.submit(run_in_worker, spec.to_dict(), root, self.device,
                                      self.threads)
                    running[fut] = (i, h)
                    emit("start", h, i, total)
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in done:
                    i, h = running.pop(fut)
                    try:
                        out = fut.result()
                    except Exception as exc:  # noqa: BLE001 - the worker died, not the run
                        out = {"ok": False, "message": store.record_failure(h, exc)["message"]}
                    if out["ok"]:
                        emit("done", h, i, total)
                    else:
                        failed[h] = out["message"]
                        emit("fail", h, i, total)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return failed


register_executor("pool", PoolExecutor)
