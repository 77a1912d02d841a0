"""Mean and 95% interval over seeds, for tables, figures and claim checks.

The interval is the **percentile bootstrap of the mean over seeds**: the seeds' values are
resampled with replacement (10,000 times, from a fixed generator, so reports are
deterministic), and the interval is the 2.5th to 97.5th percentile of the resampled means.
Every resampled mean lies between the smallest and the largest value, so the interval never
leaves the metric's range (an accuracy interval stays in [0, 1], a normalised l2 interval above
0). With few seeds it is somewhat narrower than a Student-t interval; the claims ask for at
least 5 seeds (:mod:`transforms2d.study.preconditions`).

Comparisons of two models on the same data are made on **per-seed differences** (paired), whose
interval comes from the same bootstrap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

RESAMPLES = 10_000
METHOD = "percentile bootstrap over seeds"


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


def mean_ci(values: Iterable[float], level: float = 0.95, resamples: int = RESAMPLES
            ) -> MeanCI:
    """Mean of ``values`` (one per seed) and its percentile-bootstrap interval.

    >>> ci = mean_ci([0.90, 0.92, 0.95, 0.91, 0.93])
    >>> round(ci.mean, 3), 0.90 <= ci.low < ci.mean < ci.high <= 0.95
    (0.922, True)
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
    rng = np.random.default_rng(20240601)  # fixed: the same values always give the same CI
    means = xs[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    # rounding must not put the interval outside the values' range, nor the mean outside it
    lo, hi = float(xs.min()), float(xs.max())
    return MeanCI(mean, min(max(float(low), lo), mean), max(min(float(high), hi), mean), n,
                  level)


def positive_effect(values: Iterable[float], min_n: int = 2,
                    level: float = 0.95) -> tuple[str, str | None, MeanCI]:
    """Check "the mean effect is > 0 and its ``level`` interval excludes 0" over per-seed
    values (paired differences).

    Returns ``(verdict, note, ci)``: ``pass`` / ``fail``, or ``not run`` with a note when there
    are fewer than ``min_n`` values (no interval). Whether enough seeds were run for a fair
    test is a precondition, checked by the caller.
    """
    ci = mean_ci(values, level)
    if ci.n < min_n:
        return "not run", f"needs >= {min_n} seeds, got {ci.n}", ci
    return ("pass" if ci.low > 0 else "fail"), None, ci
