"""The coverage of the claims' interval at 5 seeds (docs/protocol.md §10.6): simulated per-seed
values whose mean is known, the share of intervals that contain it. The percentile bootstrap
(§9's method) is measured beside it and printed (``pytest -s``): it is what the t interval
replaced."""

from __future__ import annotations

import numpy as np
import pytest

from transforms2d.reporting.stats import bootstrap_ci, mean_ci, t_quantile

N_SEEDS = 5
TRIALS = 4000

#: name -> (draw of a (trials, n) array, its true mean); gamma(4): skewness 1.0
DISTRIBUTIONS = {
    "normal": (lambda rng, shape: rng.normal(0.3, 0.05, shape), 0.3),
    "gamma(4)": (lambda rng, shape: 0.01 * rng.gamma(4.0, 1.0, shape), 0.04),
}


def coverage(ci_of, draws: np.ndarray, mu: float) -> float:
    hits = [(ci.low <= mu <= ci.high) for ci in map(ci_of, draws)]
    return float(np.mean(hits))


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_the_t_interval_covers_at_five_seeds(name):
    draw, mu = DISTRIBUTIONS[name]
    draws = draw(np.random.default_rng(7), (TRIALS, N_SEEDS))
    t_cov = coverage(mean_ci, draws, mu)
    boot = coverage(lambda x: bootstrap_ci(x, resamples=1000), draws[:1000], mu)
    print(f"\n{name} n={N_SEEDS}: Student-t coverage {t_cov:.3f}, percentile bootstrap "
          f"{boot:.3f} (nominal 0.95)")
    assert t_cov >= 0.93, t_cov
    assert boot < t_cov  # the reason for the change, measured


def test_the_t_interval_is_the_textbook_one():
    xs = [0.1, 0.4, 0.2, 0.3, 0.5]
    ci = mean_ci(xs)
    half = t_quantile(0.975, 4) * np.std(xs, ddof=1) / np.sqrt(5)
    assert ci.mean == pytest.approx(0.3) and ci.high - ci.mean == pytest.approx(half)
    assert t_quantile(0.975, 4) == pytest.approx(2.7764451052, abs=1e-8)
    assert t_quantile(0.95, 10) == pytest.approx(1.8124611228, abs=1e-8)
    with pytest.raises(ValueError):
        t_quantile(0.4, 3)
