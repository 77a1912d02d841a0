"""Supervised training (pretraining and full fine-tuning) and evaluation.

In the airbench style: batches are rendered on the device from index slices (fresh transform
parameters every epoch, docs/protocol.md §1.2), evaluation sets are rendered once and kept, and the
loop body is short. Accuracy is macro-averaged and reported per split, never pooled across splits.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..data.batched import BatchedDataset
from ..errors import ConfigError
from ..metrics import macro_accuracy
from .checkpoint import save_checkpoint
from .config import BEST_VAL_KEEPS, TrainConfig, resolve_device
from .progress import progress_bar
from .stopping import stop_reason
from .timing import StageTimer, compiled


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class EvalSet:
    """A fixed evaluation split rendered once: ``images (N, 3, S, S)``, ``labels (N,)``."""

    images: torch.Tensor
    labels: torch.Tensor
    num_classes: int

    @classmethod
    def render(cls, ds: BatchedDataset, batch_size: int = 4096, limit: int | None = None
               ) -> EvalSet:
        """``ds`` rendered at epoch 0 in batches (its first ``limit`` samples, if given)."""
        n = len(ds) if limit is None else min(limit, len(ds))
        parts = [ds.render(torch.arange(i, min(i + batch_size, n)), epoch=0)
                 for i in range(0, n, batch_size)]
        return cls(torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]),
                   ds.num_classes)


@dataclass
class TrainResult:
    """Per-epoch history and final accuracies (macro, per split)."""

    history: list[dict] = field(default_factory=list)
    final: dict = field(default_factory=dict)
    best_epoch: int | None = None
    stopped_early: bool = False  # the fit accuracy plateaued at cfg.stop_train_acc
    stop: str | None = None  # why training ended: one of train.stopping.STOP_REASONS
    # seconds of optimiser steps ("train", rendering included) and of evaluation ("evaluate"),
    # timed apart on the device (CUDA events on a GPU); never part of a run's result
    timing: dict = field(default_factory=dict)
    samples: int = 0  # training samples seen

    def samples_per_s(self) -> float | None:
        s = self.timing.get("train")
        return self.samples / s if s else None


def lr_lambda(cfg: TrainConfig, total_steps: int, steps_per_epoch: int) -> Callable[[int], float]:
    """Multiplier of the base learning rate at optimiser step ``t`` for ``cfg.schedule``."""
    if cfg.schedule == "constant":
        return lambda t: 1.0
    if cfg.schedule == "linear_decay":  # to 0 over the whole run (the original hit 0 at 5 epochs)
        return lambda t: max(0.0, 1.0 - t / max(1, total_steps))
    warm = cfg.warmup_epochs * steps_per_epoch
    floor = cfg.min_lr / cfg.lr

    def warmup_cosine(t: int) -> float:
        if t < warm:
            return (t + 1) / warm
        frac = (t - warm) / max(1, total_steps - warm)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))

    return warmup_cosine


def autocast(device: torch.device, bf16: bool | None = None):
    """bf16 autocast on CUDA unless ``bf16`` is False; nothing on CPU (see TrainConfig.bf16)."""
    if device.type == "cuda" and bf16 is not False:
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


def _prepare(x: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    x = x.to(device, non_blocking=True)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 1024,
            channels_last: bool = True, bf16: bool | None = None) -> torch.Tensor:
    """Class predictions ``(N,)`` of ``model`` in eval mode (training mode restored after)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    preds = []
    with autocast(device, bf16):
        for i in range(0, len(images), batch_size):
            preds.append(model(_prepare(images[i:i + batch_size], device, channels_last))
                         .argmax(1).cpu())
    model.train(was_training)
    return torch.cat(preds) if preds else torch.empty(0, dtype=torch.long)


def evaluate(model: nn.Module, data: EvalSet, cfg: TrainConfig) -> float:
    """Macro accuracy of ``model`` on a fixed evaluation set."""
    pred = predict(model, data.images, cfg.eval_batch_size, cfg.channels_last, cfg.bf16)
    return macro_accuracy(pred, data.labels.cpu(), data.num_classes)


def train(model: nn.Module, train_ds: BatchedDataset, cfg: TrainConfig,
          val: EvalSet | None = None, test: EvalSet | None = None,
          out_dir: str | os.PathLike | None = None, model_name: str = "model",
          model_kwargs: dict | None = None, desc: str = "train",
          on_epoch: Callable[[int, dict], None] | None = None) -> TrainResult:
    """Train all weights of ``model`` on ``train_ds`` with cross-entropy and Adam.

    Runs ``cfg.epochs`` epochs, or fewer when ``cfg.stop_train_acc`` is set and the fit
    accuracy has reached it for ``cfg.stop_patience`` consecutive epochs (a plateau at the
    ceiling; ``TrainResult.stopped_early`` says so), or more (up to ``cfg.extend_epochs``) while
    a model past its cap still gains (:mod:`~transforms2d.train.stopping`; the learning rate
    stays at the schedule's value at the cap). With ``cfg.fit_samples`` each epoch's row also
    holds ``fit_acc``, the eval-mode accuracy on a fixed training subset. Writes ``last.pt``
    every epoch and ``best.pt`` at the best validation accuracy when ``out_dir`` is given (with
    ``model_kwargs``, by default those :func:`~transforms2d.models.create_model` recorded on
    the model, so that loading rebuilds it at its size); calls
    ``on_epoch(epochs_done, history_row)`` after each epoch. Raises :class:`TrainingDiverged`
    on a non-finite loss.
    """
    device = resolve_device(cfg.device)
    model.to(device)
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    data = train_ds.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = math.ceil(len(data) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(cfg, cfg.epochs * steps, steps))
    if cfg.keep in BEST_VAL_KEEPS and val is None:
        raise ConfigError(f"keep={cfg.keep!r} needs a validation set (give `val`).")
    evals = {"fit_acc": fit_set(data, cfg.fit_samples), "val_acc": val, "test_acc": test}
    result, best, kept = TrainResult(), -1.0, None
    timer = StageTimer(device)
    stepper = compiled(model) if cfg.compile else model  # shares the weights of ``model``
    ckpt = _checkpointer(model, train_ds, out_dir, model_name, model_kwargs)
    with progress_bar(cfg.progress, desc, cfg.epochs * steps) as bar:
        while result.stop is None:
            epoch = len(result.history)
            with timer.section("train"):
                row = _epoch(stepper, data, cfg, opt, sched, epoch, bar,
                             out_dir if ckpt else None)
            with timer.section("evaluate"):
                row.update({k: evaluate(model, ev, cfg) for k, ev in evals.items() if ev})
            result.history.append(row)
            bar.describe(f"{desc} epoch {epoch + 1}/{cfg.epochs} loss {row['loss']:.3f}")
            if on_epoch is not None:
                on_epoch(epoch + 1, row)
            if ckpt:
                ckpt("last.pt", epoch=epoch, metrics=row)
            if val is not None and _is_best(row["val_acc"], best, cfg.keep):
                best, result.best_epoch = row["val_acc"], epoch
                kept = _at_best(model, cfg, ckpt, epoch, row)
            result.stop = stop_reason(result.history, cfg)
    result.stopped_early = result.stop == "ceiling" and len(result.history) < cfg.epochs
    _finish(result, model, cfg, kept)
    result.timing, result.samples = timer.totals(), len(result.history) * len(data)
    return result


def fit_set(data: BatchedDataset, k: int) -> EvalSet | None:
    """The first ``k`` training samples as rendered at epoch 0 (None for ``k == 0``): the
    fixed subset on which the fit of the weights is read in eval mode."""
    return EvalSet.render(data, limit=k) if k else None


def _is_best(acc: float, best: float, keep: str) -> bool:
    """A new best validation accuracy; ties go to the later epoch with ``keep="best_val_last"``
    (docs/protocol.md §10.3), to the earlier one otherwise."""
    return acc > best or (keep == "best_val_last" and acc == best)


def _checkpointer(model: nn.Module, train_ds: BatchedDataset,
                  out_dir: str | os.PathLike | None, model_name: str,
                  model_kwargs: dict | None) -> Callable[..., None] | None:
    """``ckpt(file_name, epoch=, metrics=)`` writing ``model`` under ``out_dir`` (None without
    one), with the image size it is trained at and ``model_kwargs`` (default: those
    :func:`~transforms2d.models.create_model` recorded on the model)."""
    size = getattr(train_ds.spec, "image_size", None)  # what the model was trained at
    if not out_dir:
        return None
    if model_kwargs is None:
        model_kwargs = getattr(model, "model_kwargs", None)
    return lambda name, **m: save_checkpoint(Path(out_dir) / name, model, model_name,
                                             model_kwargs, image_size=size, **m)


def _at_best(model: nn.Module, cfg: TrainConfig, ckpt: Callable[..., None] | None, epoch: int,
             row: dict) -> dict[str, torch.Tensor] | None:
    """At a new best validation accuracy: write ``best.pt``; returns a copy of the weights to
    keep with a best-validation ``cfg.keep``, else None."""
    if ckpt:
        ckpt("best.pt", epoch=epoch, metrics=row)
    if cfg.keep in BEST_VAL_KEEPS:
        return {k: v.detach().clone() for k, v in model.state_dict().items()}
    return None


def _finish(result: TrainResult, model: nn.Module, cfg: TrainConfig,
            kept: dict[str, torch.Tensor] | None) -> None:
    """Set ``result.final``: the last epoch's row, or with a best-validation ``cfg.keep`` the best
    epoch's, whose weights ``kept`` go back into ``model``."""
    result.final = dict(result.history[-1]) if result.history else {}
    if cfg.keep in BEST_VAL_KEEPS and result.best_epoch is not None:
        model.load_state_dict(kept)  # the transferred weights; `final` describes them
        result.final = {**result.history[result.best_epoch], "kept_epoch":
                        result.best_epoch + 1}


#: Steps between reads of the "loss stayed finite" flag: reading it syncs a GPU with the host,
#: so it is read on a cadence (and at the end of every epoch), not at every step. The weights
#: of a diverged epoch are never kept (checkpoints are written after an epoch ends).
FINITE_CHECK_EVERY = 32


def _check_finite(finite: torch.Tensor, epoch: int, out_dir) -> None:
    if not bool(finite):
        raise TrainingDiverged(
            f"Loss became NaN or infinite at epoch {epoch}; lower the learning rate."
            + (f" Last good checkpoint: {Path(out_dir) / 'last.pt'}." if out_dir and epoch
               else ""))


def _epoch(model: nn.Module, data: BatchedDataset, cfg: TrainConfig, opt, sched, epoch: int,
           bar, out_dir) -> dict:
    """One epoch over ``data`` (fresh transform parameters); returns its history row: mean
    loss, macro training accuracy (of the predictions made while training) and learning rate."""
    device = next(model.parameters()).device
    model.train()
    loss_sum, preds, labels = torch.zeros((), device=device), [], []
    finite = torch.ones((), dtype=torch.bool, device=device)
    for step, (xb, yb) in enumerate(data.loader(cfg.batch_size, shuffle=True, epoch=epoch)):
        with autocast(device, cfg.bf16):
            logits = model(_prepare(xb, device, cfg.channels_last))
            loss = F.cross_entropy(logits.float(), yb)
        finite &= torch.isfinite(loss)  # no host sync: read every FINITE_CHECK_EVERY steps
        if (step + 1) % FINITE_CHECK_EVERY == 0:
            _check_finite(finite, epoch, out_dir)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        loss_sum += loss.detach() * len(yb)
        preds.append(logits.detach().argmax(1))
        labels.append(yb)
        bar.advance()
    _check_finite(finite, epoch, out_dir)
    return {"epoch": epoch, "loss": float(loss_sum) / len(data),
            "train_acc": macro_accuracy(torch.cat(preds).cpu(), torch.cat(labels).cpu(),
                                        data.num_classes),
            "lr": sched.get_last_lr()[0]}
