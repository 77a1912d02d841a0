"""Executors: how a list of run specs gets computed into a :class:`RunStore`.

An executor is anything with ``run(specs, store, on_event=None, on_progress=None) -> Summary``.
It computes only runs that are not done (so a rerun retries failed and pending runs), records
each failure in the run's ``error.json`` and goes on. Every run is computed under its lease
(:mod:`.lease`): a run leased by another live process (a second driver on the same folder, on
this host or another) is skipped (a ``held`` event) and, once the others are done, waited for:
it ends done by its holder, or its lease goes stale and it is computed here. ``local`` runs
them in this process, one after another, and reports the current run's stages through
``on_progress``; ``pool`` and ``ray`` (runs in other processes) register themselves the same
way and report run events only.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import torch

from ..errors import unknown_name
from .lease import Lease, RunHeld, heartbeat_s
from .run import LeaseLost, ProgressHook, execute
from .spec import RunSpec, spec_hash
from .store import DONE, RunStore

# on_event(kind, hash, index, total) with kind in start | done | skip | fail | held
EventHook = Callable[[str, str, int, int], None]


@dataclass
class Summary:
    """What one executor call did: hashes reused (done before, or by another process),
    computed here, failed (hash -> error line) and still held by another process (hash ->
    holder) when the call stopped waiting."""

    total: int = 0
    reused: list[str] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    held: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.held

    def to_dict(self) -> dict:
        return {"total": self.total, "reused": self.reused, "computed": self.computed,
                "failed": self.failed, "held": self.held}


class Executor(Protocol):
    """Computes the pending runs of ``specs`` into ``store``."""

    def run(self, specs: Sequence[RunSpec], store: RunStore, on_event: EventHook | None = None,
            on_progress: ProgressHook | None = None) -> Summary: ...


def unique(specs: Sequence[RunSpec]) -> list[RunSpec]:
    """``specs`` without repeats (the same run reached from two axes is computed once)."""
    seen: dict[str, RunSpec] = {}
    for s in specs:
        seen.setdefault(spec_hash(s), s)
    return list(seen.values())


def pending(specs: Sequence[RunSpec], store: RunStore, emit: EventHook
            ) -> tuple[Summary, list[tuple[int, RunSpec]]]:
    """For executors that compute in other processes: a summary with the done runs counted as
    reused (a ``skip`` event each) and ``(index, spec)`` of the runs left to compute."""
    summary, todo = Summary(total=len(specs)), []
    for i, spec in enumerate(specs):
        h = spec_hash(spec)
        if store.status(h) == DONE:
            summary.reused.append(h)
            emit("skip", h, i, len(specs))
        else:
            todo.append((i, spec))
    return summary, todo


def settle(summary: Summary, todo: list[tuple[int, RunSpec]], outcomes: dict[str, dict]
           ) -> Summary:
    """Record the outcome of every run of ``todo`` in grid order, whatever order they finished
    in: ``{"ok": True}`` computed, ``{"held": holder}`` held elsewhere, ``{"reused": True}``
    finished by another process meanwhile, else failed with ``"message"``."""
    for _, spec in todo:
        h = spec_hash(spec)
        out = outcomes.get(h, {"ok": False, "message": "not computed (interrupted)"})
        if out.get("held") is not None:
            summary.held[h] = out["held"]
        elif out.get("reused"):
            summary.reused.append(h)
        elif out.get("ok"):
            summary.computed.append(h)
        else:
            summary.failed[h] = out["message"]
    return summary


def claim(spec: RunSpec, store: RunStore) -> Lease | dict:
    """The lease of a run that is to be computed, or the outcome that says why not:
    ``{"reused": True}`` (done), ``{"held": holder}`` or ``{"ok": False, "message"}`` (the
    folder cannot be written). The caller releases the lease."""
    h = spec_hash(spec)
    try:
        lease = store.lease(h)
    except RunHeld as held:
        return {"held": str(held)}
    except OSError as e:  # the folder cannot be written: nothing to record it in either
        return {"ok": False, "message": f"cannot lease the run: {e.strerror or e} "
                                        f"({e.filename or store.run_dir(h)})"}
    if store.status(h) == DONE:  # finished by another process before we got the lease
        lease.release()
        return {"reused": True}
    return lease


def compute(spec: RunSpec, store: RunStore, device: str = "cpu", progress: bool = False,
            on_progress: ProgressHook | None = None,
            on_start: Callable[[], None] | None = None) -> dict:
    """Compute one run under its lease, in this process; the outcome as plain data:
    ``{"ok": True}``, ``{"reused": True}`` (done by another process before we got the lease),
    ``{"held": holder}`` (leased elsewhere) or ``{"ok": False, "message"}`` (error.json
    written). Only the lease holder sweeps and writes the run's folder; ``on_start()`` is
    called once the lease is held and the run is to be computed."""
    h = spec_hash(spec)
    lease = claim(spec, store)
    if not isinstance(lease, Lease):
        return lease
    with lease:
        try:
            run_dir = store.prepare(spec)
            store.clear_failure(h)
            if on_start is not None:
                on_start()
            execute(spec, run_dir, progress=progress, device=device, on_progress=on_progress,
                    lease=lease)
        except LeaseLost as e:
            return {"held": str(e)}
        except Exception as exc:  # noqa: BLE001 - recorded with the traceback; the grid goes on
            return {"ok": False, "message": store.record_failure(h, explain(exc, spec,
                                                                            device))["message"]}
    return {"ok": True}


class OutOfMemory(RuntimeError):
    """A run ran out of device memory; the message names the batch sizes and what to lower."""


def explain(exc: Exception, spec: RunSpec, device: str) -> Exception:
    """``exc``, or for an out-of-memory error a one-line :class:`OutOfMemory` that says which
    batch sizes the run used and how to lower them (the traceback keeps the original)."""
    if not isinstance(exc, torch.OutOfMemoryError):
        return exc
    probe = sorted({int(p.probe.get("batch_size", 0)) for p in spec.probes} - {0})
    msg = (f"out of memory on {device} with pretraining batch size {spec.train['batch_size']}"
           + (f" and probe batch size {', '.join(map(str, probe))}" if probe else "")
           + "; lower them, e.g. t2d run ... --set batch_size=N (the experiment's size keys: "
             "t2d run E --set x=1 lists them), or use a device with more memory")
    out = OutOfMemory(msg)
    out.__cause__ = exc
    return out


def run_in_worker(spec_dict: dict, root: str, device: str, threads: int) -> dict:
    """:func:`compute` in a worker process (Ray task or pool worker) with ``threads`` torch
    threads: plain data in, plain data out."""
    torch.set_num_threads(max(1, int(threads)))
    return compute(RunSpec.from_dict(spec_dict), RunStore(root), device)


def emit_outcome(emit: EventHook, out: dict, h: str, i: int, total: int) -> None:
    kind = ("held" if out.get("held") is not None else "skip" if out.get("reused") else
            "done" if out.get("ok") else "fail")
    emit(kind, h, i, total)


class GridExecutor(ABC):
    """The shared loop of every executor: compute what is pending (``_compute``, one pass),
    then wait for runs held by other processes, passing over them again every ``poll_s``
    seconds until each is done (by its holder, or here once its lease went stale) or
    ``wait_s`` seconds have passed (``None``: as long as it takes)."""

    poll_s: float | None = None
    wait_s: float | None = None

    def run(self, specs: Sequence[RunSpec], store: RunStore, on_event: EventHook | None = None,
            on_progress: ProgressHook | None = None) -> Summary:
        """Compute the runs not done (see the module docstring); ``on_progress`` follows the
        stages of the current run where the runs execute in this process."""
        specs = unique(specs)
        hashes = [spec_hash(s) for s in specs]
        emit = on_event or (lambda *a: None)
        summary, todo = pending(specs, store, emit)
        if todo:
            settle(summary, todo, self._compute(todo, store, len(specs), emit, on_progress))
        poll = self.poll_s if self.poll_s is not None else min(heartbeat_s(), 10.0)
        deadline = None if self.wait_s is None else time.monotonic() + self.wait_s
        while summary.held and (deadline is None or time.monotonic() < deadline):
            time.sleep(poll)
            again = [(i, s) for i, (s, h) in enumerate(zip(specs, hashes))
                     if summary.held.pop(h, None) is not None]
            settle(summary, again, self._compute(again, store, len(specs), emit, on_progress))
        return summary

    @abstractmethod
    def _compute(self, todo, store: RunStore, total: int, emit: EventHook,
                 on_progress: ProgressHook | None) -> dict[str, dict]:
        """One pass over ``todo`` (``(index, spec)`` pairs): each run's outcome by hash, as
        :func:`compute` returns it, with its events emitted."""


class LocalExecutor(GridExecutor):
    """In-process and sequential: each run uses this process's torch threads and ``device``."""

    def __init__(self, device: str = "cpu", progress: bool = False) -> None:
        self.device, self.progress = device, progress

    def _compute(self, todo, store: RunStore, total: int, emit: EventHook,
                 on_progress: ProgressHook | None) -> dict[str, dict]:
        outcomes = {}
        for i, spec in todo:  # compute() says "reused" for a run another process finished
            h = spec_hash(spec)
            outcomes[h] = compute(spec, store, self.device, self.progress, on_progress,
                                  on_start=lambda h=h, i=i: emit("start", h, i, total))
            emit_outcome(emit, outcomes[h], h, i, total)
        return outcomes


EXECUTORS: dict[str, Callable[..., Executor]] = {"local": LocalExecutor}


def register_executor(name: str, factory: Callable[..., Executor]) -> None:
    """Add an executor under ``name`` (e.g. ``ray``), selectable with ``--executor``."""
    EXECUTORS[name] = factory


def get_executor(name: str, **options) -> Executor:
    """Build the executor ``name``; an unknown name is a one-line error listing the valid."""
    if name not in EXECUTORS:
        raise unknown_name("executor", name, EXECUTORS)
    return EXECUTORS[name](**options)
