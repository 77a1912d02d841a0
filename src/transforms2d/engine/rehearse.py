"""Rehearsal: every distinct kind of run of a grid, for a couple of optimiser steps, so that a
bug in a paper-scale grid shows up in minutes instead of hours into a GPU job.

``t2d reproduce --rehearse`` (and ``t2d run E --rehearse``) builds the grid at its real sizes
(every spec validated), keeps one run per distinct *kind* — every model of the grid at least
once, every run structure (source dataset type, probe and fine-tuning targets, invariance
twins) at least once — and shrinks each kept run with :func:`rehearsal_spec`: one epoch of
``steps`` batches at the real batch size (real model, real image size), one-batch evaluation
sets, the first probe and invariance target of each kind. The shrunk specs hash differently
from the real ones, the folder's ``experiment.json`` records ``"rehearsal"`` (``t2d run`` and
``t2d reproduce`` refuse to mix the two), and every report written from it opens with
:data:`BANNER`.

While :func:`rehearsing` is active, :func:`as_run` maps a grid's real spec to its rehearsal
spec: the studies' aggregations match stored runs to grid cells through it, so the reports of
a rehearsal are written by the same code as real ones.
"""

from __future__ import annotations

import contextvars
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from ..assets.cifar import FORMATS
from ..errors import ConfigError
from ..validation import check_int
from .spec import InvarianceTarget, ProbeTarget, RunSpec, probe_defaults

STEPS = 2  # optimiser steps per training stage
BANNER = ("**REHEARSAL — not results.** Every distinct kind of run of this grid ran for a "
          "couple of optimiser steps (`--rehearse`); the numbers below only show that every "
          "stage and every report runs.\n")
MARKER = "REHEARSAL.md"  # written into the output folder of a rehearsal

_ACTIVE: contextvars.ContextVar[dict | None] = contextvars.ContextVar("t2d_rehearsal",
                                                                      default=None)


def settings(steps: int = STEPS, batch_cap: int | None = None) -> dict:
    """The rehearsal's settings as recorded in ``experiment.json`` (checked)."""
    check_int("steps", steps, 1)
    if batch_cap is not None:
        check_int("batch_cap", batch_cap, 1)
    return {"steps": steps, "batch_cap": batch_cap}


@contextmanager
def rehearsing(rec: Mapping[str, Any] | None) -> Iterator[None]:
    """Within: :func:`as_run` shrinks specs with ``rec``'s settings (``None``: no-op)."""
    token = _ACTIVE.set(None if rec is None else dict(rec))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def as_run(spec: RunSpec) -> RunSpec:
    """The spec that is stored for ``spec``: itself, or its rehearsal spec while
    :func:`rehearsing`."""
    rec = _ACTIVE.get()
    return spec if rec is None else rehearsal_spec(spec, rec["steps"], rec["batch_cap"])


def rehearsal_spec(spec: RunSpec, steps: int = STEPS, batch_cap: int | None = None) -> RunSpec:
    """``spec`` shrunk to ``steps`` optimiser steps per training stage at its real batch sizes
    (capped at ``batch_cap`` where given: CI's CPU cannot afford a paper batch), one epoch each,
    no early stop, evaluation and invariance sets of one batch, the first probe and invariance
    target of each kind. Models, image sizes and transforms stay as they are."""
    bs = _cap(spec.train["batch_size"], batch_cap)
    train = {**spec.train, "epochs": 1, "batch_size": bs, "stop_train_acc": None}
    return RunSpec(
        model=spec.model, model_kwargs=spec.model_kwargs, seed=spec.seed, train=train,
        source=_sized(spec.source, steps * bs),
        source_val=_sized(spec.source_val, bs), source_test=_sized(spec.source_test, bs),
        probes=tuple(_probe(t, steps, batch_cap) for t in _first_of_each(spec.probes,
                                                                          _probe_kind)),
        invariance=tuple(InvarianceTarget(t.name, _sized(t.data, bs), t.metrics, t.twin_seed,
                                          t.twin_factor)
                         for t in _first_of_each(spec.invariance, _invariance_kind)))


def _first_of_each(targets, kind) -> list:
    """The first target of each kind: the others drive the same code on other data (E3 has
    54 invariance targets a run, of two kinds)."""
    firsts: dict = {}
    for t in targets:
        firsts.setdefault(kind(t), t)
    return list(firsts.values())


def _cap(batch: int, cap: int | None) -> int:
    return batch if cap is None else min(batch, cap)


def _probe(t: ProbeTarget, steps: int, cap: int | None) -> ProbeTarget:
    pb = _cap(t.probe.get("batch_size", probe_defaults()["batch_size"]), cap)
    short = {"max_iter": 5} if t.probe.get("solver") == "lbfgs" else \
        {"epochs": 1, "batch_size": pb}  # the Adam form leaves its solver implicit
    probe = {**t.probe, **short}
    ft = None
    if t.finetune is not None:
        ft = {**t.finetune, "epochs": 1, "stop_train_acc": None,
              "batch_size": _cap(t.finetune["batch_size"], cap)}
    n_train = steps * max(pb, ft["batch_size"] if ft else 0)
    return ProbeTarget(t.name, _sized(t.train, n_train), _sized(t.test, pb),
                       _sized(t.val, pb), probe, ft)


def _sized(data: Mapping[str, Any] | None, n: int) -> dict | None:
    """A data dict with at most ``n`` samples, yet at least one per class (the datasets refuse
    fewer), never more than it had."""
    if data is None:
        return None
    d = dict(data)
    if d.get("dataset") != "cifar":  # classes are balanced, and every one needs a sample
        k = len(d["objects"]) if d.get("class_from") == "object" else \
            len(d.get("families") or ()) or 64  # the pack's families: at most 64 in practice
        d["n"] = min(int(d["n"]), max(k, n))
        return d
    k = len(d["classes"]) if d.get("classes") else FORMATS[d["name"]].num_classes
    if d.get("n_per_class") is not None:
        d["n_per_class"] = min(int(d["n_per_class"]), max(1, math.ceil(n / k)))
    elif d.get("n") is not None:
        d["n"] = min(int(d["n"]), max(k, n))
    else:  # every image, or a fraction of them: a fixed count instead
        d.update(n=max(k, n), fraction=None)
    return d


# -- which runs to rehearse -----------------------------------------------------------------
def _data_kind(d: Mapping[str, Any] | None) -> tuple | None:
    if d is None:
        return None
    if d.get("dataset") == "cifar":
        return ("cifar",)
    return ("transforms2d", d.get("class_from"), d.get("backgrounds"),
            isinstance(d.get("transforms"), Mapping))


def _probe_kind(t: ProbeTarget) -> tuple:
    return (_data_kind(t.train), t.val is not None, t.finetune is not None,
            t.probe["views"] > 1)


def _invariance_kind(t: InvarianceTarget) -> tuple:
    return (_data_kind(t.data), t.twin_factor, tuple(t.metrics))


def structure(spec: RunSpec) -> tuple:
    """What a run does, apart from its model and sizes: the kinds of its source, evaluation,
    probe (with or without fine-tuning) and invariance data."""
    probes = sorted({_probe_kind(t) for t in spec.probes}, key=repr)
    inv = sorted({_invariance_kind(t) for t in spec.invariance}, key=repr)
    return (_data_kind(spec.source), spec.source_val is not None, spec.source_test is not None,
            spec.train["schedule"], tuple(probes), tuple(inv))


def distinct_kinds(specs: Sequence[RunSpec]) -> list[RunSpec]:
    """The first spec (in grid order) of every model and of every :func:`structure` not
    covered by an earlier pick: each model instantiated, each kind of stage driven."""
    seen: set[tuple] = set()
    picked = []
    for spec in specs:
        keys = {("model", spec.model, json.dumps(dict(spec.model_kwargs), sort_keys=True)),
                ("structure", structure(spec))}
        if not keys <= seen:
            picked.append(spec)
            seen |= keys
    return picked


def rehearsal_grid(specs: Sequence[RunSpec], settings: Mapping[str, Any]
                   ) -> tuple[dict, list[RunSpec]]:
    """``(record, runs)`` of a rehearsal of the real grid ``specs``: its ``experiment.json``
    record (``settings`` and the real grid's size) and the runs it computes."""
    rec = {**settings, "grid_runs": len(specs)}
    return rec, [rehearsal_spec(s, rec["steps"], rec["batch_cap"]) for s in distinct_kinds(specs)]


def rehearsal_line(rec: Mapping[str, Any], runs: int) -> str:
    """What a rehearsal report's runs are, for its header."""
    cap = rec.get("batch_cap")
    return (f"Rehearsed {runs} of the grid's {rec.get('grid_runs', '?')} runs (the first of each "
            f"model and of each kind of run), {rec['steps']} optimiser steps per training stage "
            f"at " + (f"batches capped at {cap}" if cap else "the real batch sizes") + ".\n\n")


def check_folder_kind(existing: Mapping[str, Any] | None, rehearsal: bool, root) -> None:
    """Refuse to write a rehearsal into a folder of real runs, or real runs into a rehearsal's
    folder (their reports would mix)."""
    if existing is None or bool(existing.get("rehearsal")) == rehearsal:
        return
    if rehearsal:
        raise ConfigError(f"{root} holds real runs; a rehearsal needs its own --out (default: "
                          f"rehearsal/).")
    raise ConfigError(f"{root} holds a rehearsal (--rehearse); pass another --out for real "
                      f"runs.")
