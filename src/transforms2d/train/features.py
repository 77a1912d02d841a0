"""Penultimate features of a frozen model, and a cache that computes each set of them once.

The probes of one run often read the same data: every probe of a target shares its test set,
and two targets can be the very same dataset (E2's C/C task serves both object placements). A
:class:`FeatureCache` holds the features of one frozen model keyed by the dataset's full
definition and the rendering epoch, so such data are rendered and embedded once. Only exact
matches are reused: the features of a sample are computed in the same batches as without the
cache, so results are bit-identical whether or not (and in whatever order) the cache was warm.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from ..data.batched import BatchedDataset


@torch.inference_mode()
def extract_features(model: nn.Module, ds: BatchedDataset, epoch: int = 0,
                     batch_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Penultimate features ``(N, D)`` and labels ``(N,)`` of ``ds`` (index order, rendering
    epoch ``epoch``) through ``model.features`` in eval mode, on the model's device."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    feats, labels = [], []
    for i in range(0, len(ds), batch_size):
        x, y = ds.render(torch.arange(i, min(i + batch_size, len(ds))), epoch=epoch)
        x = x.to(device).contiguous(memory_format=torch.channels_last)
        feats.append(model.features(x).float())
        labels.append(y.to(device))
    model.train(was_training)
    return torch.cat(feats), torch.cat(labels)


class FeatureCache:
    """Features of one frozen ``model``, computed once per (dataset definition, epoch).

    Args:
        model: the frozen backbone (not modified).
        batch_size: samples rendered and embedded at once.

    ``features(ds, epoch)`` returns ``(N, D)`` features and ``(N,)`` labels, as
    :func:`extract_features`. The epoch only matters on the train split (fixed splits render
    epoch 0 whatever is asked). ``hits`` counts the calls answered from the cache, ``seconds``
    the time spent computing the others.
    """

    def __init__(self, model: nn.Module, batch_size: int = 1024) -> None:
        self.model, self.batch_size = model, batch_size
        self._store: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}
        self.hits = 0
        self.seconds = 0.0  # spent rendering and embedding (for the run's log)

    def features(self, ds: BatchedDataset, epoch: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        key = (ds.cache_key(), epoch if ds.spec.split == "train" else 0, str(ds.device))
        if key in self._store:
            self.hits += 1
        else:
            t0 = time.perf_counter()
            self._store[key] = extract_features(self.model, ds, epoch, self.batch_size)
            self.seconds += time.perf_counter() - t0
        return self._store[key]
