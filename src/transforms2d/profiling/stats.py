"""95% percentile-bootstrap intervals over pairs, exact for every resample.

A resample draws ``N`` of the ``N`` image pairs with replacement (multinomial counts ``w``),
each pair with its random partner, and recomputes the metric on it:

- ratios (l2, cos, dot): ``sum_i w_i s_i / sum_i w_i r_i`` from the per-pair scores of the
  transformed pair ``s`` and of the random pair ``r``;
- linear CKA: from the Gram matrices ``K = Z1 Z1ᵀ``, ``L = Z2 Z2ᵀ`` computed once, the
  weighted centred HSIC is ``wᵀ(K∘L)w − 2N Σ_i w_i a_i b_i + N² c d`` with ``a = Kw/N``,
  ``b = Lw/N``, ``c = wᵀKw/N²``, ``d = wᵀLw/N²`` — so a resample costs a few
  ``(B, N) @ (N, N)`` products instead of re-centring ``N × D`` features.
"""

from __future__ import annotations

import torch

ALPHA = 0.05


def bootstrap_weights(n: int, resamples: int, seed: int) -> torch.Tensor:
    """``(resamples, n)`` float64 multinomial counts (each row sums to ``n``)."""
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(n, (resamples, n), generator=gen)
    w = torch.zeros(resamples, n, dtype=torch.float64)
    return w.scatter_add_(1, idx, torch.ones_like(idx, dtype=torch.float64))


def interval(values: torch.Tensor) -> tuple[float, float]:
    """The 2.5% and 97.5% percentiles of bootstrap values (NaNs dropped)."""
    v = values[~torch.isnan(values)]
    if v.numel() == 0:
        return float("nan"), float("nan")
    q = torch.quantile(v, torch.tensor([ALPHA / 2, 1 - ALPHA / 2], dtype=v.dtype))
    return float(q[0]), float(q[1])


def ratio_interval(pairs: torch.Tensor, rand: torch.Tensor, w: torch.Tensor) -> tuple[float, float]:
    """Interval of ``mean(pairs) / mean(rand)``; ``pairs, rand (N,)``, ``w (B, N)``."""
    return interval((w @ pairs.double()) / (w @ rand.double()))


def _weighted_hsic(w: torch.Tensor, k: torch.Tensor, ell: torch.Tensor, kl: torch.Tensor,
                   wk: torch.Tensor, wl: torch.Tensor) -> torch.Tensor:
    n = w.shape[1]
    a, b = wk / n, wl / n  # (B, N): K w / N, L w / N (Grams are symmetric)
    c = (a * w).sum(1) / n
    d = (b * w).sum(1) / n
    return ((w @ kl) * w).sum(1) - 2 * n * (w * a * b).sum(1) + n * n * c * d


def weighted_cka(z1: torch.Tensor, z2: torch.Tensor, w: torch.Tensor,
                 chunk: int = 250) -> torch.Tensor:
    """Linear CKA of ``z1, z2 (N, D)`` under each row of weights ``w (B, N)`` → ``(B,)``.
    ``w`` all ones gives :func:`~transforms2d.metrics.linear_cka`."""
    z1, z2 = z1.double(), z2.double()
    k, ell = z1 @ z1.T, z2 @ z2.T
    kk, ll, kl = k * k, ell * ell, k * ell
    out = []
    for s in range(0, len(w), chunk):
        wc = w[s:s + chunk]
        wk, wl = wc @ k, wc @ ell
        xy = _weighted_hsic(wc, k, ell, kl, wk, wl)
        xx = _weighted_hsic(wc, k, k, kk, wk, wk)
        yy = _weighted_hsic(wc, ell, ell, ll, wl, wl)
        out.append(xy / (xx * yy).sqrt())
    return torch.cat(out)


def cka_interval(z1: torch.Tensor, z2: torch.Tensor, w: torch.Tensor) -> tuple[float, float]:
    """Percentile interval of linear CKA over the resamples ``w``."""
    return interval(weighted_cka(z1, z2, w))
