"""Hyper-parameters of pretraining, probing and fine-tuning, one dataclass each (the paper's
recipes: docs/protocol.md §4)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from ..errors import ConfigError
from ..models import model_info
from ..validation import check_choice, check_int, check_number

SCHEDULES = ("constant", "warmup_cosine", "linear_decay")
# which weights training returns (TrainConfig.keep): the last epoch's, or the best validation
# epoch's with ties going to the first ("best_val", a strict >) or the last ("best_val_last")
KEEPS = ("last", "best_val", "best_val_last")
BEST_VAL_KEEPS = ("best_val", "best_val_last")


@dataclass(frozen=True)
class TrainConfig:
    """Pretraining / fine-tuning settings. Defaults are the paper's pretraining (docs/protocol.md
    §4)."""

    epochs: int = 50
    batch_size: int = 512  # samples per optimiser step
    lr: float = 1e-3  # Adam learning rate
    weight_decay: float = 0.0  # Adam (L2) weight decay; the paper's ViT uses 5e-5
    schedule: str = "constant"  # constant | warmup_cosine (ViT) | linear_decay (fine-tuning)
    warmup_epochs: int = 0  # linear warm-up length for warmup_cosine
    min_lr: float = 0.0  # floor of the cosine schedule (the paper's ViT: 1e-5)
    seed: int = 0  # model init and anything else not tied to the data seed
    device: str = "cpu"
    channels_last: bool = True  # faster convolutions on CPU (oneDNN) and GPU
    bf16: bool | None = None  # bfloat16 autocast; None = on for CUDA devices, never on CPU
    eval_batch_size: int = 1024
    progress: bool = True
    # Early stop at the ceiling: end training once the epoch's training accuracy (macro) has
    # been >= stop_train_acc for stop_patience consecutive epochs (None: always run `epochs`).
    stop_train_acc: float | None = None
    stop_patience: int = 2
    # The weights training returns: the last epoch's, or ("best_val") those of the epoch with
    # the best validation accuracy (needs a validation set; the paper transfers the best
    # validation checkpoint, docs/protocol.md "Restatements"), the first of tied epochs; with
    # "best_val_last" the last of them (docs/protocol.md §10.3).
    keep: str = "last"
    # Fit read on the weights themselves: the eval-mode accuracy, after every epoch, on the first
    # fit_samples samples of the training split as rendered at epoch 0 (history's "fit_acc");
    # the stopping rules read it instead of the running train-mode accuracy (0: not measured).
    fit_samples: int = 0
    # Training to convergence: up to extend_epochs more epochs past `epochs` while the fit
    # accuracy still gains (train/stopping.py; 0: stop at `epochs`).
    extend_epochs: int = 0
    # torch.compile the model for its training steps (an execution setting, never part of a
    # run spec: train.timing.compiled; ~1.0-1.16x on a CPU's small CNNs, for GPUs)
    compile: bool = False

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_batch_size", "stop_patience"):
            check_int(name, getattr(self, name), 1)
        if self.stop_train_acc is not None:
            check_number("stop_train_acc", self.stop_train_acc, 0.0, 1.0, low_open=True)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_choice("keep", self.keep, KEEPS)
        check_number("lr", self.lr, 0.0, low_open=True)
        check_number("weight_decay", self.weight_decay, 0.0)
        check_number("min_lr", self.min_lr, 0.0)
        check_int("warmup_epochs", self.warmup_epochs, 0)
        check_int("fit_samples", self.fit_samples, 0)
        check_int("extend_epochs", self.extend_epochs, 0)

    def to_dict(self) -> dict:
        return asdict(self)


def recipe_for(model_name: str, **overrides) -> TrainConfig:
    """The paper's pretraining recipe for ``model_name``: :func:`vit_config` for ViTs, the
    plain Adam recipe otherwise; ``overrides`` win."""
    if model_info(model_name).family == "vit":
        return vit_config(**overrides)
    return TrainConfig(**overrides)


def vit_config(**overrides) -> TrainConfig:
    """The paper's ViT recipe: Adam 1e-3, weight decay 5e-5, 5 warm-up epochs, cosine to 1e-5."""
    base = dict(weight_decay=5e-5, schedule="warmup_cosine", warmup_epochs=5, min_lr=1e-5)
    return TrainConfig(**{**base, **overrides})


PROBE_SOLVERS = ("lbfgs", "adam")


@dataclass(frozen=True)
class ProbeConfig:
    """Linear-probe settings (docs/protocol.md §4: a fresh linear head on the frozen backbone in
    eval mode, fitted on cached features of ``views`` augmented views of the training set).

    ``solver="lbfgs"`` (the default) fits the L2-regularised softmax regression to optimality
    (:func:`~transforms2d.train.logistic.fit_logistic`: standardised features, penalty ``l2``,
    stopped when the largest gradient entry is <= ``tol``, at most ``max_iter`` iterations).
    ``solver="adam"`` is the paper's procedure on cached features: Adam ``lr`` for ``epochs``
    epochs of minibatches of ``batch_size``, no penalty (``epochs``, ``batch_size`` and ``lr``
    apply to it only).
    """

    solver: str = "lbfgs"
    l2: float = 1e-4  # lbfgs: penalty (l2 / 2) ||W||^2 on standardised features, bias free
    tol: float = 1e-6  # lbfgs: converged once max |gradient| <= tol (float64 objective)
    max_iter: int = 2000  # lbfgs: iterations before giving up (recorded as not converged)
    epochs: int = 200  # adam
    batch_size: int = 512  # adam
    lr: float = 1e-3  # adam
    # Augmented views of the training set whose features are cached (epoch e of the adam
    # solver trains on view e % views; lbfgs fits all views at once).
    views: int = 2
    seed: int = 0
    device: str = "cpu"
    eval_batch_size: int = 1024
    progress: bool = True

    def __post_init__(self) -> None:
        check_choice("solver", self.solver, PROBE_SOLVERS)
        for name in ("epochs", "batch_size", "views", "eval_batch_size", "max_iter"):
            check_int(name, getattr(self, name), 1)
        check_number("l2", self.l2, 0.0)
        check_number("tol", self.tol, 0.0, low_open=True)

    def to_dict(self) -> dict:
        return asdict(self)


def resolve_device(device: str | torch.device) -> torch.device:
    """Validate a device string; asking for CUDA without a GPU is a one-line error."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):  # meta, mps...: not computed on here
        raise ConfigError(f"Unknown device '{device}'; use cpu, cuda or cuda:N.")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"Device '{device}' asked for, but no CUDA GPU is available here; "
                          f"use --device cpu.")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ConfigError(f"Device '{device}' does not exist: {torch.cuda.device_count()} GPU(s).")
    return dev
