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
(``SIZES``, values of :class:`E1Sizes`). Profiles with ``budgets`` also pretrain the models of
the claims' main comparisons (the default pair, the class-relationship pair of C4, the
pretraining-samples extremes of C3) for seed 0 at those multiples of ``epochs``: the effect
against training budget.

**CIFAR variant** (cells added only where :func:`~transforms2d.assets.cifar.cifar_available` finds
the data): the seed's same target / disjoint transforms on whole CIFAR-10 / CIFAR-100 images
(:class:`~transforms2d.data.TransformedCIFAR`); the target task is half of the classes (5 of
CIFAR-10, 50 of CIFAR-100, a seeded order), models pretrain by default on the other half. Axes
class relationship, architecture, pretraining samples (``CIFAR_SIZES``); results are the table
rows ``cifar10:<axis>`` / ``cifar100:<axis>`` and the check ``C1-C3 CIFAR-10`` / ``-100``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ...assets.cifar import FORMATS, cifar_available
from ...engine import ProbeTarget, RunSpec
from ...transforms import CORRUPTION, GEOMETRIC, PHOTOMETRIC
from ...validation import seed_list
from ..common import PROBE_SEED_OFFSET, probe_settings
from ..sizes import Sizes, budget_epochs, by_profile

N_OBJECTS, N_TARGET = 60, 30
SEED_TAG = 0xE1  # mixed into the per-seed generator that draws transforms and objects


@dataclass(frozen=True)
class Finetune:
    """The full fine-tuning of the default run (claim C5): target samples, epochs, batch."""

    n: int
    epochs: int
    batch_size: int


@dataclass(frozen=True, kw_only=True)
class CifarSizes(Sizes):
    """The CIFAR variant's sizes (``n``: pretraining samples over the default classes): probe
    and test samples, probe views, the axes' values (``classes``, ``models``,
    ``pt_samples``)."""

    n_probe: int
    n_test: int
    views: int
    classes: tuple[str, ...]
    models: tuple[str, ...]
    pt_samples: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class E1Sizes(CifarSizes):
    """E1's sizes: the CIFAR variant's fields (the same axes, on Transforms-2D) and
    ``n_target`` target (and as many other) objects, validation samples, the fine-tuning
    samples axis ``ft_samples``, the C5 fine-tuning; ``equal_steps``: fewer pretraining samples
    get more epochs (:func:`epoch_cap`); ``budgets``: seed 0 also at these multiples of
    ``epochs``."""

    image_size: int
    n_target: int
    n_val: int
    ft_samples: tuple[int, ...]
    finetune: Finetune
    equal_steps: bool = False
    budgets: tuple[float, ...] = ()


SIZES = by_profile(E1Sizes, {  # profile -> sizes; the logic is the same for all
    "paper": dict(model="resnet18", image_size=32, n_target=N_TARGET, n=50000, epochs=50,
                  batch_size=512, n_val=10000, fit_samples=2000,
                  n_probe=50000, n_test=10000, views=2,
                  classes=("subset", "disjoint", "same", "superset"),
                  models=("resnet18", "resnet50", "densenet_cifar", "vgg11", "vit"),
                  pt_samples=(1000, 10000, 50000, 100000, 500000),
                  ft_samples=(50, 200, 500, 2000, 5000),
                  finetune=Finetune(n=2000, epochs=50, batch_size=512)),
    # gpu (one H100-class GPU, all four <= 1 h by t2d plan's estimate; docs/gpu-profile.md):
    # the paper's models and data sizes, 5 seeds, up to 4 epochs (equal optimiser steps for
    # fewer samples; paper: 50), stopping once two epochs reach 0.97, 1 probe view, 2000
    # validation samples; the 500k-sample point is dropped (10x the others' sample-steps). Set
    # by time, not by curves: no GPU curve exists yet, so each run's preconditions say whether
    # the epochs were enough.
    "gpu": dict(model="resnet18", image_size=32, n_target=N_TARGET, n=50000, epochs=4,
                equal_steps=True, batch_size=512, stop_train_acc=0.97, n_val=2000,
                fit_samples=2000, n_probe=50000, n_test=10000, views=1,
                classes=("subset", "disjoint", "same", "superset"),
                models=("resnet18", "resnet50", "densenet_cifar", "vgg11", "vit"),
                pt_samples=(1000, 10000, 50000, 100000),
                ft_samples=(50, 200, 500, 2000, 5000),
                finetune=Finetune(n=2000, epochs=50, batch_size=512)),
    # cpu (2-core CPU, sized so every model meets the preconditions; docs/cpu-profile.md has
    # the curves): the paper's 30 + 30 objects; resnet_s (the ResNet family, 0.3M parameters)
    # for ResNet-18. Seed-0 curves, one thread: resnet_s on 6000 samples reaches 0.95 / 0.99
    # training accuracy at epoch 6 / 12 with the target transforms (3 / 3 with the disjoint
    # ones); vgg_s (the VGG family) 4 / 8, densenet_s 13 / 28, vit_s 0.95 at 20 (0.984 at 30).
    # A first cpu run with a 40-epoch cap then left 6 of seeds 0-1's 33 models at 0.92-0.95
    # (seed 1's target set shear + sharpen + elastic: still rising ~0.003 an epoch at 40), so
    # up to 80 epochs (more for fewer samples: the same optimiser steps, ``equal_steps``),
    # stopping once two epochs reach 0.97. Probes (benchmarks/probe_size_curve.py, seed 0,
    # 2026-12-05): L-BFGS on 1000 x 1 view overfits (train - test 0.21 same, 0.66 disjoint);
    # 10000 x 2 views is the smallest size with both gaps <= 0.07 (0.033 / 0.062; test 0.012
    # below 20000 x 2). Fine-tuning (benchmarks/finetune_curve.py, seeds 0 and 4): 20 epochs
    # leave 0.61-0.98 training accuracy; at 100 seed 0 reaches 0.95 by epoch 26, seed 4 gains
    # <= 0.012 from 50 to 100 (0.91 / 0.82: its plateau), so 100 epochs.
    "cpu": dict(model="resnet_s", image_size=32, n_target=N_TARGET, n=6000, epochs=80,
                equal_steps=True, batch_size=128, stop_train_acc=0.97, n_val=600,
                fit_samples=600, extend=1.0, n_probe=10000, n_test=1000, views=2,
                classes=("subset", "disjoint", "same", "superset"),
                models=("resnet_s", "vgg_s", "densenet_s", "vit_s"),
                pt_samples=(1500, 3000, 6000, 12000),
                ft_samples=(50, 200, 500, 2000),
                finetune=Finetune(n=2000, epochs=100, batch_size=128)),
    # quick (2-core CPU, minutes, 3 seeds: not a fair test, see the README): 10 target + 10
    # other objects instead of 30 + 30, and convnet_xs (a VGG-style CNN, 25k parameters) in
    # place of ResNet-18; on the architecture axis it stands for the VGG family beside
    # resnet_s / densenet_s / vit_s. 3000 samples x 10 epochs (E1 <= 10 min on 2 cores):
    # with 30 classes convnet_xs stayed at 0.2-0.4 training accuracy at this cost, with 10 it
    # reaches 0.8-0.99. Probes: batch 64 x 600 epochs (4800 steps) let the loss settle.
    # Budgets: seed 0 also at 1/4 and 1/2 of the epochs (the effect against training budget).
    "quick": dict(model="convnet_xs", image_size=32, n_target=10, n=3000, epochs=10,
                  batch_size=256, stop_train_acc=0.98, n_val=500, fit_samples=500,
                  n_probe=500, n_test=2000, views=1,
                  classes=("subset", "disjoint", "same", "superset"),
                  models=("convnet_xs", "resnet_s", "densenet_s", "vit_s"),
                  pt_samples=(750, 1500, 3000, 6000),
                  ft_samples=(50, 200, 500, 2000),
                  finetune=Finetune(n=2000, epochs=10, batch_size=128), budgets=(0.25, 0.5)),
    "smoke": dict(model="convnet_xs", image_size=16, n_target=N_TARGET, n=300, epochs=1,
                  batch_size=64, n_val=60,
                  n_probe=60, n_test=60, views=1,
                  classes=("disjoint", "same"),
                  models=("convnet_xs", "convnet_s"),
                  pt_samples=(150, 300),
                  ft_samples=(30, 60),
                  finetune=Finetune(n=60, epochs=1, batch_size=32), budgets=(2,)),
})
FAMILIES = ("same", "disjoint")
AXES = ("classes", "architecture", "pt_samples", "ft_samples")
AXIS_LABEL = {"classes": "class relationship", "architecture": "architecture",
              "pt_samples": "pretraining samples", "ft_samples": "fine-tuning samples"}

# -- CIFAR variant sizes. Pretraining samples are totals over the default pretraining classes
# (half of them) and become a per-class count, which the class-relationship runs keep: CIFAR has
# 4,500 training images per CIFAR-10 class and 450 per CIFAR-100 class, too few for a fixed
# total on the 2-class subset. The paper values are all of those images (22,500 = 5 x 4,500 =
# 50 x 450). Quick, timed on synthetic archives in the real format (one thread, busy machine):
# convnet_xs 4-5 s a run (superset 10 s), resnet_s 12 s; ~37 CPU-s per dataset, family and
# seed, so ~7.5 CPU-min for both datasets x 3 seeds. Accuracies there say nothing (noise images).
CIFAR = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}
CIFAR_AXES = ("classes", "architecture", "pt_samples")
CIFAR_SIZES = by_profile(CifarSizes, {
    "paper": dict(model="resnet18", n=22500, epochs=50, batch_size=512, n_probe=22500,
                  n_test=5000, views=2, fit_samples=2000,
                  classes=("subset", "disjoint", "same", "superset"),
                  models=("resnet18", "resnet50", "densenet_cifar", "vgg11", "vit"),
                  pt_samples=(1000, 5000, 10000, 22500)),
    "gpu": dict(model="resnet18", n=22500, epochs=8, batch_size=512, stop_train_acc=0.97,
                fit_samples=2000, n_probe=22500, n_test=5000, views=1,
                classes=("subset", "disjoint", "same", "superset"),
                models=("resnet18", "resnet50", "densenet_cifar", "vgg11", "vit"),
                pt_samples=(1000, 5000, 10000, 22500)),
    "cpu": dict(model="resnet_s", n=4000, epochs=30, batch_size=128, stop_train_acc=0.97,
                fit_samples=600, extend=1.0, n_probe=1000, n_test=1000, views=1,
                classes=("subset", "disjoint", "same", "superset"),
                models=("resnet_s", "convnet_s"), pt_samples=(1000, 4000)),
    "quick": dict(model="convnet_xs", n=2000, epochs=5, batch_size=128, n_probe=1000,
                  n_test=1000, views=1, fit_samples=500,
                  classes=("subset", "disjoint", "same", "superset"),
                  models=("convnet_xs", "resnet_s"), pt_samples=(500, 2000)),
    "smoke": dict(model="convnet_xs", n=50, epochs=1, batch_size=32, n_probe=50, n_test=50,
                  views=1, classes=("disjoint", "same"),
                  models=("convnet_xs", "convnet_s"), pt_samples=(50, 100)),
})
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
    ``CIFAR_SIZES[sizes.profile]``) for each of ``cifar`` (default: the datasets found here),
    on axes ``<name>:<axis>``."""
    out = []
    for seed in seed_list(seeds):
        out += _t2d_cells(sizes, seed)
    out += _budget_cells(sizes)
    cifar_sizes = CIFAR_SIZES[sizes.profile]
    for name in available_cifar() if cifar is None else cifar:
        for seed in seed_list(seeds):
            out += _cifar_cells(sizes, cifar_sizes, name, seed)
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
