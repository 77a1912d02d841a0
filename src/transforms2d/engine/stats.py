"""Mean and confidence interval over seeds (Student's t), for tables, figures and claim checks.

Exact for the integer degrees of freedom that seeds give, without SciPy: the two-sided t
probability has a closed form in ``θ = atan(t / √ν)`` (Abramowitz & Stegun 26.7.3–4), and the
quantile is found by bisection.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from typing import NamedTuple


class MeanCI(NamedTuple):
    """``mean`` of ``n`` values and its two-sided ``level`` CI ``[low, high]`` (NaN if n < 2)."""

    mean: float
    low: float
    high: float
    n: int
    level: float = 0.95

    @property
    def half(self) -> float:
        """Half-width of the interval (NaN when it is undefined)."""
        return (self.high - self.low) / 2

    def excludes(self, value: float = 0.0) -> bool:
        """Whether the interval is defined and lies strictly on one side of ``value``."""
        return self.n >= 2 and (self.low > value or self.high < value)

    def __str__(self) -> str:
        if self.n == 0:
            return "-"
        if self.n < 2:
            return f"{self.mean:.4f} (n=1, no CI)"
        return f"{self.mean:.4f} [{self.low:.4f}, {self.high:.4f}]"


def t_two_sided(t: float, df: int) -> float:
    """P(|T| < t) for Student's T with ``df`` (an int >= 1) degrees of freedom."""
    if t <= 0:
        return 0.0
    theta = math.atan(t / math.sqrt(df))
    c2, s = math.cos(theta) ** 2, math.sin(theta)
    if df % 2 == 0:
        term = total = 1.0
        for j in range(0, df - 2, 2):  # powers cos^0 .. cos^(df-2)
            term *= (j + 1) / (j + 2) * c2
            total += term
        return s * total
    term = total = math.cos(theta) if df > 1 else 0.0
    for j in range(1, df - 2, 2):  # powers cos^1 .. cos^(df-2)
        term *= (j + 1) / (j + 2) * c2
        total += term
    return 2 / math.pi * (theta + s * total)


def t_quantile(level: float, df: int) -> float:
    """The ``t`` with P(|T| < t) = ``level``: e.g. 12.706 for (0.95, 1), 2.262 for (0.95, 9)."""
    if not 0 < level < 1 or isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise ValueError(f"t_quantile needs 0 < level < 1 and an int df >= 1; got {level}, {df}")
    lo, hi = 0.0, 1.0
    while t_two_sided(hi, df) < level:
        lo, hi = hi, hi * 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_two_sided(mid, df) < level:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * hi:
            break
    return (lo + hi) / 2


def mean_ci(values: Iterable[float], level: float = 0.95) -> MeanCI:
    """Mean of ``values`` (one per seed) and its t-interval ``mean ± t·sd/√n``.

    With one value the interval is undefined (NaN bounds); with none the mean is NaN too.
    """
    xs = [float(v) for v in values]
    n = len(xs)
    if n == 0:
        return MeanCI(math.nan, math.nan, math.nan, 0, level)
    mean = statistics.fmean(xs)
    if n < 2:
        return MeanCI(mean, math.nan, math.nan, 1, level)
    half = t_quantile(level, n - 1) * statistics.stdev(xs) / math.sqrt(n)
    return MeanCI(mean, mean - half, mean + half, n, level)


def positive_effect(values: Iterable[float], min_n: int = 3,
                    level: float = 0.95) -> tuple[str, str | None, MeanCI]:
    """Check "the mean effect is > 0 and its ``level`` CI excludes 0" over per-seed values.

    Returns ``(verdict, note, ci)``: ``pass`` / ``fail``, or ``not run`` with a note when there
    are fewer than ``min_n`` values (a CI over so few seeds is not worth a verdict).
    """
    ci = mean_ci(values, level)
    if ci.n < min_n:
        return "not run", f"needs >= {min_n} seeds, got {ci.n}", ci
    return ("pass" if ci.low > 0 else "fail"), None, ci
