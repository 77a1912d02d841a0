"""The grid of ``e3``: how transferable is invariance? (docs/protocol.md §6 E3; claim C7, §7).

For every single transform τ of :data:`~transforms2d.transforms.TRANSFORMS`, and for no
transform (``none``), two models are pretrained with τ only: an ``img`` model on 30 "primary"
builtin objects on image backgrounds (a seeded draw from the pack's first 60; the other 30 are
the "other" objects) and a ``rand`` model on 30 random-pixel objects on random backgrounds.
Each model's normalised-l2 invariance (docs/protocol.md §5) to every τ is measured on the domains of
:data:`DOMAINS`, on data rendered from their own seed.

Per measured τ: **Same** is the model trained on τ, **Other** the mean of the models trained on
the other transforms, **None** the model trained on none. Profiles change sizes only.

The CIFAR-10 / CIFAR-100 domains are measured only where
:func:`~transforms2d.data.cifar.cifar_available` finds the data: on
:class:`~transforms2d.data.TransformedCIFAR` test images of all classes with ``normalize="half"``
(the [-1, 1] range the models were trained on), at 32 px whatever the profile's image size (the
models pool globally). Otherwise they stay in the tables as "not run: CIFAR not available".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ...assets.cifar import cifar_available
from ...engine import InvarianceTarget, RunSpec
from ...metrics import METRICS
from ...transforms import PAPER_TRANSFORMS
from ...validation import seed_list
from ..sizes import GridSizes, budget_epochs, by_profile, size

N_OBJECTS, N_PRIMARY = 60, 30
SEED_TAG = 0xE3  # mixed into the per-seed generator that draws the object split
INV_SEED_OFFSET = 30_000  # invariance data use their own rendering seeds, never the source's
METRIC = "l2"  # what the tables use (docs/protocol.md §5)
NONE = "none"
KINDS = ("img", "rand")
CIFAR_MISSING = "not run: CIFAR not available"


@dataclass(frozen=True, kw_only=True)
class E3Sizes(GridSizes):
    """E3's sizes: the grids' (:mod:`..sizes`), invariance pairs per domain and transform
    (``n_inv``; ``n_inv_cifar`` on the CIFAR domains), the metrics measured; ``kind_epochs``:
    ``(kind, epochs)`` pairs that replace ``epochs`` for a model kind (``--set
    kind_epochs=rand:200``); ``transforms``: measure only the first this many of the paper's
    18 (``None``: all)."""

    n_inv: int = size(min=2)  # pairs, each scored against another pair
    n_inv_cifar: int = size(min=2)
    metrics: tuple[str, ...] = size(choices=METRICS)
    kind_epochs: tuple[tuple[str, int], ...] = size(choices=KINDS, min=1, default=())
    transforms: int | None = size(min=1, max=len(PAPER_TRANSFORMS), default=None)


SIZES = by_profile(E3Sizes, {  # profile -> sizes; the logic is the same for all
    "paper": dict(model="resnet18", image_size=32, n=50000, epochs=50, batch_size=512,
                  n_val=10000, fit_samples=2000, n_inv=10000, n_inv_cifar=10000,
                  metrics=("l2", "cos", "dot", "cka")),
    # gpu (one H100-class GPU, all four <= 1 h by t2d plan's estimate; docs/gpu-profile.md):
    # ResNet-18 on the paper's 50000 samples, 5 seeds, up to 3 epochs (paper: 50) stopping
    # once two epochs reach 0.97; invariance on 500 pairs per domain and transform (paper:
    # 10000; 54 measurements a run). Set by time (no GPU curve yet).
    "gpu": dict(model="resnet18", image_size=32, n=50000, epochs=3, batch_size=512,
                stop_train_acc=0.97, n_val=2000, fit_samples=2000, n_inv=500, n_inv_cifar=500,
                metrics=("l2", "cos", "dot", "cka")),
    # cpu (2-core CPU, docs/cpu-profile.md): convnet_xs on 3000 samples of 30 classes. Every
    # model of a kind trains the same epochs, no early stop (the paper: 50 for every model;
    # an early stop let the None models stop at a median of 4 epochs against 43-400 for the
    # others), and transfers its best-validation weights (the paper's checkpoint choice;
    # docs/protocol.md "Restatements"). Epochs from the 2026-12-04 run's curves (one thread,
    # 0.6-0.8 s an epoch): img models reach 0.97 training accuracy within 4-83 epochs (elastic
    # last): 100; random-pixel elastic first reaches 0.95 at epochs 175-203 (validation alike),
    # random-pixel noise peaks near 0.55 validation by ~100 and then memorises: 200 (time
    # allows no more; the held-out plateau clause judges the rest). Invariance on 300 pairs.
    "cpu": dict(model="convnet_xs", image_size=32, n=3000, epochs=100, kind_epochs=(("rand", 200),),
                keep="best_val_last", batch_size=64, n_val=600, fit_samples=600, extend=1.0,
                n_inv=300, n_inv_cifar=300,
                metrics=("l2",)),
    # quick: 114 runs (3 seeds) in ~7 min on 2 one-thread workers leaves ~7 CPU-s a run:
    # convnet_xs, 3000 samples x 4 epochs (batch 64 learns much faster than 128 at the same
    # cost), invariance on 128 pairs, l2 only. Measured (one thread, 32 px): ~6 s a run
    # (pretraining 4-6 s, the 54 invariance measurements ~2 s); train accuracy of the none
    # models 0.98 (img) / 0.99 (rand), 0.26-0.95 for the others. CIFAR (where found) adds 36
    # measurements of 200 pairs a run (n_inv_cifar: at least one image per CIFAR-100 class).
    # Budgets: seed 0 also at 1 and 2 epochs (the effect against training budget).
    "quick": dict(model="convnet_xs", image_size=32, n=3000, epochs=4, batch_size=64,
                  stop_train_acc=0.98, n_val=300, fit_samples=300, n_inv=128, n_inv_cifar=200,
                  metrics=("l2",), budgets=(0.25, 0.5)),
    "smoke": dict(model="convnet_xs", image_size=16, n=300, epochs=1, batch_size=64, n_val=60,
                  n_inv=60, n_inv_cifar=100, metrics=("l2",), transforms=3, budgets=(2,)),
})

# kind -> domain -> (object set, asset pack, backgrounds); the object sets are those of
# `object_sets`. A string instead of a triple names a domain that cannot always run and why (it
# stays in the tables); the CIFAR ones run where their data are found (CIFAR_DOMAINS). Each kind
# pretrains on its "id" domain; the first three domains are in order of growing shift.
DOMAINS = {
    "img": {"id": ("primary", "builtin", "images"),
            "other_objects": ("other", "builtin", "images"),
            "random": ("random_other", "random", "random"),
            "cifar10": CIFAR_MISSING, "cifar100": CIFAR_MISSING},
    "rand": {"id": ("random_id", "random", "random"),
             "random_other": ("random_other", "random", "random"),
             "real": ("primary", "builtin", "images"),
             "cifar10": CIFAR_MISSING, "cifar100": CIFAR_MISSING},
}
CIFAR_DOMAINS = ("cifar10", "cifar100")  # domain = dataset name
SHIFT_ORDER = {"img": ("id", "other_objects", "random"), "rand": ("id", "random_other", "real")}
OTHER_MARGIN = 0.05  # C7(c): None - Other may exceed 0 by at most this (l2 units)

def draw(seed: int) -> dict:
    """The seed's object split of the builtin pack's first 60: ``{"primary", "other"}``, 30
    object indices each."""
    perm = [int(o) for o in np.random.default_rng([SEED_TAG, seed]).permutation(N_OBJECTS)]
    return {"primary": perm[:N_PRIMARY], "other": perm[N_PRIMARY:]}


def object_sets(d: dict) -> dict[str, list[int]]:
    """Named object lists: the draw's builtin ones and the fixed random-pixel ones."""
    return {**d, "random_id": list(range(N_PRIMARY)),
            "random_other": list(range(N_PRIMARY, N_OBJECTS))}


def measured(sizes: E3Sizes) -> tuple[str, ...]:
    """The transforms measured (and trained on, besides ``none``) with ``sizes``: the first
    ``sizes.transforms`` of the paper's fixed 18 (all of them unless a profile says fewer)."""
    return PAPER_TRANSFORMS[:sizes.transforms or len(PAPER_TRANSFORMS)]


def available_cifar() -> tuple[str, ...]:
    """The CIFAR domains whose data are found on this machine (discovery only)."""
    return tuple(name for name in CIFAR_DOMAINS if cifar_available(name))


def _spec(sizes: E3Sizes, d: dict, seed: int, kind: str, trained: str, cifar: tuple[str, ...] = (),
          epochs: int | None = None) -> RunSpec:
    """The ``kind`` model pretrained with ``trained`` only (for ``epochs``, the profile's by
    default), measured on every runnable domain (the CIFAR ones of ``cifar`` included) for
    every measured transform (targets named ``<domain>.<transform>``)."""
    sets = object_sets(d)

    def data(domain, transforms, n, s):
        if domain in CIFAR_DOMAINS:  # all classes, in the models' [-1, 1] input range
            return dict(dataset="cifar", name=domain, transforms=list(transforms),
                        n=sizes.n_inv_cifar, seed=s, normalize="half")
        objects, assets, backgrounds = DOMAINS[kind][domain]
        return dict(objects=sets[objects], transforms=list(transforms), n=n, seed=s,
                    image_size=sizes.image_size, assets=assets, backgrounds=backgrounds)

    targets = tuple(
        InvarianceTarget(f"{dom}.{t}", data(dom, [t], sizes.n_inv, INV_SEED_OFFSET + seed),
                         metrics=sizes.metrics)
        for dom, how in DOMAINS[kind].items() if not isinstance(how, str) or dom in cifar
        for t in measured(sizes))
    ts = [] if trained == NONE else [trained]
    train = sizes.train_settings(epochs=kind_epochs(sizes, kind) if epochs is None else epochs)
    return RunSpec(model=sizes.model, source=data("id", ts, sizes.n, seed),
                   source_val=data("id", ts, sizes.n_val, seed), train=train,
                   invariance=targets, seed=seed)


def kind_epochs(sizes: E3Sizes, kind: str) -> int:
    """The pretraining epochs of ``kind``'s models: its ``sizes.kind_epochs`` where a profile
    sets one, else ``sizes.epochs``."""
    return dict(sizes.kind_epochs).get(kind, sizes.epochs)


class Cell(NamedTuple):
    """One run of the grid: the model ``kind``, its training transform (or ``none``), seed,
    spec and the budget it belongs to: the profile's ``epochs`` for the main grid (whose models
    train :func:`kind_epochs`), or a budget's epochs."""

    kind: str
    trained: str
    seed: int
    spec: RunSpec
    epochs: int


def cells(sizes: E3Sizes, seeds: int | Sequence[int], cifar: tuple[str, ...] | None = None
          ) -> list[Cell]:
    """Every run of the grid, then the budget runs (seed 0, each multiple of the epochs in
    ``budgets``) of profiles that have them. The runs also measure the CIFAR domains of
    ``cifar`` (default: those found here); that changes the specs (one run both pretrains and
    measures), so adding CIFAR later means new runs."""
    cifar = available_cifar() if cifar is None else tuple(cifar)
    trained = (*measured(sizes), NONE)
    out = [Cell(kind, t, seed, _spec(sizes, d, seed, kind, t, cifar), sizes.epochs)
           for seed in seed_list(seeds) for d in [draw(seed)] for kind in KINDS for t in trained]
    for epochs in budget_epochs(sizes):
        out += [Cell(kind, t, 0, _spec(sizes, draw(0), 0, kind, t, cifar, epochs), epochs)
                for kind in KINDS for t in trained]
    return out
