"""Mean and 95% interval over seeds, for tables, figures and claim checks.

The interval is the **Student-t interval of the mean over seeds** (docs/protocol.md §10.6):
mean ± t(1 − (1 − level) / 2, n − 1) · s / √n over one value per seed. Every claim reduces its
criterion to one value per seed first (a paired difference, a slope, a margin), so one method
serves them all. Its coverage at 5 seeds is measured
(``tests/reporting/test_interval_coverage.py``): ≥ 0.93 at nominal 0.95 for normal and
moderately skewed values, where the percentile bootstrap of the mean (:func:`bootstrap_ci`,
§9's method) covers about 0.81–0.85 — with 5 values it cannot be wider than their range. The t
interval is not clipped to a metric's range.

Comparisons of two models on the same data are made on **per-seed differences** (paired).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from .verdicts import FAIL, INCONCLUSIVE, NOT_RUN, PASS, combine  # noqa: F401 (re-exported)

RESAMPLES = 10_000
BOOTSTRAP_SEED = 20240601  # fixed: the same values always give the same interval
METHOD = "Student-t interval of the mean of per-seed values"


class MeanCI(NamedTuple):
    """``mean`` of ``n`` values and its two-sided ``level`` interval ``[low, high]`` (NaN if
    n < 2)."""

    mean: float
    low: float
    high: float
    n: int
    level: float = 0.95

    @property
    def half(self) -> float:
        """Half the interval's width (for a symmetric error bar; NaN when undefined)."""
        return (self.high - self.low) / 2

    def errors(self) -> tuple[float, float]:
        """``(mean - low, high - mean)``: asymmetric error-bar lengths (0 when undefined)."""
        if self.n < 2:
            return 0.0, 0.0
        return self.mean - self.low, self.high - self.mean

    def excludes(self, value: float = 0.0) -> bool:
        """Whether the interval is defined and lies strictly on one side of ``value``."""
        return self.n >= 2 and (self.low > value or self.high < value)

    def __str__(self) -> str:
        if self.n == 0:
            return "-"
        if self.n < 2:
            return f"{self.mean:.4f} (n=1, no CI)"
        return f"{self.mean:.4f} [{self.low:.4f}, {self.high:.4f}]"


def mean_ci(values: Iterable[float], level: float = 0.95) -> MeanCI:
    """Mean of ``values`` (one per seed) and its Student-t interval.

    >>> ci = mean_ci([0.90, 0.92, 0.95, 0.91, 0.93])
    >>> round(ci.mean, 3), round(ci.low, 4), round(ci.high, 4)
    (0.922, 0.8981, 0.9459)
    >>> mean_ci([0.5]).n, math.isnan(mean_ci([0.5]).low)
    (1, True)
    """
    xs = np.asarray([float(v) for v in values], dtype=np.float64)
    n = len(xs)
    if n == 0:
        return MeanCI(math.nan, math.nan, math.nan, 0, level)
    mean = float(xs.mean())
    if n < 2:
        return MeanCI(mean, math.nan, math.nan, 1, level)
    half = t_quantile((1 + level) / 2, n - 1) * float(xs.std(ddof=1)) / math.sqrt(n)
    return MeanCI(mean, mean - half, mean + half, n, level)


def bootstrap_ci(values: Iterable[float], level: float = 0.95, resamples: int = RESAMPLES
                 ) -> MeanCI:
    """The percentile bootstrap of the mean (docs/protocol.md §9 R1's method, kept to measure
    its coverage beside :func:`mean_ci`'s): 2.5th to 97.5th percentile of ``resamples``
    resampled means, from the fixed :data:`BOOTSTRAP_SEED`."""
    xs = np.asarray([float(v) for v in values], dtype=np.float64)
    n = len(xs)
    if n < 2:
        return MeanCI(float(xs.mean()) if n else math.nan, math.nan, math.nan, n, level)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    means = xs[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return MeanCI(float(xs.mean()), float(low), float(high), n, level)


@functools.cache
def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile (0.5 < p < 1) of Student's t with ``df`` degrees of freedom: the
    density integrated by Simpson's rule, the upper end found by bisection (|error| < 1e-9).

    >>> round(t_quantile(0.975, 4), 6), round(t_quantile(0.975, 1), 4)
    (2.776445, 12.7062)
    """
    if not 0.5 < p < 1 or df < 1:
        raise ValueError(f"t_quantile needs 0.5 < p < 1 and df >= 1; got p={p}, df={df}")
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)

    def cdf(x: float, steps: int = 4000) -> float:  # P(T <= x) for x >= 0
        grid = np.linspace(0.0, x, steps + 1)
        dens = np.exp(log_c - (df + 1) / 2 * np.log1p(grid ** 2 / df))
        weights = np.ones(steps + 1)
        weights[1:-1:2], weights[2:-1:2] = 4, 2
        return 0.5 + float(dens @ weights) * x / (3 * steps)

    low, high = 0.0, 1.0
    while cdf(high) < p:
        high *= 2
    while high - low > 1e-10:
        mid = (low + high) / 2
        low, high = (mid, high) if cdf(mid) < p else (low, mid)
    return (low + high) / 2


def positive_effect(values: Iterable[float], min_n: int = 2,
                    level: float = 0.95) -> tuple[str, str | None, MeanCI]:
    """Check "the mean effect is > 0 and its ``level`` interval excludes 0" over per-seed
    values (paired differences).

    Returns ``(verdict, note, ci)``: ``pass`` / ``fail`` / ``inconclusive`` (:func:`side`), or
    ``not run`` with a note when there are fewer than ``min_n`` values (no interval).
    Whether enough seeds were run for a fair test is a precondition, checked by the caller.
    """
    ci = mean_ci(values, level)
    if ci.n < min_n:
        return NOT_RUN, f"needs >= {min_n} seeds, got {ci.n}", ci
    return side(ci), None, ci


def side(ci: MeanCI, threshold: float = 0.0, above: bool = True) -> str:
    """The verdict word of an interval against ``threshold``: ``pass`` when it lies wholly on
    the expected side (above it, or with ``above=False`` at or below it), ``fail`` when it
    lies wholly on the other, ``inconclusive`` when it straddles it; ``not run`` without an
    interval (fewer than 2 values)."""
    if ci.n < 2:
        return NOT_RUN
    if above:
        return PASS if ci.low > threshold else FAIL if ci.high < threshold else INCONCLUSIVE
    return PASS if ci.high <= threshold else FAIL if ci.low > threshold else INCONCLUSIVE
