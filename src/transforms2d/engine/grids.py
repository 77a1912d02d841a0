"""Claiming an experiment's grid in its folder, shared by ``t2d run`` and ``t2d reproduce``:
build the specs once, turn them into their rehearsal if asked, check every spec against its
stored copy and record the grid in ``experiment.json``, all before anything is computed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .executors import unique
from .registry import Experiment
from .rehearse import rehearsal_grid
from .spec import RunSpec, spec_hash
from .store import RunStore


def claim_grid(exp: Experiment, profile: str, seeds: int | Sequence[int], root: Path,
               sets: Mapping[str, Any] | None = None,
               rehearsal: dict | None = None) -> tuple[list[RunSpec], RunStore]:
    """``(specs, store)`` of ``exp`` at ``profile`` in folder ``root``, claimed.

    ``sets`` are resolved size overrides (recorded); ``rehearsal`` the rehearsal settings
    (:func:`~transforms2d.engine.rehearse.settings`), recorded with what they capped."""
    specs = unique(exp.specs(profile, seeds, sets))
    record = None
    if rehearsal is not None:
        record, specs = rehearsal_grid(specs, rehearsal)
    store = RunStore(root)
    for spec in specs:  # a hand-edited spec.json stops us before anything is touched
        store.check_spec(spec)
    store.claim(exp.name, profile, seeds, [spec_hash(s) for s in specs], sets or {}, record)
    return specs, store
