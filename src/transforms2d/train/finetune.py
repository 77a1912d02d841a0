"""Full fine-tuning from a probed model (docs/protocol.md §4, appendix).

Starts from the backbone with the linear-probe head and trains all weights with Adam and a
learning rate that decays linearly to 0 over the whole run. (The original code's decay reached
0 after 5 of 50 epochs by mistake, docs/protocol.md §8; `schedule="linear_decay"` is the intended
one.)
"""

from __future__ import annotations

import copy
from dataclasses import replace

from torch import nn

from ..data import Transforms2D
from .config import TrainConfig
from .loop import EvalSet, TrainResult, train


def finetune(model: nn.Module, head: nn.Linear, train_ds: Transforms2D, cfg: TrainConfig,
             val: EvalSet | None = None, test: EvalSet | None = None,
             **train_kwargs) -> tuple[nn.Module, TrainResult]:
    """Fine-tune a copy of ``model`` whose head is a copy of the probe's ``head``.

    Returns the fine-tuned copy and its :class:`TrainResult`; ``model`` is not modified.
    ``cfg.schedule`` is forced to ``linear_decay``.
    """
    tuned = copy.deepcopy(model)
    tuned.head = copy.deepcopy(head)
    tuned.num_classes = head.out_features
    cfg = replace(cfg, schedule="linear_decay")
    return tuned, train(tuned, train_ds, cfg, val, test, desc="fine-tune", **train_kwargs)
