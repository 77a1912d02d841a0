"""E1's sizes: one :class:`E1Sizes` value per profile (``SIZES``), the CIFAR variant's sizes
a field of it (``cifar``, from ``CIFAR_SIZES``), so that ``--set cifar.epochs=5`` reaches them
like any other size. Profiles change sizes only; the grid is :mod:`.grid`."""

from __future__ import annotations

from dataclasses import dataclass

from ..sizes import GridSizes, ProbeSizes, Sizes, by_profile, model_names, size

N_OBJECTS, N_TARGET = 60, 30
CLASS_RELATIONS = ("subset", "disjoint", "same", "superset")  # of the pretraining classes


@dataclass(frozen=True, kw_only=True)
class Finetune:
    """The full fine-tuning of the default run (claim C5): target samples, epochs, batch."""

    n: int = size(min=1)
    epochs: int = size(min=1)
    batch_size: int = size(min=1)


@dataclass(frozen=True, kw_only=True)
class E1Axes:
    """The axes' values, on Transforms-2D and on CIFAR alike (a mixin): class relationships,
    architectures, pretraining samples."""

    classes: tuple[str, ...] = size(choices=CLASS_RELATIONS)
    models: tuple[str, ...] = size(choices=model_names)
    pt_samples: tuple[int, ...] = size(min=1)


@dataclass(frozen=True, kw_only=True)
class CifarSizes(Sizes, ProbeSizes, E1Axes):
    """The CIFAR variant's sizes (``n``: pretraining samples over the default classes): the
    training and probe sizes and the axes' values."""


@dataclass(frozen=True, kw_only=True)
class E1Sizes(GridSizes, ProbeSizes, E1Axes):
    """E1's sizes: the grids', the probes' and the axes' (:mod:`..sizes`, :class:`E1Axes`, on
    Transforms-2D), ``n_target`` target (and as many other) objects, the fine-tuning samples
    axis ``ft_samples``, the C5 fine-tuning; ``equal_steps``: fewer pretraining samples get
    more epochs (:func:`~.grid.epoch_cap`); ``cifar``: the CIFAR variant's sizes."""

    n_target: int = size(min=2, max=N_OBJECTS // 2)  # the subset axis takes a third of them
    ft_samples: tuple[int, ...] = size(min=1)
    finetune: Finetune
    cifar: CifarSizes
    equal_steps: bool = False


# -- CIFAR variant sizes. Pretraining samples are totals over the default pretraining classes
# (half of them) and become a per-class count, which the class-relationship runs keep: CIFAR has
# 4,500 training images per CIFAR-10 class and 450 per CIFAR-100 class, too few for a fixed
# total on the 2-class subset. The paper values are all of those images (22,500 = 5 x 4,500 =
# 50 x 450). Quick, timed on synthetic archives in the real format (one thread, busy machine):
# convnet_xs 4-5 s a run (superset 10 s), resnet_s 12 s; ~37 CPU-s per dataset, family and
# seed, so ~7.5 CPU-min for both datasets x 3 seeds. Accuracies there say nothing (noise images).
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

# -- E1's sizes, each profile with the CIFAR sizes of the same name.
SIZES = by_profile(E1Sizes, {  # profile -> sizes; the logic is the same for all
    "paper": dict(model="resnet18", image_size=32, n_target=N_TARGET, n=50000, epochs=50,
                  batch_size=512, n_val=10000, fit_samples=2000,
                  n_probe=50000, n_test=10000, views=2,
                  classes=("subset", "disjoint", "same", "superset"),
                  models=("resnet18", "resnet50", "densenet_cifar", "vgg11", "vit"),
                  pt_samples=(1000, 10000, 50000, 100000, 500000),
                  ft_samples=(50, 200, 500, 2000, 5000),
                  finetune=Finetune(n=2000, epochs=50, batch_size=512),
                  cifar=CIFAR_SIZES["paper"]),
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
                finetune=Finetune(n=2000, epochs=50, batch_size=512),
                cifar=CIFAR_SIZES["gpu"]),
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
                finetune=Finetune(n=2000, epochs=100, batch_size=128),
                cifar=CIFAR_SIZES["cpu"]),
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
                  finetune=Finetune(n=2000, epochs=10, batch_size=128),
                  cifar=CIFAR_SIZES["quick"], budgets=(0.25, 0.5)),
    "smoke": dict(model="convnet_xs", image_size=16, n_target=N_TARGET, n=300, epochs=1,
                  batch_size=64, n_val=60,
                  n_probe=60, n_test=60, views=1,
                  classes=("disjoint", "same"),
                  models=("convnet_xs", "convnet_s"),
                  pt_samples=(150, 300),
                  ft_samples=(30, 60),
                  finetune=Finetune(n=60, epochs=1, batch_size=32),
                  cifar=CIFAR_SIZES["smoke"], budgets=(2,)),
})
