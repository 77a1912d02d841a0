"""What every dataset of the package shares: samples rendered in batches from their indices,
a counter-based shuffle per epoch, and the per-item ``Dataset`` protocol on top.

A subclass sets ``spec`` (with ``n``, ``seed``, ``split``), ``epoch`` and ``device`` and
implements :meth:`BatchedDataset._render_batch`; training, probes and invariance use only what
is defined here (plus ``num_classes``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Dataset

from ..rng import Draws, derive_key
from ..validation import check_int


class BatchedDataset(Dataset):
    """Base of :class:`~.dataset.Transforms2D` and :class:`~.cifar_transformed.TransformedCIFAR`."""

    spec: object
    epoch: int
    device: torch.device

    def _render_batch(self, index: torch.Tensor, epoch: int):
        """Samples ``index (B,)`` (valid) → ``(B, 3, S, S)`` float32, ``(B,)`` int64."""
        raise NotImplementedError(f"{type(self).__name__} must define _render_batch()")  # abstract

    def __len__(self) -> int:
        return self.spec.n

    def cache_key(self) -> tuple:
        """Hashable: equal for two datasets that render the same samples (same definition and
        split; any epoch). Caches of rendered or embedded data use it."""
        return (type(self).__name__, repr(self.spec))

    def render(self, index: torch.Tensor | Sequence[int], epoch: int | None = None):
        """Render samples ``index (B,)`` → ``(B, 3, S, S)`` float32, ``(B,)`` int64 on
        ``self.device``. ``epoch`` (default ``self.epoch``) matters for the train split only."""
        index = torch.as_tensor(index, dtype=torch.int64)
        if index.numel() and (int(index.min()) < 0 or int(index.max()) >= self.spec.n):
            raise IndexError(f"sample index out of range [0, {self.spec.n})")
        return self._render_batch(index, self.epoch if epoch is None else epoch)

    def __getitem__(self, i: int):
        if not -self.spec.n <= int(i) < self.spec.n:
            raise IndexError(f"index {i} out of range for {self.spec.n} samples")
        x, y = self.render([int(i) % self.spec.n])
        return x[0], int(y[0])

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch ``ds[i]`` renders (fresh transform parameters per train epoch)."""
        self.epoch = int(epoch)

    def loader(self, batch_size: int = 512, shuffle: bool = True, epoch: int | None = None,
               drop_last: bool = False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield rendered batches ``(B, 3, S, S)``, ``(B,)`` on ``self.device``, in the order
        :meth:`order` of the epoch when ``shuffle``, else index order."""
        check_int("batch_size", batch_size, 1)
        ep = self.epoch if epoch is None else epoch
        order = (self.order(ep) if shuffle else torch.arange(self.spec.n)).to(self.device)
        stop = len(order) - (len(order) % batch_size if drop_last else 0)
        for start in range(0, stop, batch_size):
            yield self._render_batch(order[start:start + batch_size], ep)

    def order(self, epoch: int) -> torch.Tensor:
        """``(n,)`` the shuffled sample order of ``epoch``: a counter-based permutation of
        (seed, split, epoch), the same on every machine."""
        index = torch.arange(self.spec.n)
        d = Draws(derive_key(self.spec.seed, "order", self.spec.split, epoch), index)
        return torch.argsort(d.bits(1)[:, 0])
