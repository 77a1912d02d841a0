"""``pool``: the pending runs of a grid in N local worker processes, one run per process at a
time, each with ``threads_per_run`` torch threads.

Why: the quick profile's small models do not use two cores well from one process (one thread
reaches ~0.8 of two threads' speed here); on a 2-core CPU two one-thread workers ran the 7 runs
of ``e2 --profile quick --seeds 1`` 1.34x faster than one two-thread process
(``benchmarks/bench_engine_scale.py``). No Ray start-up cost, no extra dependency; workers are
spawned (never forked from a process holding torch's thread pools) and live for the whole grid,
so imports and asset caches are paid once per worker.

A worker that dies (killed, out of memory, a crash in native code) costs its run one attempt:
the driver records the cause (signal or exit code) in the run's ``attempts.json``, starts a
new worker and retries the run up to ``retries`` times, then records it as failed and goes on;
the grid never ends in a traceback. (``concurrent.futures``' pool cannot do this: one dead
worker breaks the whole pool and every run in flight with it.)

Determinism: as with Ray, the bytes of a result depend on the thread count; a grid computed by
one-thread workers equals the in-process ``local`` executor's run with one thread.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import time
from collections import deque
from multiprocessing.connection import wait
from pathlib import Path

from ..io import write_json
from ..validation import check_int
from .executors import GridExecutor, emit_outcome, register_executor, run_in_worker
from .spec import RunSpec, spec_hash
from .store import DONE, RunStore, log, read_json

ATTEMPTS = "attempts.json"


def available_cpus() -> int:
    """CPUs this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def exit_cause(exitcode: int | None) -> str:
    """``killed by signal 9 (SIGKILL)`` or ``exited with code 3``."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "?"
        return f"killed by signal {-exitcode} ({name})"
    return f"exited with code {exitcode}"


def record_attempt(store: RunStore, h: str, cause: str) -> int:
    """Append a dead worker's attempt to ``runs/<h>/attempts.json`` (the number recorded in
    all); the driver writes it, the run's lease being held by no live process then."""
    path = store.run_dir(h) / ATTEMPTS
    attempts = read_json(path) if path.exists() else []
    attempts = attempts if isinstance(attempts, list) else []
    attempts.append({"cause": cause, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    write_json(path, attempts)
    log(store.run_dir(h), f"attempt {len(attempts)}: the worker {cause}")
    return len(attempts)


def _serve(conn, device: str, threads: int) -> None:
    """A worker's loop: receive ``(spec dict, root)``, send back the outcome; ``None`` or a
    closed pipe (the driver is gone) ends it."""
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            conn.send(run_in_worker(task[0], task[1], device, threads))
        except (BrokenPipeError, OSError):
            return


class _Worker:
    """One spawned worker process and the pipe to it; ``task`` is ``(index, spec)`` or None."""

    def __init__(self, ctx, device: str, threads: int) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, device, threads), daemon=True,
                                name="t2d-pool-worker")
        self.proc.start()
        child.close()
        self.task: tuple[int, RunSpec] | None = None

    def stop(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(None)


class PoolExecutor(GridExecutor):
    """Runs the pending runs of a grid in ``workers`` spawned processes (default: one per CPU
    divided by ``threads_per_run``), at most ``workers`` runs at once, in grid order; a run
    whose worker died is retried up to ``retries`` times."""

    def __init__(self, device: str = "cpu", progress: bool = False, workers: int | None = None,
                 threads_per_run: int = 1, retries: int = 2) -> None:
        for name, v, low in (("workers", workers, 1), ("threads_per_run", threads_per_run, 1),
                             ("retries", retries, 0)):
            if v is not None:
                check_int(name, v, low)
        self.device, self.progress = device, progress
        self.threads, self.retries = threads_per_run, retries
        self.workers = workers or max(1, available_cpus() // threads_per_run)

    def _compute(self, todo, store: RunStore, total: int, emit, on_progress) -> dict[str, dict]:
        """Outcomes of ``todo`` (``on_progress`` is not called: stages happen elsewhere)."""
        root = str(Path(store.root).resolve())
        ctx = mp.get_context("spawn")  # never fork a process holding torch's thread pools
        queue, outcomes = deque(todo), {}
        self._deaths: dict[str, int] = {}  # this call's dead workers per run (the retry count)
        pool = [_Worker(ctx, self.device, self.threads)
                for _ in range(min(self.workers, len(todo)))]
        try:
            while queue or any(w.task for w in pool):
                for w in pool:
                    if w.task is None and queue:
                        self._start(w, queue.popleft(), store, root, total, emit, outcomes)
                busy = [w for w in pool if w.task is not None]
                if busy:
                    wait([w.conn for w in busy] + [w.proc.sentinel for w in busy])
                for k, w in enumerate(pool):
                    if w.task is not None:
                        pool[k] = self._collect(w, ctx, store, queue, total, emit, outcomes)
        finally:
            for w in pool:
                w.stop()
            for w in pool:
                w.proc.join(timeout=10)
                if w.proc.is_alive():
                    w.proc.terminate()
        return outcomes

    def _start(self, w: _Worker, task, store: RunStore, root: str, total: int, emit,
               outcomes: dict) -> None:
        i, spec = task
        h = spec_hash(spec)
        if store.status(h) == DONE:  # finished by another process since we looked
            outcomes[h] = {"reused": True}
            emit_outcome(emit, outcomes[h], h, i, total)
            return
        w.task = task
        w.conn.send((spec.to_dict(), root))
        emit("start", h, i, total)

    def _collect(self, w: _Worker, ctx, store: RunStore, queue: deque, total: int, emit,
                 outcomes: dict) -> _Worker:
        """Take ``w``'s outcome if it sent one; if it died, record the attempt, requeue or
        fail the run and return a fresh worker in its place."""
        i, spec = w.task
        h = spec_hash(spec)
        try:
            out = w.conn.recv() if w.conn.poll() else None
        except (EOFError, OSError):
            out = None
        if out is not None:
            w.task = None
            outcomes[h] = out
            emit_outcome(emit, out, h, i, total)
            return w
        if w.proc.is_alive():
            return w
        w.proc.join()
        cause = exit_cause(w.proc.exitcode)
        record_attempt(store, h, cause)
        self._deaths[h] = self._deaths.get(h, 0) + 1
        if self._deaths[h] <= self.retries:
            queue.appendleft((i, spec))
        else:
            outcomes[h] = {"ok": False, "message": store.record_failure(
                h, WorkerDied(f"the worker {cause}, {self.retries + 1} times"))["message"]}
            emit_outcome(emit, outcomes[h], h, i, total)
        return _Worker(ctx, self.device, self.threads)


class WorkerDied(RuntimeError):
    """A run's worker process died (a signal or an exit code), more times than retried."""


register_executor("pool", PoolExecutor)
