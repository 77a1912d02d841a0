"""The grid of ``e2``: invariance to irrelevant features can harm transfer (docs/protocol.md §6
E2; claim C6, §7).

Small objects (12 px at 32, upper-right corner; a second variant places them anywhere) are
pasted onto scene images. Four tasks, input/label: ``C/C`` (scene only, scene label), ``C+O/C``
(scene with object, scene label), ``C+O/O`` (scene with object, object label) and ``O/O``
(object on black, object label); the object is drawn independently of the scene class. One
model is pretrained per task and variant, then every model is probed on the four tasks (4×4),
and its invariance to the object (same scene, another object) and to the scene (same object,
another scene) is measured with the normalised l2 metric (docs/protocol.md §5).

Two axes of the paper's study vary one factor of the ``C+O/C`` model (fixed placement): the
**label correlation** α (with probability α the object's class follows the scene class through
a fixed one-to-one map) and the **object availability** β (the object is pasted with
probability β; β = 0 is the C/C model and β = 1 the C+O/C model, both shared with the grid).
Their models are probed and measured like the grid's.

**Sources of the scenes.** The paper uses CIFAR-10 images. The ``objects`` source, always run,
is a stand-in that, like CIFAR, needs shape recognition: 10 large builtin objects under random
scale, rotation and hue on nature backgrounds (:mod:`transforms2d.data.scenes`); every output
says so. The ``cifar10`` source (CIFAR-10 images, label = CIFAR class) is added only where
:func:`~transforms2d.assets.cifar.cifar_available` finds CIFAR-10; its tables, figure and claims
carry a ``cifar10`` suffix, and without the data the report says "not run: CIFAR not
available".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ...assets.cifar import cifar_available
from ...engine import InvarianceTarget, ProbeTarget, RunSpec
from ...validation import seed_list
from ..common import PROBE_SEED_OFFSET, probe_settings
from ..sizes import GridSizes, ProbeSizes, budget_epochs, by_profile, size

SEED_TAG = 0xE2
N_OBJECTS = 10  # the paper's 10 objects
OBJECT_SCALE = 12 / 32  # ≈12×12 px at 32 px
STAND_IN = ("objects: 10 large builtin objects under scale, rotation and hue on nature "
            "backgrounds, standing in for CIFAR-10")
SOURCES = {"objects": STAND_IN, "cifar10": "CIFAR-10 images (label = CIFAR-10 class)"}
CIFAR_MISSING = "not run: CIFAR not available"

TASKS = ("C/C", "C+O/C", "C+O/O", "O/O")
TASK_DATA = {  # Transforms2D arguments of each task (objects, sizes and placement added later)
    "C/C": dict(class_from="background", object_availability=0.0),
    "C+O/C": dict(class_from="background"),
    "C+O/O": dict(class_from="object"),
    "O/O": dict(class_from="object", backgrounds="black"),
}
TASK_ID = {"C/C": "C_C", "C+O/C": "CO_C", "C+O/O": "CO_O", "O/O": "O_O"}  # in file names
VARIANTS = {"fixed": "corner", "translated": "anywhere"}  # variant -> object_position
FACTORS = ("object", "background")  # invariance to the object / to the scene image
AXES = ("alpha", "beta")  # label correlation and object availability of the C+O/C model

ALPHAS = (0.0, 0.2, 0.4, 0.6, 0.8, 0.85, 0.9, 0.95, 1.0)  # the paper's levels
BETAS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # the paper's, plus 1.0 = the C+O/C model (free)


@dataclass(frozen=True, kw_only=True)
class E2Sizes(GridSizes, ProbeSizes):
    """E2's sizes: the grids' and the probes' (:mod:`..sizes`), invariance pairs; the α and β
    levels; ``n_translated``: pretraining samples of the translated-placement models
    (``None``: ``n``). (``n_val`` is not read: the source's validation split takes
    ``n_test`` samples.)"""

    n_inv: int = size(min=2)  # pairs, each scored against another pair
    alphas: tuple[float, ...] = size(min=0, max=1)
    betas: tuple[float, ...] = size(min=0, max=1)
    n_translated: int | None = size(min=1, default=None)


SIZES = by_profile(E2Sizes, {
    "paper": dict(model="resnet18", image_size=32, n=50000, epochs=200, batch_size=512,
                  n_val=10000, fit_samples=2000, n_probe=50000, n_test=10000, views=2,
                  n_inv=10000, alphas=ALPHAS, betas=BETAS),
    # gpu (one H100-class GPU, all four <= 1 h by t2d plan's estimate; docs/gpu-profile.md):
    # the paper's data sizes, 5 seeds, up to 4 epochs (paper: 200) stopping once two epochs
    # reach 0.97, 1 probe view, the cpu profile's alpha/beta levels; set by time (no GPU curve
    # yet).
    "gpu": dict(model="resnet18", image_size=32, n=50000, epochs=4, batch_size=512,
                stop_train_acc=0.97, n_val=2000, fit_samples=2000, n_probe=50000,
                n_test=10000, views=1, n_inv=10000, alphas=(0.0, 0.4, 0.8, 0.9, 1.0),
                betas=(0.0, 0.4, 0.8, 1.0)),
    # cpu (2-core CPU, docs/cpu-profile.md): resnet_s; seed-0 curves (one thread) on the
    # object-scene stand-in: C/C 1.00 training accuracy by epoch 30. Up to 30 epochs, stopping
    # once two epochs reach 0.97. Fixed-placement models on 6000 samples reach >= 0.9
    # validation accuracy; translated ones overfit there (C+O/C 0.73 / C+O/O 0.79 validation
    # at 0.99 training, 0.875 / 0.84 on 12000, 0.917 / 0.951 on 24000; 2026-12-05), so they
    # train on 24000 (``n_translated``). Probes (benchmarks/probe_size_curve.py): 1000
    # samples overfit (train - test 0.37 / 0.43 for C/C / C+O/C on C+O/O); 10000 is the
    # smallest size with both gaps <= 0.07 (0.051 / 0.064); views add nothing here (no
    # augmentation: every view is the same image).
    "cpu": dict(model="resnet_s", image_size=32, n=6000, n_translated=24000, epochs=30,
                batch_size=128, stop_train_acc=0.97, n_val=600, fit_samples=600, extend=1.0,
                n_probe=10000, n_test=1000, views=1, n_inv=500, alphas=(0.0, 0.4, 0.8, 0.9, 1.0),
                betas=(0.0, 0.4, 0.8, 1.0)),
    # quick (2-core CPU, minutes, 3 seeds: not a fair test): convnet_xs, 3000 samples x 10
    # epochs; probes on 1000 samples. Budgets: seed 0 also at 1/4 and 1/2 of the epochs.
    "quick": dict(model="convnet_xs", image_size=32, n=3000, epochs=10, batch_size=128,
                  stop_train_acc=0.98, n_val=500, fit_samples=500, n_probe=1000,
                  n_test=1000, views=1, n_inv=500, alphas=(0.0, 0.8, 1.0), betas=(0.0, 0.4, 1.0),
                  budgets=(0.25, 0.5)),
    "smoke": dict(model="convnet_xs", image_size=16, n=160, epochs=1, batch_size=64, n_val=40,
                  n_probe=80, n_test=80, views=1, n_inv=64,
                  alphas=(0.0, 1.0), betas=(0.0, 0.5, 1.0), budgets=(2,)),
})


class Cell(NamedTuple):
    """One point of the grid: ``axis`` ``"tasks"`` (``value`` = the pretraining task),
    ``"alpha"`` / ``"beta"`` (``value`` = the level) or ``"budget"`` (``value`` =
    ``(pretraining epochs, task)``), the object placement, seed and spec."""

    axis: str
    value: object
    variant: str
    seed: int
    spec: RunSpec


def draw(seed: int) -> dict:
    """The seed's 10 objects (from the builtin pack's first 60): ``{"objects": [...]}``."""
    rng = np.random.default_rng([SEED_TAG, seed])
    return {"objects": [int(o) for o in rng.permutation(60)[:N_OBJECTS]]}


def _data(sizes: E2Sizes, objects: list[int], task: str, variant: str, n: int, seed: int,
          source: str = "objects", **factors) -> dict:
    # C/C has no object, so its placement is irrelevant: one spec serves both variants.
    position = "corner" if task == "C/C" else VARIANTS[variant]
    # the pack name only, never a root: the CIFAR files are found at run time
    return dict(objects=list(objects), n=n, seed=seed, image_size=sizes.image_size,
                object_scale=OBJECT_SCALE, object_position=position, **TASK_DATA[task],
                background_pack=source, **factors)


def _spec(sizes: E2Sizes, objects: list[int], seed: int, task: str, variants: tuple[str, ...],
          source: str = "objects", epochs: int | None = None, **factors) -> RunSpec:
    """Pretrain on ``task`` (with ``factors``: ``correlation`` or ``object_availability``);
    probe on the four tasks and measure invariance to the object and to the scene, for each
    of ``variants`` (the object placements this model serves)."""
    s = PROBE_SEED_OFFSET + seed
    probes, inv = [], []
    probe_cfg = probe_settings(sizes)
    for v in variants:
        for t in TASKS:
            test = _data(sizes, objects, t, v, sizes.n_test, s, source)
            probes.append(ProbeTarget(f"{v}.{TASK_ID[t]}", {**test, "n": sizes.n_probe}, test,
                                      probe=probe_cfg))
        # invariance to the object: scene-labelled data, the twin swaps the object; to the
        # scene: object-labelled data, the twin swaps the background (same images otherwise)
        for factor, task_ in (("object", "C+O/C"), ("background", "C+O/O")):
            inv.append(InvarianceTarget(f"{v}.{factor}",
                                        _data(sizes, objects, task_, v, sizes.n_inv, s, source),
                                        metrics=("l2",), twin_factor=factor))
    n = (sizes.n_translated or sizes.n) if variants == ("translated",) else sizes.n
    return RunSpec(model=sizes.model,
                   source=_data(sizes, objects, task, variants[0], n, seed, source, **factors),
                   source_val=_data(sizes, objects, task, variants[0], sizes.n_test, seed, source,
                                    **factors),
                   train=sizes.train_settings(epochs=epochs),
                   probes=tuple(probes), invariance=tuple(inv), seed=seed)


def sources() -> tuple[str, ...]:
    """The scene sources that run here: ``objects``, and ``cifar10`` where CIFAR-10 is found."""
    return ("objects", *(("cifar10",) if cifar_available("cifar10") else ()))


def cells(sizes: E2Sizes, seeds: int | Sequence[int], source: str = "objects") -> list[Cell]:
    """The grid of one scene source: the 4 tasks x 2 placements (the C/C model serves both),
    then the α and β axes (fixed placement), then the budget cells of profiles that have
    ``budgets``. Level α = 0 is the C+O/C model, β = 0 the C/C model and β = 1 the C+O/C
    model: the same specs, computed once."""
    out = []
    for seed in seed_list(seeds):
        objects = draw(seed)["objects"]
        shared = _spec(sizes, objects, seed, "C/C", tuple(VARIANTS), source)
        for v in VARIANTS:
            for task in TASKS:
                spec = shared if task == "C/C" else _spec(sizes, objects, seed, task, (v,), source)
                out.append(Cell("tasks", task, v, seed, spec))
        for a in sizes.alphas:  # correlation 0 is the default: the C+O/C spec itself
            spec = _spec(sizes, objects, seed, "C+O/C", ("fixed",), source, correlation=a)
            out.append(Cell("alpha", a, "fixed", seed, spec))
        for b in sizes.betas:  # availability 1 is the default: the C+O/C spec itself
            spec = shared if b == 0 else _spec(sizes, objects, seed, "C+O/C", ("fixed",), source,
                                               object_availability=b)
            out.append(Cell("beta", b, "fixed", seed, spec))
    return out + _budget_cells(sizes, source)


def _budget_cells(sizes: E2Sizes, source: str) -> list[Cell]:
    """Seed 0's C/C and C+O/C models (both placements) at each multiple of the profile's
    epochs in ``sizes.budgets``: claim C6's comparison against training budget."""
    objects, out = draw(0)["objects"], []
    for epochs in budget_epochs(sizes):
        shared = _spec(sizes, objects, 0, "C/C", tuple(VARIANTS), source, epochs)
        for v in VARIANTS:
            out.append(Cell("budget", (epochs, "C/C"), v, 0, shared))
            out.append(Cell("budget", (epochs, "C+O/C"), v, 0,
                            _spec(sizes, objects, 0, "C+O/C", (v,), source, epochs)))
    return out
