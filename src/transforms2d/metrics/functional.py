"""Pure metric functions over embeddings (no models, no datasets, no global RNG).

Shapes: ``z1, z2: (N, D)`` are paired embeddings, row ``i`` of ``z2`` being sample ``i`` under
independently drawn transformation parameters (docs/protocol.md §5). ``perm: (N,)`` pairs sample
``i`` with the random other sample ``perm[i]``, drawn by :func:`derangement` inside each batch.

Ratios (docs/protocol.md §5), all ``mean_i s(z1_i, z2_i) / mean_i s(z1_i, z1_perm(i))``:

- ``"l2"``: ``s`` is the Euclidean distance. **Lower is more invariant**: 0 means perfectly
  invariant, about 1 means a transformation moves a representation as far as a random other image.
- ``"cos"``: ``s`` is the cosine similarity; ``"dot"``: ``s`` is the dot product. **Higher is
  more invariant**: 1 means a transformed pair is as similar as a random pair; an invariant
  representation reaches ``mean ||z||² / mean <z_i, z_j>`` (dot) or ``1 / mean cos`` (cos) of the
  random pairs, which is ≥ 1. They are only meaningful when random pairs have a positive mean
  similarity (e.g. post-ReLU features); near-zero or negative denominators make them unstable.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..errors import ConfigError

_EPS = 1e-12  # cosine similarity of a zero vector is taken as 0


def l2_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise Euclidean distance ``(N, D), (N, D) -> (N,)``."""
    return torch.linalg.vector_norm(a - b, dim=1)


def cosine_similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise cosine similarity ``(N, D), (N, D) -> (N,)`` in [-1, 1]."""
    na = torch.linalg.vector_norm(a, dim=1).clamp_min(_EPS)
    nb = torch.linalg.vector_norm(b, dim=1).clamp_min(_EPS)
    return (a * b).sum(1) / (na * nb)


def dot_product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise dot product ``(N, D), (N, D) -> (N,)``."""
    return (a * b).sum(1)


# The registry of pairwise scores behind the ratio metrics: name -> (N,D),(N,D) -> (N,).
PAIR_SCORES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "l2": l2_distance,
    "cos": cosine_similarity,
    "dot": dot_product,
}


def derangement(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A random permutation ``(n,)`` int64 without fixed points (``perm[i] != i`` for n ≥ 2).

    A uniform random order ``s`` composed with a cyclic shift: ``perm[s[k]] = s[k+1 mod n]``,
    a uniformly random single n-cycle. ``n == 1`` returns ``[0]`` (no derangement exists).
    """
    s = torch.randperm(n, generator=generator)
    perm = torch.empty_like(s)
    perm[s] = s.roll(-1)
    return perm


def _check_pair(z1: torch.Tensor, z2: torch.Tensor) -> None:
    if z1.ndim != 2 or z1.shape != z2.shape:
        raise ConfigError(
            f"Paired embeddings must both be (N, D) with the same shape; got "
            f"{tuple(z1.shape)} and {tuple(z2.shape)}."
        )


def pair_scores(z1: torch.Tensor, z2: torch.Tensor, perm: torch.Tensor,
                metric: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample scores of the transformed pairs and of the random pairs.

    Args:
        z1, z2: ``(N, D)`` paired embeddings.
        perm: ``(N,)`` int64 random partners (see :func:`derangement`).
        metric: ``"l2"``, ``"cos"`` or ``"dot"``.

    Returns:
        ``(pairs (N,), random (N,))``, computed in float64.
    """
    _check_pair(z1, z2)
    if metric not in PAIR_SCORES:
        raise ConfigError(f"Unknown ratio metric '{metric}'. Valid: {', '.join(PAIR_SCORES)}.")
    score = PAIR_SCORES[metric]
    z1, z2 = z1.double(), z2.double()
    return score(z1, z2), score(z1, z1[perm.to(z1.device)])


def ratio(num: float, den: float) -> float:
    """``num / den``, NaN when the denominator is 0 (e.g. a constant representation)."""
    return num / den if den != 0 else float("nan")


def invariance_ratio(z1: torch.Tensor, z2: torch.Tensor, perm: torch.Tensor,
                     metric: str = "l2") -> float:
    """The normalised invariance of docs/protocol.md §5 on one batch:
    ``mean s(z1, z2) / mean s(z1, z1[perm])``.

    Args:
        z1, z2: ``(N, D)`` paired embeddings (``N ≥ 2``).
        perm: ``(N,)`` random partners without fixed points (:func:`derangement`).
        metric: ``"l2"`` (lower = more invariant) or ``"cos"`` / ``"dot"`` (higher = more
            invariant); see the module docstring for what 0 and 1 mean.
    """
    pairs, rand = pair_scores(z1, z2, perm, metric)
    return ratio(float(pairs.mean()), float(rand.mean()))


def l2_ratio(z1: torch.Tensor, z2: torch.Tensor, perm: torch.Tensor) -> float:
    """``invariance_ratio(..., "l2")``: 0 invariant, ≈ 1 as far as a random other image."""
    return invariance_ratio(z1, z2, perm, "l2")


def cos_ratio(z1: torch.Tensor, z2: torch.Tensor, perm: torch.Tensor) -> float:
    """``invariance_ratio(..., "cos")``: higher is more invariant, 1 = like a random pair."""
    return invariance_ratio(z1, z2, perm, "cos")


def dot_ratio(z1: torch.Tensor, z2: torch.Tensor, perm: torch.Tensor) -> float:
    """``invariance_ratio(..., "dot")``: higher is more invariant, 1 = like a random pair."""
    return invariance_ratio(z1, z2, perm, "dot")


class RatioAccumulator:
    """Streams the sums behind the ratio metrics over batches (one accumulator per model).

    ``update(z1 (B, D), z2 (B, D), perm (B,))`` adds one batch; ``compute()`` returns
    ``{metric: ratio}``. Batches of one sample have no random partner: they count in the
    numerator's mean but not in the denominator's.
    """

    def __init__(self, metrics: tuple[str, ...] = ("l2", "cos", "dot")) -> None:
        self.metrics = tuple(metrics)
        self._sums = {m: [0.0, 0.0] for m in self.metrics}
        self._counts = [0, 0]  # samples in the numerator's / the denominator's mean

    def update(self, z1: torch.Tensor, z2: torch.Tensor, perm: torch.Tensor) -> None:
        n, paired = len(z1), len(z1) > 1
        for m in self.metrics:
            pairs, rand = pair_scores(z1, z2, perm, m)
            self._sums[m][0] += float(pairs.sum())
            self._sums[m][1] += float(rand.sum()) if paired else 0.0
        self._counts[0] += n
        self._counts[1] += n if paired else 0

    def compute(self) -> dict[str, float]:
        n_pair, n_rand = self._counts
        return {
            m: ratio(num / n_pair, den / n_rand) if n_pair and n_rand else float("nan")
            for m, (num, den) in self._sums.items()
        }


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """Linear CKA (the biased, HSIC-based estimator) between two representations of N samples.

    ``||Ycᵀ Xc||_F² / (||Xcᵀ Xc||_F ||Ycᵀ Yc||_F)`` on column-centred ``x: (N, D1)``,
    ``y: (N, D2)``, in float64. 1 for representations equal up to an orthogonal transform and
    isotropic scaling; near 0 for unrelated ones (the biased estimator is ≈ D/N for independent
    random features, not exactly 0). NaN if either representation is constant.
    """
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise ConfigError(
            f"linear_cka needs x (N, D1) and y (N, D2) with the same N; got "
            f"{tuple(x.shape)} and {tuple(y.shape)}."
        )
    dev = x.device if x.device.type != "mps" else torch.device("cpu")  # MPS has no float64
    x = x.to(dev, torch.float64)
    y = y.to(dev, torch.float64)
    x = x - x.mean(0, keepdim=True)
    y = y - y.mean(0, keepdim=True)
    if max(x.shape[1], y.shape[1]) <= len(x):
        # Feature-space form: D×D Gram matrices, cheaper when D ≤ N.
        hsic = (y.T @ x).square().sum()
        nx = torch.linalg.matrix_norm(x.T @ x)
        ny = torch.linalg.matrix_norm(y.T @ y)
    else:
        # Sample form: ||Ycᵀ Xc||_F² = <Kx, Ky>_F with N×N Grams, cheaper when D > N.
        kx, ky = x @ x.T, y @ y.T
        hsic = (kx * ky).sum()
        nx, ny = torch.linalg.matrix_norm(kx), torch.linalg.matrix_norm(ky)
    return ratio(float(hsic), float(nx * ny))


def macro_accuracy(logits_or_pred: torch.Tensor, target: torch.Tensor,
                   num_classes: int | None = None) -> float:
    """Accuracy averaged over the classes present in ``target`` (the paper's accuracy).

    Args:
        logits_or_pred: ``(N, C)`` scores (argmax is taken) or ``(N,)`` predicted labels.
        target: ``(N,)`` int labels in ``[0, num_classes)``.
        num_classes: number of classes (default: ``C`` of the logits, else ``max label + 1``).
    """
    pred = logits_or_pred.argmax(1) if logits_or_pred.ndim == 2 else logits_or_pred
    if pred.ndim != 1 or pred.shape != target.shape or len(target) == 0:
        raise ConfigError(
            f"macro_accuracy needs non-empty predictions (N,) or logits (N, C) and targets (N,); "
            f"got {tuple(logits_or_pred.shape)} and {tuple(target.shape)}."
        )
    target = target.long()
    pred = pred.long().to(target.device)
    if num_classes is None:
        num_classes = logits_or_pred.shape[1] if logits_or_pred.ndim == 2 else 0
        num_classes = max(num_classes, int(target.max()) + 1, int(pred.max()) + 1)
    total = torch.bincount(target, minlength=num_classes)
    correct = torch.bincount(target[pred == target], minlength=num_classes)
    present = total > 0
    return float((correct[present].double() / total[present]).mean())


# The registry of metric names (docs/protocol.md §5): name -> function over embeddings. The
# ratios take ``(z1, z2, perm)``; "cka" takes ``(x, y)``. :func:`~transforms2d.metrics.invariance`
# streams the ratios through :data:`PAIR_SCORES` and computes CKA on all features at the end.
METRICS: dict[str, Callable[..., float]] = {
    "l2": l2_ratio,
    "cos": cos_ratio,
    "dot": dot_ratio,
    "cka": linear_cka,
}
