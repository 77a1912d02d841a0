"""The grid of ``e1``: invariance versus other factors (docs/protocol.md §6 E1; claims C1–C5,
§7).

Per seed, two distinct transforms are drawn from each group (geometric, photometric,
corruption); the first of each pair forms the **target** set, the second the **disjoint** set.
The pack's first 60 objects are put in a seeded random order: the first 30 are the target
classes, the next 30 the "other" classes (10 + 10 in the quick profile). The target task is the
target objects under the target transforms, solved by a linear probe on frozen features.

Two families of models, ``same`` (pretrained with the target transforms) and ``disjoint``
(with the disjoint ones), pretrain by default on the other objects. Four axes are varied one
at a time around that default: class relationship (subset / disjoint / same / superset),
architecture, pretraining samples and fine-tuning (probe) samples (pretraining on the target
classes). A configuration reached from two axes is one run spec, computed once.

The default run (both families) is also probed with the fine-tuning size of ``finetune`` and
then fully fine-tuned from the probed model (claim C5). Profiles change sizes only
(``SIZES``, values of :class:`E1Sizes`: :mod:`.profiles`). Profiles with ``budgets`` also
pretrain the models of the claims' main comparisons (the default pair, the class-relationship
pair of C4, the pretraining-samples extremes of C3) for seed 0 at those multiples of
``epochs``: the effect against training budget.

**CIFAR variant** (cells added only where :func:`~transforms2d.assets.cifar.cifar_available` finds
the data): the seed's same target / disjoint transforms on whole CIFAR-10 / CIFAR-100 images
(:class:`~transforms2d.data.TransformedCIFAR`); the target task is half of the classes (5 of
CIFAR-10, 50 of CIFAR-100, a seeded order), models pretrain by default on the other half. Axes
class relationship, architecture, pretraining samples (``sizes.cifar``); results are the table
rows ``cifar10:<axis>`` / ``cifar100:<axis>`` and the check ``C1-C3 CIFAR-10`` / ``-100``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ...assets.cifar import FORMATS, cifar_available
from ...engine import ProbeTarget, RunSpec
from ...transforms import CORRUPTION, GEOMETRIC, PHOTOMETRIC
from ...validation import seed_list
from ..common import PROBE_SEED_OFFSET, probe_settings
from ..sizes import budget_epochs
from .profiles import (  # noqa: F401  (the sizes, re-exported with the grid)
    CIFAR_SIZES,
    CLASS_RELATIONS,
    N_OBJECTS,
    N_TARGET,
    SIZES,
    CifarSizes,
    E1Sizes,
    Finetune,
)

SEED_TAG = 0xE1  # mixed into the per-seed generator that draws transforms and objects
FAMILIES = ("same", "disjoint")
AXES = ("classes", "architecture", "pt_samples", "ft_samples")
AXIS_LABEL = {"classes": "class relationship", "architecture": "architecture",
              "pt_samples": "pretraining samples", "ft_samples": "fine-tuning samples"}

CIFAR = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}
CIFAR_AXES = ("classes", "architecture", "pt_samples")
CIFAR_MISSING = "not run: CIFAR not available"


def draw(seed: int, n_target: int = N_TARGET) -> dict:
    """The seed's transform sets and object split: ``{"target", "disjoint"}`` (one transform
    per group each, in group order) and ``{"target_objects", "other_objects"}`` (``n_target``
    each, the first of a seeded order of the pack's first 60 objects). The transforms come
    from the paper's fixed 18, so registering more never changes a draw."""
    rng = np.random.default_rng([SEED_TAG, seed])
    target, disjoint = [], []
    for group in (GEOMETRIC, PHOTOMETRIC, CORRUPTION):
        i, j = rng.choice(len(group), size=2, replace=False)
        target.append(group[int(i)])
        disjoint.append(group[int(j)])
    perm = [int(o) for o in rng.permutation(N_OBJECTS)]
    return {"target": target, "disjoint": disjoint,
            "target_objects": perm[:n_target], "other_objects": perm[n_target:2 * n_target]}


def _pretrain_objects(d: dict, classes: str) -> list[int]:
    subset = d["target_objects"][:round(len(d["target_objects"]) / 3)]  # 10 of the paper's 30
    return {"subset": subset, "disjoint": d["other_objects"],
            "same": d["target_objects"],
            "superset": d["target_objects"] + d["other_objects"]}[classes]


def _spec(sizes: E1Sizes, d: dict, seed: int, fam: str, classes: str, model: str, n: int,
          epochs: int | None = None) -> RunSpec:
    """One run: ``fam`` transforms on the ``classes`` pretraining objects, ``n`` samples
    (``epochs``: other than the profile's, for the budget cells); probed on the target task
    with ``n_probe`` samples (the target-class run with every fine-tuning-samples size as
    well); a validation split of the source task is evaluated after every epoch."""
    def data(objects, transforms, n, s):
        return dict(objects=list(objects), transforms=list(transforms), n=n, seed=s,
                    image_size=sizes.image_size)

    test = data(d["target_objects"], d["target"], sizes.n_test, PROBE_SEED_OFFSET + seed)
    probe_ns = {sizes.n_probe, *(sizes.ft_samples if classes == "same" else ())}
    probe_cfg = probe_settings(sizes)
    probes = tuple(ProbeTarget(f"n{k}", {**test, "n": k}, test, probe=probe_cfg)
                   for k in sorted(probe_ns))
    if (classes, model, n) == ("disjoint", sizes.model, sizes.n):  # the default run: C5
        ft = sizes.finetune
        probes += (ProbeTarget(finetune_name(sizes), {**test, "n": ft.n}, test, probe=probe_cfg,
                               finetune=dict(epochs=ft.epochs, batch_size=ft.batch_size)),)
    transforms = d["target"] if fam == "same" else d["disjoint"]
    objects = _pretrain_objects(d, classes)
    if epochs is None:
        epochs = epoch_cap(sizes, n)
    train = sizes.train_settings(model, epochs)
    return RunSpec(model=model, source=data(objects, transforms, n, seed),
                   source_val=data(objects, transforms, sizes.n_val, seed), train=train,
                   probes=probes, seed=seed)


def epoch_cap(sizes: E1Sizes, n: int) -> int:
    """The most pretraining epochs for ``n`` samples: the profile's, or with
    ``sizes.equal_steps`` as many more as give a smaller sample the default's optimiser steps
    (each run still stops early at its accuracy ceiling): a model trained on little data is
    then trained to its ceiling too, not cut off by a fixed epoch count."""
    if sizes.equal_steps and n < sizes.n:
        return -(-sizes.epochs * sizes.n // n)
    return sizes.epochs


def cifar_draw(seed: int, name: str) -> dict:
    """The seed's CIFAR class split: ``{"target_classes", "other_classes"}``, half of the
    classes each, from a seeded order (its own generator: :func:`draw` is unchanged)."""
    k = FORMATS[name].num_classes
    perm = [int(c) for c in np.random.default_rng([SEED_TAG, seed, k]).permutation(k)]
    return {"target_classes": perm[:k // 2], "other_classes": perm[k // 2:]}


def _cifar_spec(name: str, sizes: CifarSizes, d: dict, c: dict, seed: int, fam: str, classes: str,
                model: str, n: int) -> RunSpec:
    """A CIFAR run: ``fam`` transforms on the ``classes`` pretraining classes, ``n`` samples
    over the default (other) classes, i.e. ``n / k`` per class; probed on the target task."""
    def data(cls, transforms, s, **count):
        return dict(dataset="cifar", name=name, classes=list(cls), transforms=list(transforms),
                    seed=s, **count)

    test = data(c["target_classes"], d["target"], PROBE_SEED_OFFSET + seed, n=sizes.n_test)
    probe = ProbeTarget(f"n{sizes.n_probe}", {**test, "n": sizes.n_probe}, test,
                        probe=probe_settings(sizes))
    pretrain = {"subset": c["target_classes"][:round(len(c["target_classes"]) / 3)],
                "disjoint": c["other_classes"], "same": c["target_classes"],
                "superset": c["target_classes"] + c["other_classes"]}[classes]
    transforms = d["target"] if fam == "same" else d["disjoint"]
    source = data(pretrain, transforms, seed, n_per_class=n // len(c["other_classes"]))
    return RunSpec(model=model, source=source, train=sizes.train_settings(model),
                   probes=(probe,), seed=seed)


def available_cifar() -> tuple[str, ...]:
    """The CIFAR datasets found on this machine (discovery only)."""
    return tuple(name for name in CIFAR if cifar_available(name))


def finetune_name(sizes: E1Sizes) -> str:
    """The default run's probe target that is also fully fine-tuned (claim C5)."""
    return f"ft{sizes.finetune.n}"


class Cell(NamedTuple):
    """One point of the grid: ``axis`` (an E1 axis, ``finetune``'s carrier being the default
    run, ``budget`` or ``<cifar>:<axis>``), its ``value``, the family, seed, spec and the
    probe that gives the point's accuracy. For ``budget`` cells ``value`` is
    ``(pretraining epochs, the configuration's axis, its value)``."""

    axis: str
    value: object
    family: str
    seed: int
    spec: RunSpec
    probe: str


def cells(sizes: E1Sizes, seeds: int | Sequence[int], cifar: tuple[str, ...] | None = None
          ) -> list[Cell]:
    """Every point of the grid with ``sizes``; the same spec appears under several axes (the
    engine computes it once). The Transforms-2D cells come first, then the budget cells (seed
    0) of profiles that have ``budgets``, then those of the CIFAR variant (sizes
    ``sizes.cifar``) for each of ``cifar`` (default: the datasets found here), on axes
    ``<name>:<axis>``."""
    out = []
    for seed in seed_list(seeds):
        out += _t2d_cells(sizes, seed)
    out += _budget_cells(sizes)
    for name in available_cifar() if cifar is None else cifar:
        for seed in seed_list(seeds):
            out += _cifar_cells(sizes, sizes.cifar, name, seed)
    return out


def _t2d_cells(sizes: E1Sizes, seed: int) -> list[Cell]:
    d, probe, out = draw(seed, sizes.n_target), f"n{sizes.n_probe}", []
    for fam in FAMILIES:
        def cell(axis, value, classes="disjoint", model=sizes.model, n=sizes.n, probe=probe,
                 fam=fam):
            out.append(Cell(axis, value, fam, seed,
                            _spec(sizes, d, seed, fam, classes, model, n), probe))
        for v in sizes.classes:
            cell("classes", v, classes=v)
        for v in sizes.models:
            cell("architecture", v, model=v)
        for v in sizes.pt_samples:
            cell("pt_samples", v, n=v)
        for v in sizes.ft_samples:
            cell("ft_samples", v, classes="same", probe=f"n{v}")
    return out


BUDGET_CONFIGS = (  # (axis, value, classes, n or None for the default): the claims' carriers
    ("classes", "disjoint", "disjoint", None), ("classes", "same", "same", None),
    ("pt_samples", "min", "disjoint", min), ("pt_samples", "max", "disjoint", max))


def _budget_cells(sizes: E1Sizes) -> list[Cell]:
    """Seed 0 at each multiple of the profile's epochs in ``sizes.budgets`` (none by default)."""
    d, out = draw(0, sizes.n_target), []
    for epochs in budget_epochs(sizes):
        for axis, value, classes, pick in BUDGET_CONFIGS:
            n = sizes.n if pick is None else pick(sizes.pt_samples)
            for fam in FAMILIES:
                spec = _spec(sizes, d, 0, fam, classes, sizes.model, n, epochs=epochs)
                out.append(Cell("budget", (epochs, axis, value), fam, 0, spec,
                                f"n{sizes.n_probe}"))
    return out


def _cifar_cells(sizes: E1Sizes, cifar: CifarSizes, name: str, seed: int) -> list[Cell]:
    d, c, out = draw(seed, sizes.n_target), cifar_draw(seed, name), []
    for fam in FAMILIES:
        for axis, values in (("classes", cifar.classes), ("architecture", cifar.models),
                             ("pt_samples", cifar.pt_samples)):
            for v in values:
                at = dict(classes="disjoint", model=cifar.model, n=cifar.n)
                at[{"classes": "classes", "architecture": "model", "pt_samples": "n"}[axis]] = v
                out.append(Cell(f"{name}:{axis}", v, fam, seed,
                                _cifar_spec(name, cifar, d, c, seed, fam, **at),
                                f"n{cifar.n_probe}"))
    return out
