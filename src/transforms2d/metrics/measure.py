"""Model-level metrics: render a dataset and its twin, embed them, call the pure functions.

The twin of a dataset is ``dataset.with_transform_seed(s)`` (same object, background and label
at every index, independent transformation parameters; docs/protocol.md §5).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence

import torch
from torch import nn

from ..errors import ConfigError, unknown_name
from ..rng import check_seed, derive_key
from ..validation import check_int
from .functional import METRICS, PAIR_SCORES, RatioAccumulator, derangement, linear_cka


def _check_metrics(metrics: Sequence[str] | str) -> tuple[str, ...]:
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    if not names:
        raise ConfigError(f"metrics is empty; pass some of: {', '.join(METRICS)}.")
    for m in names:
        if m not in METRICS:
            raise unknown_name("metric", m, METRICS)
    return tuple(dict.fromkeys(names))  # drop duplicates, keep the order


def _device(model: nn.Module, default: torch.device) -> torch.device:
    for t in (*model.parameters(), *model.buffers()):
        return t.device
    return default


def _features(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``model.features(x)`` if the model has it, else ``model(x)``, flattened to ``(B, D)``.
    Images go in channels-last, as in training and probing (2-3x faster convolutions and
    pooling on CPU)."""
    if x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    f = getattr(model, "features", None)
    z = f(x) if callable(f) else model(x)
    return z.flatten(1)


@contextlib.contextmanager
def _evaluating(models: Sequence[nn.Module]) -> Iterator[None]:
    """Eval mode and no_grad inside; every model's previous training mode restored after."""
    modes = [m.training for m in models]
    try:
        for m in models:
            m.eval()
        with torch.no_grad():
            yield
    finally:
        for m, mode in zip(models, modes):
            m.train(mode)


def _batches(n: int, batch_size: int, device: torch.device) -> Iterator[torch.Tensor]:
    for start in range(0, n, batch_size):
        yield torch.arange(start, min(start + batch_size, n), device=device)


def embed(model: nn.Module, dataset, batch_size: int = 512,
          epoch: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Embed a whole dataset in index order (eval mode, no grad).

    Args:
        model: uses ``model.features(x)`` if present, else ``model(x)``.
        dataset: a :class:`~transforms2d.Transforms2D` (anything with ``render`` and ``len``).
        batch_size: samples rendered and embedded at once.
        epoch: the epoch whose transform parameters are rendered (matters for split="train").

    Returns:
        ``features (N, D)`` float on the model's device and ``labels (N,)`` int64 on the same.
    """
    check_int("batch_size", batch_size, 1)
    dev = _device(model, dataset.device)
    feats, labels = [], []
    with _evaluating([model]):
        for idx in _batches(len(dataset), batch_size, dataset.device):
            x, y = dataset.render(idx, epoch)
            feats.append(_features(model, x.to(dev)))
            labels.append(y.to(dev))
    return torch.cat(feats), torch.cat(labels)


def _check_invariance_args(models: Mapping[str, nn.Module], dataset, twin,
                           metrics: Sequence[str], seed: int,
                           batch_size: int) -> tuple[tuple[str, ...], int]:
    """The checked metric names and seed of :func:`invariance_many`; raises
    :class:`ConfigError` for a bad argument, no model, or a twin of another length."""
    names = _check_metrics(metrics)
    seed = check_seed(seed)
    check_int("batch_size", batch_size, 1)
    if not models:
        raise ConfigError("models is empty; pass a mapping name -> nn.Module.")
    if len(dataset) != len(twin):
        raise ConfigError(
            f"dataset has {len(dataset)} samples but twin has {len(twin)}; make the twin with "
            f"dataset.with_transform_seed(s)."
        )
    return names, seed


def _render_pair(dataset, twin, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The images ``(B, 3, S, S)`` of ``idx`` in ``dataset`` and in ``twin``, checked to carry
    the same labels."""
    x1, y1 = dataset.render(idx)
    x2, y2 = twin.render(idx.to(twin.device))
    if not torch.equal(y1, y2.to(y1.device)):
        raise ConfigError("dataset and twin disagree on labels; make the twin with "
                          "dataset.with_transform_seed(s).")
    return x1, x2


def invariance_many(
    models: Mapping[str, nn.Module],
    dataset,
    twin,
    metrics: Sequence[str] = ("l2", "cos", "dot", "cka"),
    seed: int = 0,
    batch_size: int = 512,
) -> dict[str, dict[str, float]]:
    """Invariance of several models on one pair of datasets, rendering each batch once.

    Args:
        models: name -> model; each uses ``features(x)`` if present, else ``model(x)``, is run
            in eval mode under ``no_grad`` and gets its training mode back afterwards.
        dataset: a :class:`~transforms2d.Transforms2D` (its ``render(idx)`` gives ``(B,3,S,S)``,
            ``(B,)``); its test split in the paper.
        twin: ``dataset.with_transform_seed(s)`` for some other ``s``: same objects, backgrounds
            and labels at every index, independent transformation parameters.
        metrics: names from :data:`METRICS`: ``"l2"`` (lower = more invariant; 0 invariant,
            ≈ 1 as far as a random other image), ``"cos"`` and ``"dot"`` (higher = more invariant;
            1 = as similar as a random pair), ``"cka"`` (linear CKA between the two embedding
            sets; 1 = equal up to rotation and scale).
        seed: seeds the random partners: batch ``b`` uses a derangement drawn from
            ``(seed, b)``, the same for every model.
        batch_size: samples per batch; random partners are drawn inside each batch.

    Returns:
        ``{model_name: {metric: value}}``.
    """
    names, seed = _check_invariance_args(models, dataset, twin, metrics, seed, batch_size)
    ratios = tuple(m for m in names if m in PAIR_SCORES)
    acc = {k: RatioAccumulator(ratios) for k in models}
    keep: dict[str, tuple[list, list]] = {k: ([], []) for k in models} if "cka" in names else {}
    devices = {k: _device(m, dataset.device) for k, m in models.items()}
    with _evaluating(list(models.values())):
        for b, idx in enumerate(_batches(len(dataset), batch_size, dataset.device)):
            x1, x2 = _render_pair(dataset, twin, idx)
            gen = torch.Generator().manual_seed(derive_key(seed, "invariance", b))
            perm = derangement(len(idx), gen)
            for k, model in models.items():
                dev = devices[k]
                z1, z2 = _features(model, x1.to(dev)), _features(model, x2.to(dev))
                acc[k].update(z1, z2, perm)
                if keep:
                    keep[k][0].append(z1)
                    keep[k][1].append(z2)
    out = {k: a.compute() for k, a in acc.items()}
    for k, (z1s, z2s) in keep.items():
        out[k]["cka"] = linear_cka(torch.cat(z1s), torch.cat(z2s))
    return {k: {m: out[k][m] for m in names} for k in models}


def invariance(
    model: nn.Module,
    dataset,
    twin,
    metrics: Sequence[str] = ("l2", "cos", "dot", "cka"),
    seed: int = 0,
    batch_size: int = 512,
) -> dict[str, float]:
    """Invariance of one model (docs/protocol.md §5); see :func:`invariance_many` for the arguments.

    ``inv_l2 = mean_i ||φ(x1_i) − φ(x2_i)|| / mean_i ||φ(x1_i) − φ(x1_π(i))||`` with ``x1`` from
    ``dataset``, ``x2`` from ``twin = dataset.with_transform_seed(s)`` and π a seeded random
    derangement inside each batch.

    Returns:
        ``{metric: value}`` for the requested metrics.
    """
    return invariance_many({"model": model}, dataset, twin, metrics, seed, batch_size)["model"]
