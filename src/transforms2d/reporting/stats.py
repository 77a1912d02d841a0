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
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np

RESAMPLES = 10_000
BOOTSTRAP_SEED = 20240601  # fixed: the same values always give the same interval
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
    rng = np.random.default_rng(BOOTSTRAP_SEED)
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

    Returns ``(verdict, note, ci)``: ``pass`` / ``fail`` / ``inconclusive`` (:func:`side`), or
    ``not run`` with a note when there are fewer than ``min_n`` values (no interval).
    Whether enough seeds were run for a fair test is a precondition, checked by the caller.
    """
    ci = mean_ci(values, level)
    if ci.n < min_n:
        return "not run", f"needs >= {min_n} seeds, got {ci.n}", ci
    return side(ci), None, ci


def side(ci: MeanCI, threshold: float = 0.0, above: bool = True) -> str:
    """The verdict word of an interval against ``threshold``: ``pass`` when it lies wholly on
    the expected side (above it, or with ``above=False`` at or below it), ``fail`` when it
    lies wholly on the other, ``inconclusive`` when it straddles it; ``not run`` without an
    interval (fewer than 2 values)."""
    if ci.n < 2:
        return "not run"
    if above:
        return "pass" if ci.low > threshold else "fail" if ci.high < threshold \
            else "inconclusive"
    return "pass" if ci.high <= threshold else "fail" if ci.low > threshold \
        else "inconclusive"


def combine(verdicts: Iterable[str]) -> str:
    """One verdict of several parts: ``not run`` if any part is, else ``fail`` if any part
    fails, else ``inconclusive`` if any part is, else ``pass``."""
    vs = list(verdicts)
    for word in ("not run", "fail", "inconclusive"):
        if word in vs:
            return word
    return "pass"


def bootstrap_statistic(by_seed: Mapping[int, Any], statistic: Callable[[list[Any]], float],
                        level: float = 0.95, resamples: int = RESAMPLES) -> MeanCI:
    """``statistic`` of the seeds' values (each seed's value may be a whole row of cells) and
    its percentile-bootstrap interval: the seeds are resampled with replacement (the fixed
    :data:`BOOTSTRAP_SEED` of :func:`mean_ci`) and ``statistic`` recomputed on each resample.
    ``mean`` holds the statistic on all seeds; NaN interval with fewer than 2 seeds.

    >>> ci = bootstrap_statistic({0: 1.0, 1: 2.0, 2: 3.0}, lambda xs: max(xs) - min(xs))
    >>> ci.mean, 0.0 <= ci.low <= ci.high <= 2.0
    (2.0, True)
    """
    seeds = sorted(by_seed)
    rows = [by_seed[s] for s in seeds]
    n = len(rows)
    if n == 0:
        return MeanCI(math.nan, math.nan, math.nan, 0, level)
    full = float(statistic(rows))
    if n < 2:
        return MeanCI(full, math.nan, math.nan, 1, level)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    stats = [float(statistic([rows[i] for i in idx]))
             for idx in rng.integers(0, n, size=(resamples, n))]
    low, high = np.nanquantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return MeanCI(full, float(low), float(high), n, level)
