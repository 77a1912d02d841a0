"""Executors: how a list of run specs gets computed into a :class:`RunStore`.

An executor is anything with ``run(specs, store, on_event=None, on_progress=None) -> Summary``.
It computes only runs that are not done (so a rerun retries failed and pending runs), records
each failure in the run's ``error.json`` and goes on. ``local`` runs them in this process, one
after another, and reports the current run's stages through ``on_progress``; ``pool`` and
``ray`` (runs in other processes) register themselves the same way and report run events only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import torch

from ..errors import unknown_name
from .run import ProgressHook, execute
from .spec import RunSpec, spec_hash
from .store import DONE, RunStore

# on_event(kind, hash, index, total) with kind in start | done | skip | fail
EventHook = Callable[[str, str, int, int], None]


@dataclass
class Summary:
    """What one executor call did: hashes reused, computed and failed (hash -> error line)."""

    total: int = 0
    reused: list[str] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict:
        return {"total": self.total, "reused": self.reused, "computed": self.computed,
                "failed": self.failed}


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


def settle(summary: Summary, todo: list[tuple[int, RunSpec]], failed: dict[str, str]
           ) -> Summary:
    """Record the computed runs of ``todo`` in grid order, whatever order they finished in."""
    for _, spec in todo:
        h = spec_hash(spec)
        if h in failed:
            summary.failed[h] = failed[h]
        else:
            summary.computed.append(h)
    return summary


def run_in_worker(spec_dict: dict, root: str, device: str, threads: int) -> dict:
    """Compute one run in ``root/runs/<hash>/`` with ``threads`` torch threads, in a worker
    process (Ray task or pool worker): plain data in, plain data out.

    Returns ``{"ok": True}`` or ``{"ok": False, "message": ...}`` after writing error.json.
    """
    torch.set_num_threads(max(1, int(threads)))
    spec = RunSpec.from_dict(spec_dict)
    store = RunStore(root)
    try:
        execute(spec, store.run_dir(spec), progress=False, device=device)
    except Exception as exc:  # noqa: BLE001 - recorded with the traceback; the grid goes on
        return {"ok": False, "message": store.record_failure(spec_hash(spec), exc)["message"]}
    return {"ok": True}


class LocalExecutor:
    """In-process and sequential: each run uses this process's torch threads and ``device``."""

    def __init__(self, device: str = "cpu", progress: bool = False) -> None:
        self.device, self.progress = device, progress

    def run(self, specs: Sequence[RunSpec], store: RunStore, on_event: EventHook | None = None,
            on_progress: ProgressHook | None = None) -> Summary:
        """Compute the runs not done; ``on_progress(stage, done, total)`` follows the stages
        of the current run (see :func:`execute`), for a display of the whole grid."""
        specs = unique(specs)
        summary = Summary(total=len(specs))
        emit = on_event or (lambda *a: None)
        for i, spec in enumerate(specs):
            h = spec_hash(spec)
            if store.status(h) == DONE:
                summary.reused.append(h)
                emit("skip", h, i, len(specs))
                continue
            run_dir = store.prepare(spec)
            store.clear_failure(h)
            emit("start", h, i, len(specs))
            try:
                execute(spec, run_dir, progress=self.progress, device=self.device,
                        on_progress=on_progress)
            except Exception as exc:  # noqa: BLE001 - any failure is recorded, the rest go on
                summary.failed[h] = store.record_failure(h, exc)["message"]
                emit("fail", h, i, len(specs))
                continue
            summary.computed.append(h)
            emit("done", h, i, len(specs))
        return summary


EXECUTORS: dict[str, Callable[..., Executor]] = {"local": LocalExecutor}


def register_executor(name: str, factory: Callable[..., Executor]) -> None:
    """Add an executor under ``name`` (e.g. ``ray``), selectable with ``--executor``."""
    EXECUTORS[name] = factory


def get_executor(name: str, **options) -> Executor:
    """Build the executor ``name``; an unknown name is a one-line error listing the valid."""
    if name not in EXECUTORS:
        raise unknown_name("executor", name, EXECUTORS)
    return EXECUTORS[name](**options)
